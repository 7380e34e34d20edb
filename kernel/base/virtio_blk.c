/* virtio-blk driver (virtio 1.x section 5.2): one request queue, synchronous requests of three
 * descriptors (header, data, status). Data moves straight between the device and the caller's
 * buffer (memory is identity-mapped); large requests are split in chunks of 64 KiB. */
#include "kbase.h"
#include "mm.h"
#include "devices.h"
#include "virtio.h"

#define F_BLK_SIZE 6
#define T_IN 0
#define T_OUT 1
#define CHUNK (64 * 1024)

struct vblk {
	struct virtio_dev *dev;
	struct virtq q;
	struct { uint32_t type, reserved; uint64_t sector; } *hdr;
	volatile uint8_t *status;
};

static struct vblk blks[MAX_BLKS];
static int n_vblks;

static int do_io(void *dev, bool write, uint64_t offset, uint8_t *buf, uint32_t len)
{
	struct vblk *b = dev;
	for (uint32_t done = 0; done < len;) {
		uint32_t n = len - done < CHUNK ? len - done : CHUNK;
		b->hdr->type = write ? T_OUT : T_IN;
		b->hdr->reserved = 0;
		b->hdr->sector = (offset + done) / 512;
		*b->status = 0xff;
		uint64_t addr[3] = { (uint64_t)b->hdr, (uint64_t)(buf + done), (uint64_t)b->status };
		uint32_t lens[3] = { 16, n, 1 };
		bool w[3] = { false, !write, true };
		int head = virtq_add(&b->q, addr, lens, w, 3);
		if (head < 0) return KILN_EUNSPEC;
		virtq_kick(&b->q);
		int id;
		while ((id = virtq_get(&b->q, NULL)) < 0) __asm__ volatile("pause");
		virtq_free_chain(&b->q, (uint16_t)id);
		if (*b->status != 0) return KILN_EUNSPEC;
		done += n;
	}
	return KILN_OK;
}

void virtio_blk_attach(struct virtio_dev *d)
{
	if (n_vblks >= MAX_BLKS) return;
	struct vblk *b = &blks[n_vblks];
	uint64_t f = virtio_negotiate(d, 1ULL << F_BLK_SIZE);
	if (f == ~0ULL) return;
	b->dev = d;
	if (virtq_init(d, &b->q, 0, 16)) return;
	b->q.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;	/* requests are polled */
	uint8_t *page = page_alloc(1);
	if (!page) return;
	b->hdr = (void *)page;
	b->status = page + 64;
	uint64_t sectors = 0;
	for (int i = 7; i >= 0; i--) sectors = sectors << 8 | d->ops->cfg_read8(d, (uint32_t)i);
	uint32_t bs = 512;
	if (f & (1ULL << F_BLK_SIZE)) {
		bs = 0;
		for (int i = 3; i >= 0; i--) bs = bs << 8 | d->ops->cfg_read8(d, 20 + (uint32_t)i);
		if (bs < 512 || bs > 65536 || (bs & (bs - 1))) bs = 512;
	}
	d->ops->set_status(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	struct blk *blk = blk_register();
	if (!blk) return;
	blk->capacity = sectors * 512 / bs * bs;
	blk->block_size = bs;
	blk->dev = b;
	blk->io = do_io;
	n_vblks++;
}
