/* Host test of the Xen PV protocol code (../xen_proto.c) against a small backend written here
 * from the Xen public interface: the console daemon's side of the console ring, a xenstore
 * daemon over the xenstore ring, and netback's side of the netif rings with grant checking.
 * Guest and backend share one process; the guest's `wait` runs the backend, as a hypervisor
 * switch would. Prints "ok <case>" per case; exits non-zero on the first failure. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../xen_proto.h"

#define PAGE 4096
#define GUEST_PAGES 1024
#define BACKEND_DOM 0

static uint8_t *guest;		/* "guest memory": frame n is guest + n * PAGE */
static struct grant_entry_v1 grant_table[1024];
static unsigned notifies, waits;

#define CHECK(cond, ...)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
			printf(__VA_ARGS__);                                      \
			printf("\n");                                             \
			exit(1);                                                  \
		}                                                                 \
	} while (0)

static uint64_t frame_of(void *ctx, const void *p)
{
	(void)ctx;
	return (uint64_t)((const uint8_t *)p - guest) / PAGE;
}

/* ---- backend: grant mapping as the hypervisor would check it ---- */
static uint8_t *grant_map(grant_ref_t ref, bool write, uint16_t flag)
{
	if (ref >= 1024) return NULL;
	struct grant_entry_v1 *e = &grant_table[ref];
	if (!(e->flags & GTF_permit_access) || e->domid != BACKEND_DOM) return NULL;
	if (write && (e->flags & GTF_readonly)) return NULL;
	if (e->frame >= GUEST_PAGES) return NULL;
	e->flags |= flag;
	return guest + (uint64_t)e->frame * PAGE;
}
static void grant_unmap(grant_ref_t ref, uint16_t flag) { grant_table[ref].flags &= (uint16_t)~flag; }

/* ---- backend: console daemon ---- */
static struct xencons_interface *cons;
static char cons_out[65536];
static size_t cons_len;

static void console_service(void)
{
	while (cons->out_cons != cons->out_prod && cons_len < sizeof cons_out)
		cons_out[cons_len++] = cons->out[cons->out_cons++ & (sizeof cons->out - 1)];
}

/* ---- backend: xenstore daemon ---- */
static struct xenstore_domain_interface *xs;
static struct { char key[128]; char value[4096]; } store[64];
static int nstore;
static char xs_in[8192];
static size_t xs_in_len;
static char xs_out[65536];
static size_t xs_out_len, xs_out_pos;
static bool xs_inject_watch;
static char xs_watched[128];
static unsigned xs_requests;

static void store_set(const char *k, const char *v, size_t vlen)
{
	int i;
	for (i = 0; i < nstore && strcmp(store[i].key, k); i++)
		;
	if (i == nstore) nstore++;
	snprintf(store[i].key, sizeof store[i].key, "%s", k);
	memcpy(store[i].value, v, vlen);
	store[i].value[vlen] = 0;
}

static const char *store_get(const char *k)
{
	for (int i = 0; i < nstore; i++)
		if (!strcmp(store[i].key, k)) return store[i].value;
	return NULL;
}

static void xs_reply(uint32_t type, uint32_t id, const void *payload, uint32_t len)
{
	struct xsd_sockmsg h = { type, id, 0, len };
	memcpy(xs_out + xs_out_len, &h, sizeof h);
	memcpy(xs_out + xs_out_len + sizeof h, payload, len);
	xs_out_len += sizeof h + len;
}

static void xenstore_service(void)
{
	while (xs->req_cons != xs->req_prod) xs_in[xs_in_len++] = xs->req[xs->req_cons++ & (XENSTORE_RING_SIZE - 1)];
	while (xs_in_len >= sizeof(struct xsd_sockmsg)) {
		struct xsd_sockmsg h;
		memcpy(&h, xs_in, sizeof h);
		if (xs_in_len < sizeof h + h.len) break;
		char *p = xs_in + sizeof h;
		if (xs_inject_watch) {	/* an unrelated event arrives before the answer */
			xs_reply(XS_WATCH_EVENT, 0, "some/path\0token", 15);
			xs_inject_watch = false;
		}
		xs_requests++;
		if (h.type == XS_WATCH) {
			size_t n = strnlen(p, sizeof xs_watched - 1);
			memcpy(xs_watched, p, n);
			xs_watched[n] = 0;
			xs_reply(XS_WATCH, h.req_id, "OK", 3);
		} else if (h.type == XS_READ) {
			const char *v = store_get(p);
			if (v) xs_reply(XS_READ, h.req_id, v, (uint32_t)strlen(v));
			else xs_reply(XS_ERROR, h.req_id, "ENOENT", 7);
		} else if (h.type == XS_WRITE) {
			size_t klen = strlen(p);
			store_set(p, p + klen + 1, h.len - klen - 1);
			xs_reply(XS_WRITE, h.req_id, "OK", 3);
		} else {
			xs_reply(XS_ERROR, h.req_id, "EINVAL", 7);
		}
		memmove(xs_in, xs_in + sizeof h + h.len, xs_in_len - sizeof h - h.len);
		xs_in_len -= sizeof h + h.len;
	}
	while (xs_out_pos < xs_out_len && xs->rsp_prod - xs->rsp_cons < XENSTORE_RING_SIZE)
		xs->rsp[xs->rsp_prod++ & (XENSTORE_RING_SIZE - 1)] = xs_out[xs_out_pos++];
	if (xs_out_pos == xs_out_len) xs_out_pos = xs_out_len = 0;
}

/* the toolstack (xl shutdown) writes a node; xenstored tells the watcher on its own */
static void toolstack_write(const char *key, const char *value)
{
	store_set(key, value, strlen(value));
	if (strcmp(key, xs_watched)) return;
	char ev[160];
	int n = snprintf(ev, sizeof ev, "%s%ckiln", key, 0);
	xs_reply(XS_WATCH_EVENT, 0, ev, (uint32_t)n + 1);
	xenstore_service();
}

/* ---- backend: netback ---- */
static struct netif_tx_sring *ntx;
static struct netif_rx_sring *nrx;
static grant_ref_t ntx_ref, nrx_ref;
static uint32_t tx_cons_b, rx_cons_b;
static uint8_t sent[2048][1600];
static uint32_t sent_len[2048], nsent, rx_dropped;

static void netback_tx(void)
{
	while (tx_cons_b != ntx->h.req_prod) {
		struct netif_tx_request q = ntx->ring[tx_cons_b & (NET_RING_SIZE - 1)].req;
		int16_t status = NETIF_RSP_ERROR;
		uint8_t *page = grant_map(q.gref, false, GTF_reading);
		if (page && q.offset + q.size <= PAGE && nsent < 2048) {
			memcpy(sent[nsent], page + q.offset, q.size);
			sent_len[nsent++] = q.size;
			status = NETIF_RSP_OKAY;
			grant_unmap(q.gref, GTF_reading);
		}
		struct netif_tx_response *r = &ntx->ring[tx_cons_b & (NET_RING_SIZE - 1)].rsp;
		r->id = q.id, r->status = status;
		tx_cons_b++;
		ntx->h.rsp_prod = tx_cons_b;
	}
	ntx->h.req_event = tx_cons_b + 1;
}

/* delivers one frame to the guest if it posted a buffer; status overrides the length */
static bool netback_rx(const uint8_t *f, uint32_t len, int16_t status_override)
{
	if (rx_cons_b == nrx->h.req_prod) {
		rx_dropped++;
		return false;
	}
	struct netif_rx_request q = nrx->ring[rx_cons_b & (NET_RING_SIZE - 1)].req;
	uint8_t *page = grant_map(q.gref, true, GTF_writing);
	CHECK(page, "rx request with an unusable grant %u", q.gref);
	memcpy(page + 64, f, len);
	grant_unmap(q.gref, GTF_writing);
	struct netif_rx_response *r = &nrx->ring[rx_cons_b & (NET_RING_SIZE - 1)].rsp;
	r->id = q.id, r->offset = 64, r->flags = 0, r->status = status_override ? status_override : (int16_t)len;
	rx_cons_b++;
	nrx->h.rsp_prod = rx_cons_b;
	return true;
}

static void env_notify(void *ctx, uint32_t port) { (void)ctx, (void)port, notifies++; }
static void env_wait(void *ctx)
{
	(void)ctx;
	waits++;
	console_service();
	xenstore_service();
}
static const struct xen_env env = { NULL, env_notify, env_wait, frame_of };

static void test_console(void)
{
	char msg[5000];
	for (size_t i = 0; i < sizeof msg; i++) msg[i] = (char)('a' + i % 26);
	/* a full ring takes only what fits */
	size_t n = xencons_write(cons, msg, sizeof msg);
	CHECK(n == 2048, "queued %zu", n);
	console_service();
	size_t total = n;
	while (total < sizeof msg) {
		total += xencons_write(cons, msg + total, 700 < sizeof msg - total ? 700 : sizeof msg - total);
		console_service();
	}
	CHECK(cons_len == sizeof msg && !memcmp(cons_out, msg, sizeof msg), "console received %zu bytes", cons_len);
	/* input direction */
	memcpy(cons->in, "xyz", 3);
	cons->in_prod = 3;
	char in[8];
	CHECK(xencons_read(cons, in, sizeof in) == 3 && !memcmp(in, "xyz", 3), "read");
	CHECK(cons->in_cons == 3, "in_cons");
	printf("ok console\n");
}

static void test_xenstore(void)
{
	struct xs_client c = { xs, 1, &env, 0 };
	char buf[4096];
	store_set("device/vif/0/backend", "/local/domain/0/backend/vif/5/0", 31);
	CHECK(xs_read(&c, "device/vif/0/backend", buf, sizeof buf) == 31 && !strcmp(buf, "/local/domain/0/backend/vif/5/0"), "read %s", buf);
	CHECK(xs_read(&c, "device/vif/9/backend", buf, sizeof buf) == -1 && !strcmp(buf, "ENOENT"), "missing key: %s", buf);
	CHECK(xs_write(&c, "device/vif/0/state", "4") == 0, "write");
	uint64_t v = 0;
	CHECK(xs_read_u64(&c, "device/vif/0/state", &v) && v == 4, "read back %lu", (unsigned long)v);
	/* a value larger than the ring: both directions wrap and block */
	char big[3000];
	for (size_t i = 0; i < sizeof big - 1; i++) big[i] = (char)('A' + i % 23);
	big[sizeof big - 1] = 0;
	CHECK(xs_write(&c, "data/big", big) == 0, "big write");
	CHECK(xs_read(&c, "data/big", buf, sizeof buf) == (int)strlen(big) && !strcmp(buf, big), "big read");
	/* an unrelated watch event before the answer is skipped */
	xs_inject_watch = true;
	CHECK(xs_read(&c, "device/vif/0/state", buf, sizeof buf) == 1 && buf[0] == '4', "after watch event: %s", buf);
	/* a reply longer than the caller's buffer is refused, and the stream stays in step */
	CHECK(xs_read(&c, "data/big", buf, 100) == -2, "short buffer");
	CHECK(xs_read(&c, "device/vif/0/state", buf, sizeof buf) == 1, "in step after a long reply");
	/* many requests: the free-running indices go round the ring many times */
	for (int i = 0; i < 500; i++) {
		char key[64], val[64];
		snprintf(key, sizeof key, "k/%d", i % 40);
		snprintf(val, sizeof val, "value-%d", i);
		CHECK(xs_write(&c, key, val) == 0, "write %d", i);
		CHECK(xs_read(&c, key, buf, sizeof buf) > 0 && !strcmp(buf, val), "read %d: %s", i, buf);
	}
	CHECK(xs->req_prod > 10 * XENSTORE_RING_SIZE, "indices wrapped: %u", xs->req_prod);
	printf("ok xenstore\n");
}

static void test_shutdown_watch(void)
{
	struct xs_client c = { xs, 1, &env, 0 };
	char buf[64];
	store_set("control/shutdown", "", 0);
	CHECK(xs_watch(&c, "control/shutdown", "kiln") == 0 && !strcmp(xs_watched, "control/shutdown"), "watch");
	unsigned before = xs_requests;
	CHECK(xs_shutdown_check(&c) == XS_SHUTDOWN_NONE, "nothing pending");
	CHECK(xs_requests == before, "no event, no round trip to xenstored");
	toolstack_write("control/shutdown", "poweroff");
	CHECK(xs_shutdown_check(&c) == XS_SHUTDOWN_POWEROFF, "poweroff");
	CHECK(!strcmp(store_get("control/shutdown"), ""), "acknowledged: [%s]", store_get("control/shutdown"));
	CHECK(xs->rsp_prod == xs->rsp_cons, "the ring is drained");
	/* the event caused by our own acknowledgement, or an unrelated one: nothing to do */
	toolstack_write("control/shutdown", "");
	CHECK(xs_shutdown_check(&c) == XS_SHUTDOWN_NONE, "empty node");
	toolstack_write("control/shutdown", "suspend");
	CHECK(xs_shutdown_check(&c) == XS_SHUTDOWN_NONE, "suspend is not supported: ignored");
	CHECK(!strcmp(store_get("control/shutdown"), "suspend"), "and not acknowledged");
	toolstack_write("control/shutdown", "reboot");
	CHECK(xs_shutdown_check(&c) == XS_SHUTDOWN_REBOOT, "reboot");
	/* other requests still work after events came and went */
	CHECK(xs_read(&c, "control/shutdown", buf, sizeof buf) == 0, "read after");
	printf("ok shutdown\n");
}

static void test_grants(void)
{
	struct gnttab g;
	static struct grant_entry_v1 small[64];
	gnttab_init(&g, small, 64);
	grant_ref_t refs[64];
	int n = 0;
	while ((refs[n] = gnttab_grant(&g, 7, 100 + (uint64_t)n, n % 2)) != 0) {
		CHECK(refs[n] >= GNTTAB_NR_RESERVED_ENTRIES && refs[n] < 64, "ref %u", refs[n]);
		CHECK(small[refs[n]].domid == 7 && small[refs[n]].frame == 100u + (unsigned)n, "entry");
		CHECK(small[refs[n]].flags == (GTF_permit_access | (n % 2 ? GTF_readonly : 0)), "flags %x", small[refs[n]].flags);
		n++;
	}
	CHECK(n == 64 - GNTTAB_NR_RESERVED_ENTRIES, "granted %d", n);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++) CHECK(refs[i] != refs[j], "duplicate ref");
	CHECK(!gnttab_end(&g, 3), "a reserved entry cannot be ended");
	small[refs[5]].flags |= GTF_reading;	/* the backend maps it */
	CHECK(!gnttab_end(&g, refs[5]), "ended while mapped");
	small[refs[5]].flags &= (uint16_t)~GTF_reading;
	CHECK(gnttab_end(&g, refs[5]) && small[refs[5]].flags == 0, "end");
	CHECK(!gnttab_end(&g, refs[5]) || small[refs[5]].flags == 0, "double end");
	grant_ref_t again = gnttab_grant(&g, 7, 999, false);
	CHECK(again == refs[5], "freed ref reused: %u", again);
	printf("ok grants\n");
}

static uint32_t frame_bytes(uint8_t *f, uint32_t seq)
{
	uint32_t len = 60 + (seq * 37) % 1455;
	for (uint32_t i = 0; i < len; i++) f[i] = (uint8_t)(seq + i * 13);
	memcpy(f, &seq, 4);
	return len;
}

static void test_netfront(void)
{
	static struct gnttab g;
	static struct netfront nf;
	gnttab_init(&g, grant_table, 1024);
	uint8_t *pages = guest + 16 * PAGE;
	CHECK(netfront_init(&nf, pages, &g, BACKEND_DOM, &env, &ntx_ref, &nrx_ref) == 0, "init");
	netfront_set_port(&nf, 9);
	/* the backend maps the rings through the grants the frontend published */
	ntx = (struct netif_tx_sring *)grant_map(ntx_ref, true, 0);
	nrx = (struct netif_rx_sring *)grant_map(nrx_ref, true, 0);
	CHECK(ntx == nf.tx && nrx == nf.rx, "ring grants");
	CHECK(nrx->h.req_prod == NET_RING_SIZE, "rx buffers posted: %u", nrx->h.req_prod);

	/* tx: 1000 frames, the backend runs every 10 */
	uint8_t f[1600], got[1600];
	unsigned n0 = notifies;
	for (uint32_t s = 0; s < 1000; s++) {
		uint32_t len = frame_bytes(f, s);
		CHECK(netfront_send(&nf, f, len) == 0, "send %u", s);
		if (s % 10 == 9) netback_tx();
	}
	netback_tx();
	CHECK(nsent == 1000, "backend got %u", nsent);
	for (uint32_t s = 0; s < 1000; s++) {
		uint32_t len = frame_bytes(f, s);
		CHECK(sent_len[s] == len && !memcmp(sent[s], f, len), "frame %u differs", s);
	}
	CHECK(notifies - n0 >= 100 && notifies - n0 <= 1000, "tx notifications %u", notifies - n0);
	/* a stalled backend: the ring fills, then AGAIN, with a single notification */
	nsent = 0;
	n0 = notifies;
	uint32_t ok = 0;
	for (uint32_t s = 0; s < 300; s++) ok += netfront_send(&nf, f, 100) == 0;
	CHECK(ok == NET_RING_SIZE, "accepted %u with a stalled backend", ok);
	CHECK(notifies - n0 == 1, "notifications while stalled: %u", notifies - n0);
	netback_tx();
	CHECK(netfront_send(&nf, f, 100) == 0, "send after the backend caught up");
	netback_tx();
	CHECK(netfront_send(&nf, f, PAGE + 1) == 2, "oversized frame refused");

	/* rx: 1000 frames interleaved with reads */
	for (uint32_t s = 0; s < 1000; s++) {
		uint32_t len = frame_bytes(f, s);
		CHECK(netback_rx(f, len, 0), "rx %u dropped", s);
		if (s % 3 == 2 || s == 999) {
			uint32_t l;
			for (uint32_t k = s - (s % 3 == 2 ? 2 : s % 3); k <= s; k++) {
				CHECK(netfront_recv(&nf, got, sizeof got, &l) == 0, "recv %u", k);
				uint32_t want = frame_bytes(f, k);
				CHECK(l == want && !memcmp(got, f, want), "rx frame %u differs", k);
			}
		}
	}
	uint32_t l;
	CHECK(netfront_recv(&nf, got, sizeof got, &l) == 1 && !netfront_pending(&nf), "empty ring answers AGAIN");
	/* flood: with the guest not reading, only the posted buffers fill, the rest is dropped */
	uint32_t delivered = 0;
	for (uint32_t s = 0; s < 1000; s++) delivered += netback_rx(f, frame_bytes(f, s), 0);
	CHECK(delivered == NET_RING_SIZE && rx_dropped == 1000 - NET_RING_SIZE, "flood: %u delivered %u dropped", delivered, rx_dropped);
	uint32_t read = 0;
	while (netfront_recv(&nf, got, sizeof got, &l) == 0) read++;
	CHECK(read == NET_RING_SIZE, "read %u after the flood", read);
	CHECK(netback_rx(f, frame_bytes(f, 5), 0), "buffers re-posted after the flood");
	CHECK(netfront_recv(&nf, got, sizeof got, &l) == 0 && l == frame_bytes(f, 5), "recv after flood");
	/* an error response and a frame bigger than the caller's buffer are skipped, not fatal */
	netback_rx(f, 100, NETIF_RSP_ERROR);
	netback_rx(f, 1500, 0);
	netback_rx(f, 80, 0);
	CHECK(netfront_recv(&nf, got, 200, &l) == 0 && l == 80, "skips bad responses: %u", l);
	CHECK(nf.rx_errors == 2, "rx errors %lu", (unsigned long)nf.rx_errors);
	printf("ok netfront\n");
}

int main(void)
{
	guest = aligned_alloc(PAGE, (size_t)GUEST_PAGES * PAGE);
	memset(guest, 0, (size_t)GUEST_PAGES * PAGE);
	cons = (struct xencons_interface *)(guest + 1 * PAGE);
	xs = (struct xenstore_domain_interface *)(guest + 2 * PAGE);
	test_console();
	test_xenstore();
	test_shutdown_watch();
	test_grants();
	test_netfront();
	free(guest);
	printf("all ok\n");
	return 0;
}
