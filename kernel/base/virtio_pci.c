/* virtio over PCI, modern interface (virtio 1.x section 4.1): vendor capabilities locate the
 * common, notify, ISR and device configuration structures in the BARs; interrupts by MSI-X
 * (one vector per device). PCI configuration space through ports 0xcf8/0xcfc, bus 0 only
 * (q35 and pc put plugged devices there unless told otherwise). */
#include "kbase.h"
#include "mm.h"
#include "devices.h"
#include "virtio.h"

#define MAX_PCI_VIRTIO 12
static struct virtio_dev devs[MAX_PCI_VIRTIO];
static int n_devs;

static uint32_t pci_r32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	outl(0xcf8, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (off & 0xfc));
	return inl(0xcfc);
}

static void pci_w32(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (off & 0xfc));
	outl(0xcfc, v);
}

static uint8_t pci_r8(unsigned b, unsigned d, unsigned f, unsigned off) { return (uint8_t)(pci_r32(b, d, f, off) >> (8 * (off & 3))); }

static uint64_t bar_addr(unsigned b, unsigned d, unsigned f, unsigned bar)
{
	uint32_t lo = pci_r32(b, d, f, 0x10 + 4 * bar);
	if (lo & 1) return 0;	/* I/O BAR: not used by the modern interface */
	uint64_t a = lo & ~0xfULL;
	if ((lo & 6) == 4) a |= (uint64_t)pci_r32(b, d, f, 0x14 + 4 * bar) << 32;
	return a;
}

/* Firmware like qboot leaves BARs unassigned: give every unassigned memory BAR an address in
 * the 32-bit PCI hole, from 0xe0000000 (above the RAM of pc and q35 below 4 GiB, below the
 * IOAPIC), naturally aligned. */
static uint64_t next_mmio = 0xe0000000ULL;

static void assign_bars(unsigned b, unsigned d, unsigned f)
{
	for (unsigned bar = 0; bar < 6; bar++) {
		unsigned off = 0x10 + 4 * bar;
		uint32_t lo = pci_r32(b, d, f, off);
		if (lo & 1) continue;	/* I/O */
		bool is64 = (lo & 6) == 4;
		uint64_t cur = (lo & ~0xfULL) | (is64 ? (uint64_t)pci_r32(b, d, f, off + 4) << 32 : 0);
		pci_w32(b, d, f, off, 0xffffffffu);
		uint64_t mask = pci_r32(b, d, f, off) & ~0xfULL;
		if (is64) {
			pci_w32(b, d, f, off + 4, 0xffffffffu);
			mask |= (uint64_t)pci_r32(b, d, f, off + 4) << 32;
		} else if (mask) {
			mask |= 0xffffffff00000000ULL;
		}
		uint64_t size = ~mask + 1;
		/* absent, or placed by the firmware below 4 GiB: restore. qboot puts 64-bit BARs above
		 * 4 GiB, which the boot page tables do not reach: those move into the window. */
		if (!mask || (cur && cur + size <= 0x100000000ULL)) {
			pci_w32(b, d, f, off, lo);
			if (is64) pci_w32(b, d, f, off + 4, (uint32_t)(cur >> 32));
		} else {
			uint64_t a = ALIGN_UP(next_mmio, size);
			next_mmio = a + size;
			pci_w32(b, d, f, off, (uint32_t)a | (lo & 0xf));
			if (is64) pci_w32(b, d, f, off + 4, (uint32_t)(a >> 32));
		}
		if (is64) bar++;
	}
}

#define C_DFSEL 0x00
#define C_DF 0x04
#define C_GFSEL 0x08
#define C_GF 0x0c
#define C_MSIX_CONFIG 0x10
#define C_STATUS 0x14
#define C_Q_SELECT 0x16
#define C_Q_SIZE 0x18
#define C_Q_MSIX 0x1a
#define C_Q_ENABLE 0x1c
#define C_Q_NOTIFY_OFF 0x1e
#define C_Q_DESC 0x20
#define C_Q_DRIVER 0x28
#define C_Q_DEVICE 0x30

static uint64_t get_features(struct virtio_dev *d)
{
	mmio_w32(d->base + C_DFSEL, 0);
	uint64_t lo = mmio_r32(d->base + C_DF);
	mmio_w32(d->base + C_DFSEL, 1);
	return lo | (uint64_t)mmio_r32(d->base + C_DF) << 32;
}

static void set_features(struct virtio_dev *d, uint64_t f)
{
	mmio_w32(d->base + C_GFSEL, 0);
	mmio_w32(d->base + C_GF, (uint32_t)f);
	mmio_w32(d->base + C_GFSEL, 1);
	mmio_w32(d->base + C_GF, (uint32_t)(f >> 32));
}

static uint8_t get_status(struct virtio_dev *d) { return mmio_r8(d->base + C_STATUS); }
static void set_status(struct virtio_dev *d, uint8_t s) { mmio_w8(d->base + C_STATUS, s); }
static uint8_t cfg_read8(struct virtio_dev *d, uint32_t off) { return mmio_r8(d->devcfg + off); }

static uint16_t queue_max(struct virtio_dev *d, uint16_t q)
{
	mmio_w16(d->base + C_Q_SELECT, q);
	return mmio_r16(d->base + C_Q_SIZE);
}

static void w64(uint64_t a, uint64_t v) { mmio_w32(a, (uint32_t)v), mmio_w32(a + 4, (uint32_t)(v >> 32)); }

static int queue_setup(struct virtio_dev *d, struct virtq *vq)
{
	if (vq->index >= 4) return -1;
	mmio_w16(d->base + C_Q_SELECT, vq->index);
	mmio_w16(d->base + C_Q_SIZE, vq->size);
	mmio_w16(d->base + C_Q_MSIX, 0);	/* MSI-X table entry 0 */
	if (mmio_r16(d->base + C_Q_MSIX) != 0) return -1;
	w64(d->base + C_Q_DESC, (uint64_t)vq->desc);
	w64(d->base + C_Q_DRIVER, (uint64_t)vq->avail);
	w64(d->base + C_Q_DEVICE, (uint64_t)vq->used);
	d->notify_off[vq->index] = mmio_r16(d->base + C_Q_NOTIFY_OFF);
	mmio_w16(d->base + C_Q_ENABLE, 1);
	return 0;
}

static void notify(struct virtio_dev *d, uint16_t q)
{
	mmio_w16(d->notify_base + (uint64_t)d->notify_off[q] * d->notify_mul, q);
}

static const struct virtio_ops pci_ops = {
	get_features, set_features, get_status, set_status, cfg_read8, queue_max, queue_setup, notify, NULL,
};

static bool setup_msix(struct virtio_dev *d, unsigned b, unsigned dv, unsigned f, unsigned cap)
{
	uint32_t hdr = pci_r32(b, dv, f, cap);
	uint32_t table = pci_r32(b, dv, f, cap + 4);
	uint64_t base = bar_addr(b, dv, f, table & 7);
	if (!base) return false;
	uint64_t entry = base + (table & ~7u);
	mm_map_mmio(entry, 16);
	d->vector = irq_alloc_vector(virtio_irq, d);
	mmio_w32(entry + 0, 0xfee00000u);	/* to APIC 0 */
	mmio_w32(entry + 4, 0);
	mmio_w32(entry + 8, d->vector);		/* fixed, edge */
	mmio_w32(entry + 12, 0);		/* unmasked */
	pci_w32(b, dv, f, cap, hdr | (1u << 31));	/* MSI-X enable */
	return true;
}

static void probe_fn(unsigned b, unsigned dv, unsigned f)
{
	uint32_t id = pci_r32(b, dv, f, 0);
	if ((id & 0xffff) != 0x1af4) return;
	uint32_t did = id >> 16, type;
	if (did >= 0x1041 && did <= 0x107f) type = did - 0x1040;
	else if (did >= 0x1000 && did <= 0x103f) type = pci_r32(b, dv, f, 0x2c) >> 16;	/* transitional: subsystem id */
	else return;
	if (type != VIRTIO_ID_NET && type != VIRTIO_ID_BLK) return;
	if (n_devs >= MAX_PCI_VIRTIO) return;
	struct virtio_dev *d = &devs[n_devs];
	memset(d, 0, sizeof *d);
	d->ops = &pci_ops, d->device_id = type;
	assign_bars(b, dv, f);
	/* memory space + bus master on, legacy INTx off */
	pci_w32(b, dv, f, 0x04, (pci_r32(b, dv, f, 0x04) & 0xffff) | 0x6 | 0x400);
	unsigned msix = 0;
	for (unsigned cap = pci_r8(b, dv, f, 0x34) & 0xfc; cap; cap = pci_r8(b, dv, f, cap + 1) & 0xfc) {
		uint8_t cid = pci_r8(b, dv, f, cap);
		if (cid == 0x11) msix = cap;
		if (cid != 0x09) continue;
		uint8_t cfg_type = pci_r8(b, dv, f, cap + 3), bar = pci_r8(b, dv, f, cap + 4);
		uint32_t off = pci_r32(b, dv, f, cap + 8), len = pci_r32(b, dv, f, cap + 12);
		uint64_t base = bar_addr(b, dv, f, bar);
		if (!base || bar > 5) continue;
		uint64_t a = base + off;
		switch (cfg_type) {
		case 1: d->base = a; break;
		case 2: d->notify_base = a, d->notify_mul = pci_r32(b, dv, f, cap + 16); break;
		case 3: d->isr = a; break;
		case 4: d->devcfg = a; break;
		default: continue;
		}
		mm_map_mmio(a, len);
	}
	if (!d->base || !d->notify_base || !d->devcfg || !msix) {
		kprintf("kiln: virtio-pci %02x:%02x.%x lacks the modern interface, ignored\n", b, dv, f);
		return;
	}
	if (!setup_msix(d, b, dv, f, msix)) return;
	mmio_w16(d->base + C_MSIX_CONFIG, 0xffff);	/* no config-change interrupts */
	n_devs++;
	virtio_attach(d);
}

void virtio_pci_probe(void)
{
	/* a PCI host bridge answers at 00:00.0; microvm has none */
	if ((pci_r32(0, 0, 0, 0) & 0xffff) == 0xffff) return;
	for (unsigned dv = 0; dv < 32; dv++) {
		uint32_t id = pci_r32(0, dv, 0, 0);
		if ((id & 0xffff) == 0xffff) continue;
		bool multi = pci_r8(0, dv, 0, 0x0e) & 0x80;
		for (unsigned f = 0; f < (multi ? 8u : 1u); f++) probe_fn(0, dv, f);
	}
}
