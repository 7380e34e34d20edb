/* The stats channel (ABI.md section 4): one line on COM2 at most once a second, only when
 * something changed, never waking an idle guest. */
#include "kbase.h"
#include "devices.h"
#include "mm.h"
#include "appliance.h"

static uint64_t mem_in_use(void) { return mm_used_bytes() - appliance_mem_unused(); }

#define PERIOD_NS 1000000000ULL

static uint64_t last_ns, last_sum;
static bool reported;

static uint64_t checksum(void)
{
	uint64_t s = mem_in_use() * 31;
	for (int i = 0; i < g_n_nics; i++) {
		const struct nic_stats *n = &g_nics[i].stats;
		s += n->rx_bytes + n->rx_packets * 3 + n->rx_drops * 5 + n->tx_bytes * 7 + n->tx_packets * 11 + n->tx_drops * 13;
	}
	for (int i = 0; i < g_n_blks; i++) {
		const struct blk_stats *b = &g_blks[i].stats;
		s += b->rd_bytes * 17 + b->rd_ops * 19 + b->wr_bytes * 23 + b->wr_ops * 29 + b->errors * 37;
	}
	return s;
}

static void report(uint64_t now)
{
	char line[1024];
	size_t n = (size_t)ksnprintf(line, sizeof line, "kiln-stats 1 t=%lu mem=%lu/%lu", now / 1000000,
				     mem_in_use(), mm_total_bytes());
	for (int i = 0; i < g_n_nics && n < sizeof line; i++) {
		const struct nic_stats *s = &g_nics[i].stats;
		n += (size_t)ksnprintf(line + n, sizeof line - n, " net%d=%lu/%lu/%lu/%lu/%lu/%lu", i, s->rx_bytes,
				       s->rx_packets, s->rx_drops, s->tx_bytes, s->tx_packets, s->tx_drops);
	}
	for (int i = 0; i < g_n_blks && n < sizeof line; i++) {
		const struct blk_stats *s = &g_blks[i].stats;
		n += (size_t)ksnprintf(line + n, sizeof line - n, " blk%d=%lu/%lu/%lu/%lu/%lu", i, s->rd_bytes, s->rd_ops,
				       s->wr_bytes, s->wr_ops, s->errors);
	}
	if (n > sizeof line - 2) n = sizeof line - 2;
	line[n++] = '\n';
	com2_write(line, n);
	last_ns = now;
	last_sum = checksum();
	reported = true;
}

void stats_maybe_report(bool force)
{
	uint64_t now = clock_mono_ns();
	if (force || !reported) {
		report(now);
		return;
	}
	if (now - last_ns >= PERIOD_NS && checksum() != last_sum) report(now);
}

/* the next time a line is due, or 0 when nothing changed (an idle guest is left asleep) */
uint64_t stats_next_due_ns(void)
{
	if (!reported || checksum() == last_sum) return 0;
	return last_ns + PERIOD_NS;
}

void stats_final(void)
{
	if (reported) report(clock_mono_ns());
}
