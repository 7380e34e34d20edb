/* virtio-net driver (virtio 1.x section 5.1): one receive and one transmit queue, no offloads,
 * no mergeable buffers, so each frame is one buffer: a virtio_net_hdr (12 bytes; 10 for a
 * legacy device) then the frame. Receive buffers are refilled as frames are taken; transmit
 * buffers are reclaimed lazily, and a full ring answers AGAIN.
 * Notifications are batched: a notify is an MMIO write that traps to the device model (under TCG
 * it also takes QEMU's global lock, which its I/O thread holds while it moves frames), and it
 * cost as much guest time per request as the whole TCP input path. Sent frames are announced
 * once per TX_BATCH, when the ring fills, and by flush() at the next yield; refilled receive
 * buffers when the ring is empty (the caller is about to wait) or every RX_BATCH. Receive
 * interrupts are off while the appliance runs (it polls at every yield) and on while it sleeps
 * (irq_enable), so a burst of frames costs no interrupts. */
#include "kbase.h"
#include "mm.h"
#include "devices.h"
#include "virtio.h"

#define F_MTU 3
#define F_MAC 5
#define RXQ 0
#define TXQ 1
#define QSIZE 256
#define BUF 2048
#define MAX_FRAME 1514
#define TX_BATCH 32
#define RX_BATCH 32

struct vnet {
	struct virtio_dev *dev;
	struct virtq rx, tx;
	uint8_t *rxbuf, *txbuf;	/* QSIZE buffers of BUF bytes each, indexed by descriptor id */
	uint32_t hdr_len;
	struct nic *nic;
	uint16_t tx_unkicked, rx_unkicked;	/* buffers published since the last notify */
};

static struct vnet nets[MAX_NICS];
static int n_nets;

/* Each descriptor id owns the buffer at id * BUF, so the address is set before publishing. */
static void rx_post(struct vnet *n)
{
	uint16_t id = n->rx.free_head;
	uint64_t addr = (uint64_t)(n->rxbuf + (uint64_t)id * BUF);
	uint32_t len = BUF;
	bool w = true;
	virtq_add(&n->rx, &addr, &len, &w, 1);
}

static void rx_kick(struct vnet *n)
{
	if (!n->rx_unkicked) return;
	n->rx_unkicked = 0;
	virtq_kick(&n->rx);
}

static void tx_kick(struct vnet *n)
{
	if (!n->tx_unkicked) return;
	n->tx_unkicked = 0;
	virtq_kick(&n->tx);
}

static bool pending(void *dev)
{
	struct vnet *n = dev;
	if (virtq_has_used(&n->rx)) return true;
	rx_kick(n);	/* the caller may sleep next: the device must know every free buffer */
	return false;
}

static void flush(void *dev)
{
	tx_kick(dev);
}

/* VRING_AVAIL_F_NO_INTERRUPT on the receive queue: a hint the device may ignore, so the caller
 * checks pending() after enabling and before sleeping. */
static void irq_enable(void *dev, bool on)
{
	struct vnet *n = dev;
	n->rx.avail->flags = on ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
	mb();
}

static int recv(void *dev, uint8_t *buf, uint32_t cap, uint32_t *out_len)
{
	struct vnet *n = dev;
	for (;;) {
		uint32_t len;
		int id = virtq_get(&n->rx, &len);
		if (id < 0) {
			rx_kick(n);
			return KILN_AGAIN;
		}
		const uint8_t *p = n->rxbuf + (uint64_t)id * BUF + n->hdr_len;
		uint32_t flen = len > n->hdr_len ? len - n->hdr_len : 0;
		bool ok = flen >= 14 && flen <= cap && flen <= MAX_FRAME + 4;
		if (ok) memcpy(buf, p, flen);
		virtq_free_chain(&n->rx, (uint16_t)id);
		rx_post(n);
		if (++n->rx_unkicked >= RX_BATCH) rx_kick(n);
		if (ok) {
			*out_len = flen;
			return KILN_OK;
		}
		n->nic->stats.rx_drops++;	/* malformed or oversized: skip it */
	}
}

static void tx_reclaim(struct vnet *n)
{
	int id;
	while ((id = virtq_get(&n->tx, NULL)) >= 0) virtq_free_chain(&n->tx, (uint16_t)id);
}

static int send(void *dev, const uint8_t *buf, uint32_t len)
{
	struct vnet *n = dev;
	if (len > MAX_FRAME + 4) return KILN_EINVAL;
	tx_reclaim(n);
	if (!n->tx.num_free) {
		tx_kick(n);	/* the device may not have seen the frames that fill the ring */
		return KILN_AGAIN;
	}
	uint8_t *b = n->txbuf + (uint64_t)n->tx.free_head * BUF;	/* the id virtq_add will use */
	memset(b, 0, n->hdr_len);
	memcpy(b + n->hdr_len, buf, len);
	uint64_t addr = (uint64_t)b;
	uint32_t l = n->hdr_len + len;
	bool w = false;
	virtq_add(&n->tx, &addr, &l, &w, 1);
	if (++n->tx_unkicked >= TX_BATCH) tx_kick(n);
	return KILN_OK;
}

void virtio_net_attach(struct virtio_dev *d)
{
	if (n_nets >= MAX_NICS) return;
	struct vnet *n = &nets[n_nets];
	uint64_t f = virtio_negotiate(d, 1ULL << F_MAC | 1ULL << F_MTU);
	if (f == ~0ULL) return;
	n->dev = d;
	n->hdr_len = d->legacy ? 10 : 12;
	if (virtq_init(d, &n->rx, RXQ, QSIZE) || virtq_init(d, &n->tx, TXQ, QSIZE)) {
		kprintf("kiln: virtio-net: queue setup failed\n");
		d->ops->set_status(d, VIRTIO_STATUS_FAILED);
		return;
	}
	n->rxbuf = page_alloc((uint64_t)n->rx.size * BUF / PAGE_SIZE);
	n->txbuf = page_alloc((uint64_t)n->tx.size * BUF / PAGE_SIZE);
	if (!n->rxbuf || !n->txbuf) panic("virtio-net: out of memory");
	n->tx.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;	/* reclaimed lazily */
	struct nic *nic = nic_register();
	if (!nic) return;
	n->nic = nic;
	nic->dev = n, nic->recv = recv, nic->send = send, nic->pending = pending;
	nic->flush = flush, nic->irq_enable = irq_enable;
	for (int i = 0; i < 6; i++) nic->mac[i] = f & (1ULL << F_MAC) ? d->ops->cfg_read8(d, (uint32_t)i) : (uint8_t)(i ? 0x10 * i : 0x02);
	nic->mtu = 1500;
	if (f & (1ULL << F_MTU)) {
		uint32_t mtu = d->ops->cfg_read8(d, 10) | d->ops->cfg_read8(d, 11) << 8;
		if (mtu >= 68 && mtu < 1500) nic->mtu = mtu;
	}
	d->ops->set_status(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	while (n->rx.num_free) rx_post(n);
	n->rx.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;	/* until the first sleep */
	virtq_kick(&n->rx);
	n_nets++;
}
