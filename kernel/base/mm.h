#ifndef MM_H
#define MM_H
#include <stdint.h>
#include <stdbool.h>

/* hvm_memmap_table_entry (Xen public/arch-x86/hvm/start_info.h), type 1 = RAM */
struct mem_region {
	uint64_t addr, size;
	uint32_t type, reserved;
};

void mm_init(const struct mem_region *map, uint32_t n);
/* Page allocator: contiguous zeroed 4 KiB pages, NULL when out of memory. */
void *page_alloc(uint64_t npages);
void page_free(void *p, uint64_t npages);
/* Byte allocator for the runtime (never freed). */
void *kalloc(uint64_t size, uint64_t align);
uint64_t mm_used_bytes(void);
uint64_t mm_total_bytes(void);
/* The largest free range left, for the appliance's linear memory; unmapped guard follows it. */
void mm_take_rest(uint64_t *base, uint64_t *size);
/* Marks [addr, addr+len) as device memory (uncached, no-exec) in the final page tables. */
void mm_map_mmio(uint64_t addr, uint64_t len);
/* Leaves [addr, addr+len) unmapped once sealed (guard pages). */
void mm_guard(uint64_t addr, uint64_t len);
/* Executable range of the appliance blob (from kiln_rt_code_range). */
void mm_set_appliance(uint64_t addr, uint64_t size, uint64_t code_off, uint64_t code_len);
/* Builds the final page tables (W^X), switches to them and makes them read-only. */
void mm_seal(void);
bool mm_sealed(void);

#endif
