/* Device tables and probing: virtio-mmio devices announced on the command line (microvm),
 * virtio-pci devices on the PCI bus (q35/pc), Xen netfront under Xen. */
#include "kbase.h"
#include "devices.h"
#include "virtio.h"
#include "xen/xen_platform.h"

struct nic g_nics[MAX_NICS];
int g_n_nics;
struct blk g_blks[MAX_BLKS];
int g_n_blks;

struct nic *nic_register(void) { return g_n_nics < MAX_NICS ? &g_nics[g_n_nics++] : NULL; }
struct blk *blk_register(void) { return g_n_blks < MAX_BLKS ? &g_blks[g_n_blks++] : NULL; }

void devices_init(void)
{
	if (g_boot.xen) {
		xen_devices_init();
	} else {
		virtio_mmio_probe_cmdline();
		virtio_pci_probe();
	}
}

uint64_t devices_ready(void)
{
	uint64_t r = 0;
	for (int i = 0; i < g_n_nics; i++)
		if (g_nics[i].pending(g_nics[i].dev)) r |= 1ULL << i;
	return r;
}

void devices_flush(void)
{
	for (int i = 0; i < g_n_nics; i++)
		if (g_nics[i].flush) g_nics[i].flush(g_nics[i].dev);
}

void devices_irq_enable(bool on)
{
	for (int i = 0; i < g_n_nics; i++)
		if (g_nics[i].irq_enable) g_nics[i].irq_enable(g_nics[i].dev, on);
}
