/* Xen PV protocols, independent of how the pages were obtained and how notifications travel:
 * the console ring, xenstore requests, grant-table bookkeeping and netfront's rx/tx rings.
 * Compiled into the base and, for the host tests, into a Linux program with a fake backend. */
#ifndef XEN_PROTO_H
#define XEN_PROTO_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "xen_public.h"

/* What the protocols need from their environment. */
struct xen_env {
	void *ctx;
	void (*notify)(void *ctx, uint32_t port);	/* EVTCHNOP_send */
	void (*wait)(void *ctx);			/* block until something may have changed */
	uint64_t (*frame_of)(void *ctx, const void *page);	/* guest frame number of a page */
};

/* console: queue as much as fits; returns bytes queued */
size_t xencons_write(struct xencons_interface *r, const char *s, size_t n);
size_t xencons_read(struct xencons_interface *r, char *buf, size_t n);

/* xenstore client: one request at a time */
struct xs_client {
	struct xenstore_domain_interface *ring;
	uint32_t port;
	const struct xen_env *env;
	uint32_t next_id;
};
/* Sends type with payload (parts joined, each NUL-terminated unless it is the last of a
 * write), waits for its answer. Returns the reply length, or -1 for XS_ERROR (reply holds the
 * error name, e.g. "ENOENT") or -2 for a malformed/oversized reply. */
int xs_request(struct xs_client *c, uint32_t type, const char *const *parts, int nparts, char *reply, size_t size);
int xs_read(struct xs_client *c, const char *path, char *buf, size_t size);	/* NUL-terminated */
int xs_write(struct xs_client *c, const char *path, const char *value);
bool xs_read_u64(struct xs_client *c, const char *path, uint64_t *out);
int xs_watch(struct xs_client *c, const char *path, const char *token);
/* control/shutdown after a watch event (xl shutdown / xl reboot); acknowledges what it returns */
enum { XS_SHUTDOWN_NONE, XS_SHUTDOWN_POWEROFF, XS_SHUTDOWN_REBOOT };
int xs_shutdown_check(struct xs_client *c);

/* grant table v1 bookkeeping over a table of n entries */
#define GNTTAB_MAX 2048
struct gnttab {
	struct grant_entry_v1 *entries;
	uint32_t n, free_head, free_count;
	uint32_t next[GNTTAB_MAX];
};
void gnttab_init(struct gnttab *g, struct grant_entry_v1 *entries, uint32_t n);
/* returns a grant reference, or 0 when the table is full (refs below 8 are reserved) */
grant_ref_t gnttab_grant(struct gnttab *g, uint16_t domid, uint64_t frame, bool readonly);
/* revokes access; false (and the grant stays) while the backend still maps it */
bool gnttab_end(struct gnttab *g, grant_ref_t ref);

/* netfront: one tx and one rx ring, one page per buffer, copy-mode rx */
struct netfront {
	struct netif_tx_sring *tx;
	struct netif_rx_sring *rx;
	uint32_t tx_prod, tx_cons, rx_prod, rx_cons;
	uint8_t *tx_pages[NET_RING_SIZE], *rx_pages[NET_RING_SIZE];
	grant_ref_t tx_gref[NET_RING_SIZE], rx_gref[NET_RING_SIZE];
	uint16_t tx_free[NET_RING_SIZE];
	uint32_t tx_nfree;
	struct gnttab *gt;
	uint16_t backend;
	uint32_t port;
	const struct xen_env *env;
	uint64_t rx_errors;
};
/* pages: 2 ring pages + 2 * NET_RING_SIZE buffer pages, page-aligned, zeroed. Grants the rings
 * and every rx buffer; ring grant refs are returned for xenstore. 0 on success. */
int netfront_init(struct netfront *nf, uint8_t *pages, struct gnttab *gt, uint16_t backend, const struct xen_env *env,
		  grant_ref_t *tx_ring_ref, grant_ref_t *rx_ring_ref);
void netfront_set_port(struct netfront *nf, uint32_t port);
/* 0 = OK, 1 = AGAIN (KILN_OK/KILN_AGAIN), 3 = error response skipped */
int netfront_send(struct netfront *nf, const uint8_t *frame, uint32_t len);
int netfront_recv(struct netfront *nf, uint8_t *buf, uint32_t cap, uint32_t *len);
bool netfront_pending(struct netfront *nf);

#endif
