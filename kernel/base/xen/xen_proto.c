/* Xen PV protocols (see xen_proto.h). Ring indices are free-running 32-bit counters; a ring
 * slot is index & (size - 1). Memory barriers: the producer writes entries before publishing
 * the index, the consumer reads the index before the entries (x86 is TSO; the compiler barrier
 * keeps the order). */
#include "xen_proto.h"

void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#define wmb() __asm__ volatile("" ::: "memory")
#define rmb() __asm__ volatile("" ::: "memory")
#define ACCESS(x) (*(volatile __typeof__(x) *)&(x))

size_t xencons_write(struct xencons_interface *r, const char *s, size_t n)
{
	uint32_t cons = ACCESS(r->out_cons), prod = r->out_prod;
	rmb();
	size_t done = 0;
	while (done < n && prod - cons < sizeof r->out) {
		r->out[prod & (sizeof r->out - 1)] = s[done++];
		prod++;
	}
	wmb();
	ACCESS(r->out_prod) = prod;
	return done;
}

size_t xencons_read(struct xencons_interface *r, char *buf, size_t n)
{
	uint32_t cons = r->in_cons, prod = ACCESS(r->in_prod);
	rmb();
	size_t done = 0;
	while (done < n && cons != prod) buf[done++] = r->in[cons++ & (sizeof r->in - 1)];
	wmb();
	ACCESS(r->in_cons) = cons;
	return done;
}

/* ---- xenstore ---- */

static void xs_put(struct xs_client *c, const void *data, size_t n)
{
	struct xenstore_domain_interface *r = c->ring;
	const char *p = data;
	while (n) {
		uint32_t cons = ACCESS(r->req_cons), prod = r->req_prod;
		rmb();
		if (prod - cons >= XENSTORE_RING_SIZE) {
			c->env->notify(c->env->ctx, c->port);
			c->env->wait(c->env->ctx);
			continue;
		}
		r->req[prod & (XENSTORE_RING_SIZE - 1)] = *p++;
		n--;
		wmb();
		ACCESS(r->req_prod) = prod + 1;
	}
}

static void xs_get(struct xs_client *c, void *data, size_t n)
{
	struct xenstore_domain_interface *r = c->ring;
	char *p = data;
	while (n) {
		uint32_t cons = r->rsp_cons, prod = ACCESS(r->rsp_prod);
		rmb();
		if (cons == prod) {
			c->env->wait(c->env->ctx);
			continue;
		}
		*p++ = r->rsp[cons & (XENSTORE_RING_SIZE - 1)];
		n--;
		wmb();
		ACCESS(r->rsp_cons) = cons + 1;
	}
}

int xs_request(struct xs_client *c, uint32_t type, const char *const *parts, int nparts, char *reply, size_t size)
{
	uint32_t len = 0;
	for (int i = 0; i < nparts; i++) len += (uint32_t)strlen(parts[i]) + (type == XS_WRITE && i == nparts - 1 ? 0 : 1);
	if (len > XENSTORE_PAYLOAD_MAX) return -2;
	struct xsd_sockmsg m = { type, ++c->next_id, 0, len };
	xs_put(c, &m, sizeof m);
	for (int i = 0; i < nparts; i++) xs_put(c, parts[i], strlen(parts[i]) + (type == XS_WRITE && i == nparts - 1 ? 0 : 1));
	c->env->notify(c->env->ctx, c->port);
	for (;;) {
		struct xsd_sockmsg h;
		xs_get(c, &h, sizeof h);
		if (h.len > XENSTORE_PAYLOAD_MAX) return -2;
		/* watch events and stale answers are read and dropped */
		bool mine = h.req_id == m.req_id && h.type != XS_WATCH_EVENT;
		uint32_t keep = mine && h.len < size ? h.len : (mine && size ? (uint32_t)size - 1 : 0);
		if (mine) xs_get(c, reply, keep);
		for (uint32_t i = keep; i < h.len; i++) {
			char sink;
			xs_get(c, &sink, 1);
		}
		c->env->notify(c->env->ctx, c->port);
		if (!mine) continue;
		if (size) reply[keep] = 0;
		if (h.type == XS_ERROR) return -1;
		if (h.len >= size) return -2;
		return (int)h.len;
	}
}

int xs_read(struct xs_client *c, const char *path, char *buf, size_t size)
{
	const char *parts[] = { path };
	int n = xs_request(c, XS_READ, parts, 1, buf, size);
	if (n >= 0) buf[n] = 0;
	return n;
}

int xs_write(struct xs_client *c, const char *path, const char *value)
{
	const char *parts[] = { path, value };
	char ok[8];
	int n = xs_request(c, XS_WRITE, parts, 2, ok, sizeof ok);
	return n < 0 ? n : 0;
}

bool xs_read_u64(struct xs_client *c, const char *path, uint64_t *out)
{
	char buf[32];
	int n = xs_read(c, path, buf, sizeof buf);
	if (n <= 0) return false;
	uint64_t v = 0;
	for (int i = 0; i < n; i++) {
		if (buf[i] < '0' || buf[i] > '9') return false;
		v = v * 10 + (uint64_t)(buf[i] - '0');
	}
	*out = v;
	return true;
}

int xs_watch(struct xs_client *c, const char *path, const char *token)
{
	const char *parts[] = { path, token };
	char ok[8];
	int n = xs_request(c, XS_WATCH, parts, 2, ok, sizeof ok);
	return n < 0 ? n : 0;
}

/* Between requests the only thing xenstored puts on the response ring is a watch event: its
 * presence is the cheap test (no hypercall, no round trip) for "control/shutdown may have
 * changed". The events are drained, the node read, and a request acknowledged by writing ""
 * back, as xl expects. */
int xs_shutdown_check(struct xs_client *c)
{
	struct xenstore_domain_interface *r = c->ring;
	if (ACCESS(r->rsp_prod) == r->rsp_cons) return XS_SHUTDOWN_NONE;
	while (ACCESS(r->rsp_prod) != r->rsp_cons) {
		struct xsd_sockmsg h;
		xs_get(c, &h, sizeof h);
		for (uint32_t i = 0; i < h.len && i <= XENSTORE_PAYLOAD_MAX; i++) {
			char sink;
			xs_get(c, &sink, 1);
		}
	}
	c->env->notify(c->env->ctx, c->port);
	char v[32];
	if (xs_read(c, "control/shutdown", v, sizeof v) <= 0) return XS_SHUTDOWN_NONE;
	int what = !strcmp(v, "poweroff") || !strcmp(v, "halt") ? XS_SHUTDOWN_POWEROFF
		   : !strcmp(v, "reboot")			 ? XS_SHUTDOWN_REBOOT
								 : XS_SHUTDOWN_NONE;
	if (what != XS_SHUTDOWN_NONE) xs_write(c, "control/shutdown", "");
	return what;
}

/* ---- grant table ---- */

void gnttab_init(struct gnttab *g, struct grant_entry_v1 *entries, uint32_t n)
{
	if (n > GNTTAB_MAX) n = GNTTAB_MAX;
	g->entries = entries, g->n = n;
	g->free_head = 0, g->free_count = 0;
	for (uint32_t r = n; r-- > GNTTAB_NR_RESERVED_ENTRIES;) {
		g->next[r] = g->free_head;
		g->free_head = r;
		g->free_count++;
	}
}

grant_ref_t gnttab_grant(struct gnttab *g, uint16_t domid, uint64_t frame, bool readonly)
{
	if (!g->free_count) return 0;
	grant_ref_t r = g->free_head;
	g->free_head = g->next[r];
	g->free_count--;
	struct grant_entry_v1 *e = &g->entries[r];
	e->domid = domid;
	e->frame = (uint32_t)frame;
	wmb();	/* frame and domid before the flags that make the entry valid */
	ACCESS(e->flags) = (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0));
	return r;
}

bool gnttab_end(struct gnttab *g, grant_ref_t ref)
{
	if (ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= g->n) return false;
	struct grant_entry_v1 *e = &g->entries[ref];
	uint16_t flags = ACCESS(e->flags);
	if (flags & (GTF_reading | GTF_writing)) return false;
	/* clear only if the backend did not start using it meanwhile */
	if (!__atomic_compare_exchange_n(&e->flags, &flags, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return false;
	g->next[ref] = g->free_head;
	g->free_head = ref;
	g->free_count++;
	return true;
}

/* ---- netfront ---- */

#define PAGE 4096u
#define MASK (NET_RING_SIZE - 1)

static void rx_post(struct netfront *nf, uint16_t id)
{
	struct netif_rx_request *q = &nf->rx->ring[nf->rx_prod & MASK].req;
	q->id = id;
	q->gref = nf->rx_gref[id];
	nf->rx_prod++;
}

static void rx_publish(struct netfront *nf)
{
	wmb();
	uint32_t old = ACCESS(nf->rx->h.req_prod);
	ACCESS(nf->rx->h.req_prod) = nf->rx_prod;
	__asm__ volatile("mfence" ::: "memory");
	/* notify only if the backend asked to be told about requests in (old, new] */
	uint32_t ev = ACCESS(nf->rx->h.req_event);
	if ((uint32_t)(nf->rx_prod - ev) < (uint32_t)(nf->rx_prod - old)) nf->env->notify(nf->env->ctx, nf->port);
}

int netfront_init(struct netfront *nf, uint8_t *pages, struct gnttab *gt, uint16_t backend, const struct xen_env *env,
		  grant_ref_t *tx_ring_ref, grant_ref_t *rx_ring_ref)
{
	memset(nf, 0, sizeof *nf);
	nf->tx = (struct netif_tx_sring *)pages;
	nf->rx = (struct netif_rx_sring *)(pages + PAGE);
	nf->gt = gt, nf->backend = backend, nf->env = env;
	nf->tx->h.req_event = nf->tx->h.rsp_event = 1;
	nf->rx->h.req_event = nf->rx->h.rsp_event = 1;
	*tx_ring_ref = gnttab_grant(gt, backend, env->frame_of(env->ctx, nf->tx), false);
	*rx_ring_ref = gnttab_grant(gt, backend, env->frame_of(env->ctx, nf->rx), false);
	if (!*tx_ring_ref || !*rx_ring_ref) return -1;
	for (uint32_t i = 0; i < NET_RING_SIZE; i++) {
		nf->tx_pages[i] = pages + (2 + i) * PAGE;
		nf->rx_pages[i] = pages + (2 + NET_RING_SIZE + i) * PAGE;
		nf->tx_free[i] = (uint16_t)(NET_RING_SIZE - 1 - i);
		/* rx buffers stay granted (writable) for the device's lifetime; tx pages are granted
		 * read-only once too, so sending is one copy and one request */
		nf->rx_gref[i] = gnttab_grant(gt, backend, env->frame_of(env->ctx, nf->rx_pages[i]), false);
		nf->tx_gref[i] = gnttab_grant(gt, backend, env->frame_of(env->ctx, nf->tx_pages[i]), true);
		if (!nf->rx_gref[i] || !nf->tx_gref[i]) return -1;
	}
	nf->tx_nfree = NET_RING_SIZE;
	for (uint16_t i = 0; i < NET_RING_SIZE; i++) rx_post(nf, i);
	wmb();
	nf->rx->h.req_prod = nf->rx_prod;
	return 0;
}

void netfront_set_port(struct netfront *nf, uint32_t port) { nf->port = port; }

static void tx_reclaim(struct netfront *nf)
{
	uint32_t prod = ACCESS(nf->tx->h.rsp_prod);
	rmb();
	while (nf->tx_cons != prod) {
		struct netif_tx_response *r = &nf->tx->ring[nf->tx_cons & MASK].rsp;
		if (r->id < NET_RING_SIZE) nf->tx_free[nf->tx_nfree++] = r->id;
		nf->tx_cons++;
	}
	ACCESS(nf->tx->h.rsp_event) = nf->tx_cons + 1;
}

int netfront_send(struct netfront *nf, const uint8_t *frame, uint32_t len)
{
	if (len > PAGE) return 2;
	tx_reclaim(nf);
	if (!nf->tx_nfree || nf->tx_prod - nf->tx_cons >= NET_RING_SIZE) return 1;
	uint16_t id = nf->tx_free[--nf->tx_nfree];
	memcpy(nf->tx_pages[id], frame, len);
	struct netif_tx_request *q = &nf->tx->ring[nf->tx_prod & MASK].req;
	q->gref = nf->tx_gref[id], q->offset = 0, q->flags = 0, q->id = id, q->size = (uint16_t)len;
	nf->tx_prod++;
	wmb();
	uint32_t old = ACCESS(nf->tx->h.req_prod);
	ACCESS(nf->tx->h.req_prod) = nf->tx_prod;
	__asm__ volatile("mfence" ::: "memory");
	uint32_t ev = ACCESS(nf->tx->h.req_event);
	if ((uint32_t)(nf->tx_prod - ev) < (uint32_t)(nf->tx_prod - old)) nf->env->notify(nf->env->ctx, nf->port);
	return 0;
}

bool netfront_pending(struct netfront *nf)
{
	return ACCESS(nf->rx->h.rsp_prod) != nf->rx_cons;
}

int netfront_recv(struct netfront *nf, uint8_t *buf, uint32_t cap, uint32_t *len)
{
	for (;;) {
		uint32_t prod = ACCESS(nf->rx->h.rsp_prod);
		rmb();
		if (nf->rx_cons == prod) {
			ACCESS(nf->rx->h.rsp_event) = nf->rx_cons + 1;
			return 1;
		}
		struct netif_rx_response r = nf->rx->ring[nf->rx_cons & MASK].rsp;
		nf->rx_cons++;
		bool ok = r.id < NET_RING_SIZE && r.status > 0 && !(r.flags & NETRXF_more_data) &&
			  (uint32_t)r.offset + (uint32_t)r.status <= PAGE && (uint32_t)r.status <= cap;
		if (ok) memcpy(buf, nf->rx_pages[r.id] + r.offset, (uint32_t)r.status);
		if (r.id < NET_RING_SIZE) {
			rx_post(nf, r.id);
			rx_publish(nf);
		}
		if (ok) {
			*len = (uint32_t)r.status;
			return 0;
		}
		nf->rx_errors++;
	}
}
