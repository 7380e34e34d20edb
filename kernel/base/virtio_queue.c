/* Split virtqueues (virtio 1.x section 2.7). Guest memory is identity-mapped, so a buffer's
 * virtual address is the address the device sees. */
#include "kbase.h"
#include "mm.h"
#include "virtio.h"
#include "devices.h"

uint64_t virtio_negotiate(struct virtio_dev *d, uint64_t wanted)
{
	d->ops->set_status(d, 0);	/* reset */
	d->ops->set_status(d, VIRTIO_STATUS_ACK);
	d->ops->set_status(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	uint64_t offered = d->ops->get_features(d);
	if (!d->legacy) wanted |= 1ULL << VIRTIO_F_VERSION_1;
	uint64_t f = offered & wanted;
	if (!d->legacy && !(f & (1ULL << VIRTIO_F_VERSION_1))) goto fail;
	d->ops->set_features(d, f);
	if (!d->legacy) {
		d->ops->set_status(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
		if (!(d->ops->get_status(d) & VIRTIO_STATUS_FEATURES_OK)) goto fail;
	}
	return f;
fail:
	d->ops->set_status(d, VIRTIO_STATUS_FAILED);
	return ~0ULL;
}

int virtq_init(struct virtio_dev *d, struct virtq *vq, uint16_t index, uint16_t max_size)
{
	uint16_t n = d->ops->queue_max(d, index);
	if (!n) return -1;
	if (n > max_size) n = max_size;
	vq->size = n, vq->index = index, vq->dev = d;
	/* legacy layout in one block: desc, avail, pad to 4096, used */
	uint64_t desc_bytes = 16ULL * n, avail_bytes = 6 + 2ULL * n;
	uint64_t used_off = ALIGN_UP(desc_bytes + avail_bytes, 4096);
	uint64_t total = used_off + ALIGN_UP(6 + 8ULL * n, 4096);
	uint8_t *mem = page_alloc(total / PAGE_SIZE);
	if (!mem) return -1;
	vq->desc = (struct vring_desc *)mem;
	vq->avail = (struct vring_avail *)(mem + desc_bytes);
	vq->used = (volatile struct vring_used *)(mem + used_off);
	for (uint16_t i = 0; i < n; i++) vq->desc[i].next = (uint16_t)(i + 1);
	vq->free_head = 0, vq->num_free = n, vq->last_used = 0, vq->avail_idx = 0;
	return d->ops->queue_setup(d, vq);
}

int virtq_add(struct virtq *vq, const uint64_t *addr, const uint32_t *len, const bool *write, int n)
{
	if (vq->num_free < n) return -1;
	uint16_t head = vq->free_head, i = head, last = head;
	for (int k = 0; k < n; k++) {
		struct vring_desc *d = &vq->desc[i];
		d->addr = addr[k], d->len = len[k];
		d->flags = (uint16_t)((write[k] ? VRING_DESC_F_WRITE : 0) | (k + 1 < n ? VRING_DESC_F_NEXT : 0));
		last = i;
		i = d->next;
	}
	vq->free_head = vq->desc[last].next;
	vq->num_free = (uint16_t)(vq->num_free - n);
	vq->avail->ring[vq->avail_idx % vq->size] = head;
	barrier();
	vq->avail_idx++;
	vq->avail->idx = vq->avail_idx;
	return head;
}

/* The device sets VRING_USED_F_NO_NOTIFY while it is polling the ring itself: then a notify
 * (a VM exit) is wasted. */
void virtq_kick(struct virtq *vq)
{
	mb();
	if (!(vq->used->flags & 1)) vq->dev->ops->notify(vq->dev, vq->index);
}

bool virtq_has_used(struct virtq *vq)
{
	return vq->used->idx != vq->last_used;
}

int virtq_get(struct virtq *vq, uint32_t *len)
{
	if (vq->used->idx == vq->last_used) return -1;
	barrier();
	volatile struct vring_used_elem *e = &vq->used->ring[vq->last_used % vq->size];
	int id = (int)e->id;
	if (len) *len = e->len;
	vq->last_used++;
	return id;
}

void virtq_free_chain(struct virtq *vq, uint16_t head)
{
	uint16_t i = head, n = 1;
	while (vq->desc[i].flags & VRING_DESC_F_NEXT) i = vq->desc[i].next, n++;
	vq->desc[i].next = vq->free_head;
	vq->free_head = head;
	vq->num_free = (uint16_t)(vq->num_free + n);
}

void virtio_irq(void *arg)
{
	struct virtio_dev *d = arg;
	d->irq_seen = true;
	if (d->ops->irq_ack) d->ops->irq_ack(d);
}

void virtio_attach(struct virtio_dev *d)
{
	if (d->device_id == VIRTIO_ID_NET) virtio_net_attach(d);
	else if (d->device_id == VIRTIO_ID_BLK) virtio_blk_attach(d);
}
