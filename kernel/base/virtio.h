/* virtio 1.x: split virtqueues and the two transports (mmio on microvm, PCI on q35/pc).
 * The legacy virtio-mmio register layout (version 1, QEMU's default on microvm unless
 * force-legacy=false) is driven too, with the same split ring. */
#ifndef VIRTIO_H
#define VIRTIO_H
#include <stdint.h>
#include <stdbool.h>

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLK 2
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_FAILED 128

struct vring_desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
struct vring_avail { uint16_t flags, idx, ring[]; };
#define VRING_AVAIL_F_NO_INTERRUPT 1
struct vring_used_elem { uint32_t id, len; };
struct vring_used { uint16_t flags, idx; struct vring_used_elem ring[]; };

struct virtio_dev;

struct virtq {
	uint16_t size, index;
	struct vring_desc *desc;
	struct vring_avail *avail;
	volatile struct vring_used *used;
	uint16_t last_used, free_head, num_free, avail_idx;
	struct virtio_dev *dev;
};

struct virtio_ops {
	uint64_t (*get_features)(struct virtio_dev *d);
	void (*set_features)(struct virtio_dev *d, uint64_t f);
	uint8_t (*get_status)(struct virtio_dev *d);
	void (*set_status)(struct virtio_dev *d, uint8_t s);
	uint8_t (*cfg_read8)(struct virtio_dev *d, uint32_t off);
	uint16_t (*queue_max)(struct virtio_dev *d, uint16_t q);
	/* tells the device where the rings are; 0 on success */
	int (*queue_setup)(struct virtio_dev *d, struct virtq *vq);
	void (*notify)(struct virtio_dev *d, uint16_t q);
	/* acknowledges the interrupt (mmio: InterruptACK) */
	void (*irq_ack)(struct virtio_dev *d);
};

struct virtio_dev {
	const struct virtio_ops *ops;
	uint32_t device_id;
	uint64_t base;		/* mmio registers / PCI common cfg */
	bool legacy;
	/* PCI: */
	uint64_t notify_base, isr, devcfg;
	uint32_t notify_mul;
	uint16_t notify_off[4];
	unsigned gsi, vector;
	bool irq_seen;
};

void virtio_mmio_probe_cmdline(void);
void virtio_pci_probe(void);
/* common: negotiate features (VERSION_1 | wanted), FEATURES_OK; returns the accepted set or ~0 on failure */
uint64_t virtio_negotiate(struct virtio_dev *d, uint64_t wanted);
int virtq_init(struct virtio_dev *d, struct virtq *vq, uint16_t index, uint16_t max_size);
/* chain of n buffers; returns head id or -1 when the ring is full */
int virtq_add(struct virtq *vq, const uint64_t *addr, const uint32_t *len, const bool *write, int n);
void virtq_kick(struct virtq *vq);
/* next completed chain: returns head id or -1; *len = bytes written by the device */
int virtq_get(struct virtq *vq, uint32_t *len);
bool virtq_has_used(struct virtq *vq);
void virtq_free_chain(struct virtq *vq, uint16_t head);
void virtio_irq(void *arg);

/* drivers */
void virtio_net_attach(struct virtio_dev *d);
void virtio_blk_attach(struct virtio_dev *d);
void virtio_attach(struct virtio_dev *d);

#endif
