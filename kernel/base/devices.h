/* Device layer used by the host calls: NICs and block devices behind one table each. */
#ifndef DEVICES_H
#define DEVICES_H
#include <stdint.h>
#include <stdbool.h>

#define MAX_NICS 8
#define MAX_BLKS 4

struct nic_stats { uint64_t rx_bytes, rx_packets, rx_drops, tx_bytes, tx_packets, tx_drops; };
struct blk_stats { uint64_t rd_bytes, rd_ops, wr_bytes, wr_ops, errors; };

struct nic {
	uint8_t mac[6];
	uint32_t mtu;
	void *dev;
	/* returns frame length, 0 when none; copies at most cap bytes */
	int (*recv)(void *dev, uint8_t *buf, uint32_t cap, uint32_t *len);
	int (*send)(void *dev, const uint8_t *buf, uint32_t len);
	bool (*pending)(void *dev);
	/* optional (NULL: send hands each frame over itself): hands queued frames to the device */
	void (*flush)(void *dev);
	/* optional: receive interrupts on (while yield sleeps) or off (while the appliance runs) */
	void (*irq_enable)(void *dev, bool on);
	struct nic_stats stats;
};

struct blk {
	uint64_t capacity, block_size;
	void *dev;
	int (*io)(void *dev, bool write, uint64_t offset, uint8_t *buf, uint32_t len);
	struct blk_stats stats;
};

extern struct nic g_nics[MAX_NICS];
extern int g_n_nics;
extern struct blk g_blks[MAX_BLKS];
extern int g_n_blks;

struct nic *nic_register(void);
struct blk *blk_register(void);
void devices_init(void);
/* polled after every interrupt and by yield: bit h set when NIC h has a frame */
uint64_t devices_ready(void);
/* hands every NIC's queued transmit frames to its device (yield and exit call it) */
void devices_flush(void);
/* receive interrupts of every NIC on or off */
void devices_irq_enable(bool on);

/* clock.c */
void clock_init(void);
uint64_t clock_mono_ns(void);
uint64_t clock_wall_ns(void);
/* timer.c: sleeps with interrupts enabled until deadline (monotonic ns) or any interrupt */
void timer_init(void);
void timer_sleep_until(uint64_t deadline_ns);
/* interrupts from devices: allocate a vector, route a GSI (IOAPIC) to it */
unsigned irq_alloc_vector(void (*fn)(void *), void *arg);
void ioapic_route_at(uint64_t ioapic, unsigned pin, unsigned vector, bool level);
void lapic_eoi(void);

/* stats.c */
void stats_maybe_report(bool force);
uint64_t stats_next_due_ns(void);

#endif
