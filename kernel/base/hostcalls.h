/* The call interface of ABI.md section 1, on the base side. Pointers are offsets into the
 * appliance's linear memory, checked by mem_at(); the Wasm import adapters (appliance.c) and the
 * C test appliance (testapp/) call exactly these functions. */
#ifndef HOSTCALLS_H
#define HOSTCALLS_H
#include <stdint.h>

/* Where the appliance's memory is: a runtime instance, or a plain buffer for the C appliance. */
void hc_set_native_memory(uint8_t *base, uint64_t size);
void hc_set_instance(void *inst);
/* NULL unless [off, off+len) lies inside the appliance's memory */
uint8_t *mem_at(uint64_t off, uint64_t len);

int32_t hc_console_write(uint32_t ptr, uint32_t len);
int64_t hc_clock_monotonic(void);
int64_t hc_clock_wall(void);
int64_t hc_yield(int64_t deadline);
int32_t hc_net_count(void);
int32_t hc_net_info(int32_t h, uint32_t out);
int32_t hc_net_read(int32_t h, uint32_t buf, uint32_t size, uint32_t len_out);
int32_t hc_net_write(int32_t h, uint32_t buf, uint32_t len);
int32_t hc_block_count(void);
int32_t hc_block_info(int32_t h, uint32_t out);
int32_t hc_block_read(int32_t h, int64_t offset, uint32_t buf, uint32_t len);
int32_t hc_block_write(int32_t h, int64_t offset, uint32_t buf, uint32_t len);
int32_t hc_args_get(uint32_t buf, uint32_t size);
int32_t hc_config_get(uint32_t buf, uint32_t size);
int32_t hc_random_get(uint32_t buf, uint32_t len);
_Noreturn void hc_exit(int32_t status);
/* AssemblyScript abort(msg, file, line, col): strings are UTF-16 with the length at ptr - 4 */
_Noreturn void hc_abort(uint32_t msg, uint32_t file, uint32_t line, uint32_t col);

/* the configuration blob, set by appliance.c from the runtime (or by the C appliance) */
void hc_set_config(const uint8_t *data, uint64_t len);

#endif
