#ifndef APPLIANCE_H
#define APPLIANCE_H
#include <stdint.h>

/* The descriptor the Kiln linker fills, by file offset of the ELF section .kiln_appliance
 * (ABI.md section 5). magic 0 = no appliance. */
#define KILN_APPLIANCE_MAGIC 0x314e4c4b4e4c494bULL	/* "KILNKLN1" little-endian */
struct kiln_appliance_desc {
	uint64_t magic;
	uint64_t addr;		/* physical = virtual address of the blob's first byte */
	uint64_t size;		/* bytes of the blob */
	uint64_t reserved;	/* config_len: the configuration JSON follows the blob (addr + size) */
};

uint64_t appliance_end(void);
/* bytes of the linear-memory reserve the appliance has not grown into (not "in use") */
uint64_t appliance_mem_unused(void);
extern volatile struct kiln_appliance_desc kiln_appliance;

#endif
