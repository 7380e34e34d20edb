/* virtio over MMIO (virtio 1.x section 4.2), as on QEMU's microvm: 24 transports of 512 bytes
 * from 0xfeb00000; empty ones read DeviceID 0. The interrupt line of each comes from the
 * command line QEMU writes when ACPI is off (virtio_mmio.device=512@0xADDR:GSI); with ACPI on,
 * microvm wires transport i to pin i of a second IOAPIC at 0xfec10000 (GSI 24 + i) when it has
 * one (userspace or split irqchip, the default), else to GSI 16 + i. */
#include "kbase.h"
#include "mm.h"
#include "devices.h"
#include "virtio.h"

#define MMIO_BASE 0xfeb00000ULL
#define MMIO_SLOTS 24
#define IOAPIC2 0xfec10000ULL

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_GUEST_PAGE_SIZE 0x028
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_ALIGN 0x03c
#define R_QUEUE_PFN 0x040
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC 0x080
#define R_QUEUE_DRIVER 0x090
#define R_QUEUE_DEVICE 0x0a0
#define R_CONFIG 0x100

static struct virtio_dev devs[MMIO_SLOTS];

static uint32_t rd(struct virtio_dev *d, uint32_t r) { return mmio_r32(d->base + r); }
static void wr(struct virtio_dev *d, uint32_t r, uint32_t v) { mmio_w32(d->base + r, v); }

static uint64_t get_features(struct virtio_dev *d)
{
	wr(d, R_DEV_FEATURES_SEL, 0);
	uint64_t lo = rd(d, R_DEV_FEATURES);
	wr(d, R_DEV_FEATURES_SEL, 1);
	return lo | (uint64_t)rd(d, R_DEV_FEATURES) << 32;
}

static void set_features(struct virtio_dev *d, uint64_t f)
{
	wr(d, R_DRV_FEATURES_SEL, 0);
	wr(d, R_DRV_FEATURES, (uint32_t)f);
	wr(d, R_DRV_FEATURES_SEL, 1);
	wr(d, R_DRV_FEATURES, (uint32_t)(f >> 32));
}

static uint8_t get_status(struct virtio_dev *d) { return (uint8_t)rd(d, R_STATUS); }
static void set_status(struct virtio_dev *d, uint8_t s) { wr(d, R_STATUS, s); }
static uint8_t cfg_read8(struct virtio_dev *d, uint32_t off) { return mmio_r8(d->base + R_CONFIG + off); }

static uint16_t queue_max(struct virtio_dev *d, uint16_t q)
{
	wr(d, R_QUEUE_SEL, q);
	return (uint16_t)rd(d, R_QUEUE_NUM_MAX);
}

static int queue_setup(struct virtio_dev *d, struct virtq *vq)
{
	wr(d, R_QUEUE_SEL, vq->index);
	wr(d, R_QUEUE_NUM, vq->size);
	if (d->legacy) {
		wr(d, R_QUEUE_ALIGN, 4096);
		wr(d, R_QUEUE_PFN, (uint32_t)((uint64_t)vq->desc >> 12));
		return 0;
	}
	uint64_t a = (uint64_t)vq->desc, b = (uint64_t)vq->avail, c = (uint64_t)vq->used;
	wr(d, R_QUEUE_DESC, (uint32_t)a), wr(d, R_QUEUE_DESC + 4, (uint32_t)(a >> 32));
	wr(d, R_QUEUE_DRIVER, (uint32_t)b), wr(d, R_QUEUE_DRIVER + 4, (uint32_t)(b >> 32));
	wr(d, R_QUEUE_DEVICE, (uint32_t)c), wr(d, R_QUEUE_DEVICE + 4, (uint32_t)(c >> 32));
	wr(d, R_QUEUE_READY, 1);
	return 0;
}

static void notify(struct virtio_dev *d, uint16_t q) { wr(d, R_QUEUE_NOTIFY, q); }
static void irq_ack(struct virtio_dev *d) { wr(d, R_INT_ACK, rd(d, R_INT_STATUS)); }

static const struct virtio_ops mmio_ops = {
	get_features, set_features, get_status, set_status, cfg_read8, queue_max, queue_setup, notify, irq_ack,
};

/* the GSI the command line gives for the transport at addr, or -1 */
static int cmdline_gsi(uint64_t addr)
{
	const char *s = g_boot.cmdline, *key = "virtio_mmio.device=";
	size_t klen = strlen(key);
	for (; *s; s++) {
		if (strncmp(s, key, klen) != 0) continue;
		const char *p = s + klen;
		while (*p && *p != '@') p++;
		if (*p != '@' || p[1] != '0' || p[2] != 'x') continue;
		p += 3;
		uint64_t a = 0;
		for (;; p++) {
			int v = *p >= '0' && *p <= '9' ? *p - '0' : (*p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : (*p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1));
			if (v < 0) break;
			a = a * 16 + (uint64_t)v;
		}
		if (a != addr || *p != ':') continue;
		int gsi = 0;
		for (p++; *p >= '0' && *p <= '9'; p++) gsi = gsi * 10 + (*p - '0');
		return gsi;
	}
	return -1;
}

static void route(struct virtio_dev *d, int slot)
{
	d->vector = irq_alloc_vector(virtio_irq, d);
	int gsi = cmdline_gsi(d->base);
	if (gsi >= 0) {
		ioapic_route_at(0xfec00000ULL, (unsigned)gsi, d->vector, true);
		return;
	}
	/* a second IOAPIC answers its version register (index 1) with version 0x11 or 0x20 and
	 * its last pin; unassigned memory reads 0 or all-ones */
	mmio_w32(IOAPIC2, 1);
	uint32_t ver = mmio_r32(IOAPIC2 + 0x10);
	if (((ver & 0xff) == 0x11 || (ver & 0xff) == 0x20) && (ver >> 16 & 0xff) >= 7) {
		mm_map_mmio(IOAPIC2, PAGE_SIZE);
		ioapic_route_at(IOAPIC2, (unsigned)slot, d->vector, true);
	} else {
		/* one IOAPIC (KVM's in-kernel irqchip): GSI 16 + i with ACPI, 5 + i without */
		ioapic_route_at(0xfec00000ULL, (g_boot.rsdp ? 16 : 5) + (unsigned)slot, d->vector, true);
	}
}

void virtio_mmio_probe_cmdline(void)
{
	/* QEMU fills the transports from the top: walking down gives the command-line order */
	for (int i = MMIO_SLOTS - 1; i >= 0; i--) {
		uint64_t base = MMIO_BASE + (uint64_t)i * 0x200;
		if (mmio_r32(base + R_MAGIC) != 0x74726976) continue;	/* "virt" */
		uint32_t ver = mmio_r32(base + R_VERSION), id = mmio_r32(base + R_DEVICE_ID);
		if (!id || (ver != 1 && ver != 2)) continue;
		struct virtio_dev *d = &devs[i];
		d->ops = &mmio_ops, d->device_id = id, d->base = base, d->legacy = ver == 1;
		mm_map_mmio(base, 0x200);
		if (d->legacy) mmio_w32(base + R_GUEST_PAGE_SIZE, 4096);
		route(d, i);
		virtio_attach(d);
	}
}
