/* The base under Xen (PVH): hypercall page, shared info (pvclock, wall clock, event bits), the
 * PV console, poweroff/crash through SCHEDOP_shutdown, and netfront devices found in xenstore.
 * The protocols themselves live in xen_proto.c, tested on the host (xen/test). */
#include "../kbase.h"
#include "../mm.h"
#include "../devices.h"
#include "xen_platform.h"
#include "xen_proto.h"

extern uint8_t hypercall_page[];
static struct shared_info *shared;
static struct xencons_interface *cons;
static uint32_t cons_port;
static struct xs_client xs;
static bool xs_watching;
static struct gnttab gt;
static uint8_t shared_page[4096] __attribute__((aligned(4096)));
#define GNT_FRAMES 4
static uint8_t grant_frames[GNT_FRAMES][4096] __attribute__((aligned(4096)));

static long hypercall(unsigned nr, uint64_t a1, uint64_t a2)
{
	long ret;
	register uint64_t rdi __asm__("rdi") = a1;
	register uint64_t rsi __asm__("rsi") = a2;
	__asm__ volatile("call *%[fn]"
			 : "=a"(ret), "+r"(rdi), "+r"(rsi)
			 : [fn] "r"(hypercall_page + nr * 32)
			 : "memory", "rcx", "rdx", "r8", "r9", "r10", "r11");
	return ret;
}

static uint64_t hvm_param(uint32_t index)
{
	struct xen_hvm_param p = { DOMID_SELF, 0, index, 0 };
	return hypercall(__HYPERVISOR_hvm_op, HVMOP_get_param, (uint64_t)&p) == 0 ? p.value : 0;
}

static void evtchn_notify(void *ctx, uint32_t port)
{
	(void)ctx;
	struct evtchn_send s = { port };
	hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (uint64_t)&s);
}

static void spin_wait(void *ctx)
{
	(void)ctx;
	for (int i = 0; i < 1000; i++) __asm__ volatile("pause");
}

static uint64_t frame_of(void *ctx, const void *p)
{
	(void)ctx;
	return (uint64_t)p >> 12;
}

static const struct xen_env env = { NULL, evtchn_notify, spin_wait, frame_of };

void xen_platform_init(void)
{
	uint32_t a, b, c, d;
	cpuid(g_boot.hv_base + 2, 0, &a, &b, &c, &d);
	wrmsr(b, (uint64_t)hypercall_page);
	struct xen_add_to_physmap x = { DOMID_SELF, 0, XENMAPSPACE_shared_info, 0, (uint64_t)shared_page >> 12 };
	if (hypercall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (uint64_t)&x) == 0) shared = (struct shared_info *)shared_page;
	uint64_t pfn = hvm_param(HVM_PARAM_CONSOLE_PFN);
	cons_port = (uint32_t)hvm_param(HVM_PARAM_CONSOLE_EVTCHN);
	if (pfn) cons = (struct xencons_interface *)(pfn << 12);
}

bool xen_console_ready(void) { return cons != NULL; }

void xen_console_write(const char *s, size_t n)
{
	/* ring full: the console daemon drains it; give up after ~1 s of no progress */
	for (int stalled = 0; n && stalled < 100000;) {
		size_t done = xencons_write(cons, s, n);
		evtchn_notify(NULL, cons_port);
		s += done, n -= done;
		stalled = done ? 0 : stalled + 1;
		if (n) spin_wait(NULL);
	}
}

_Noreturn void xen_shutdown(unsigned reason)
{
	uint32_t r = reason;
	for (;;) hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (uint64_t)&r);
}

void *xen_pvclock(void) { return shared ? &shared->vcpu_info[0].time : NULL; }

uint64_t xen_wallclock_ns(void)
{
	if (!shared) return 0;
	uint32_t v;
	uint64_t ns;
	do {
		v = *(volatile uint32_t *)&shared->wc_version;
		barrier();
		ns = ((uint64_t)shared->wc_sec_hi << 32 | shared->wc_sec) * 1000000000ULL + shared->wc_nsec;
		barrier();
	} while ((v & 1) || v != *(volatile uint32_t *)&shared->wc_version);
	return ns;
}

/* the event-channel upcall: clear what is pending; waking from hlt is all we need */
static void upcall(void *arg)
{
	(void)arg;
	struct vcpu_info *vi = &shared->vcpu_info[0];
	vi->evtchn_upcall_pending = 0;
	uint64_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	for (unsigned w = 0; w < 64; w++)
		if (sel >> w & 1) __atomic_and_fetch(&shared->evtchn_pending[w], shared->evtchn_mask[w], __ATOMIC_SEQ_CST);
}

struct xnet {
	struct netfront nf;
};

static int xn_recv(void *dev, uint8_t *buf, uint32_t cap, uint32_t *len) { return netfront_recv(dev, buf, cap, len) == 0 ? KILN_OK : KILN_AGAIN; }
static int xn_send(void *dev, const uint8_t *buf, uint32_t len)
{
	int r = netfront_send(dev, buf, len);
	return r == 0 ? KILN_OK : (r == 1 ? KILN_AGAIN : KILN_EINVAL);
}
static bool xn_pending(void *dev) { return netfront_pending(dev); }

static bool parse_mac(const char *s, uint8_t *mac)
{
	for (int i = 0; i < 6; i++) {
		int v = 0;
		for (int k = 0; k < 2; k++, s++) {
			char ch = *s;
			int x = ch >= '0' && ch <= '9' ? ch - '0' : (ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : (ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1));
			if (x < 0) return false;
			v = v * 16 + x;
		}
		mac[i] = (uint8_t)v;
		if (i < 5 && *s++ != ':') return false;
	}
	return true;
}

static void netfront_attach(unsigned idx)
{
	char path[96], val[128], backend[128];
	uint64_t bid;
	ksnprintf(path, sizeof path, "device/vif/%u/backend", idx);
	if (xs_read(&xs, path, backend, sizeof backend) <= 0) return;
	ksnprintf(path, sizeof path, "device/vif/%u/backend-id", idx);
	if (!xs_read_u64(&xs, path, &bid)) return;
	struct nic *nic = nic_register();
	if (!nic) return;
	ksnprintf(path, sizeof path, "device/vif/%u/mac", idx);
	if (xs_read(&xs, path, val, sizeof val) <= 0 || !parse_mac(val, nic->mac)) memset(nic->mac, 0, 6);
	nic->mtu = 1500;
	struct netfront *nf = kalloc(sizeof *nf, 64);
	uint8_t *pages = page_alloc(2 + 2 * NET_RING_SIZE);
	grant_ref_t txr, rxr;
	if (!nf || !pages || netfront_init(nf, pages, &gt, (uint16_t)bid, &env, &txr, &rxr)) panic("netfront: out of memory or grants");
	struct evtchn_alloc_unbound au = { DOMID_SELF, (uint16_t)bid, 0 };
	if (hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, (uint64_t)&au)) panic("netfront: no event channel");
	netfront_set_port(nf, au.port);
	const char *keys[] = { "tx-ring-ref", "rx-ring-ref", "event-channel", "request-rx-copy", "feature-rx-notify", "state" };
	uint64_t vals[] = { txr, rxr, au.port, 1, 1, XenbusStateConnected };
	for (unsigned k = 0; k < ARRAY_LEN(keys); k++) {
		ksnprintf(path, sizeof path, "device/vif/%u/%s", idx, keys[k]);
		ksnprintf(val, sizeof val, "%lu", vals[k]);
		xs_write(&xs, path, val);
	}
	ksnprintf(path, sizeof path, "%s/state", backend);
	uint64_t state = 0, t0 = clock_mono_ns();
	while ((!xs_read_u64(&xs, path, &state) || state != XenbusStateConnected) && clock_mono_ns() - t0 < 5000000000ULL) spin_wait(NULL);
	nic->dev = nf, nic->recv = xn_recv, nic->send = xn_send, nic->pending = xn_pending;
}

void xen_devices_init(void)
{
	if (cons) mm_map_mmio((uint64_t)cons, 4096);	/* outside RAM: keep it mapped once sealed */
	if (!shared) return;
	unsigned vec = irq_alloc_vector(upcall, NULL);
	struct xen_hvm_param p = { DOMID_SELF, 0, HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_CALLBACK_TYPE_VECTOR << 56 | vec };
	hypercall(__HYPERVISOR_hvm_op, HVMOP_set_param, (uint64_t)&p);
	for (unsigned i = 0; i < GNT_FRAMES; i++) {
		struct xen_add_to_physmap x = { DOMID_SELF, 0, XENMAPSPACE_grant_table, i, (uint64_t)grant_frames[i] >> 12 };
		if (hypercall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (uint64_t)&x)) return;
	}
	gnttab_init(&gt, (struct grant_entry_v1 *)grant_frames, GNT_FRAMES * 4096 / sizeof(struct grant_entry_v1));
	uint64_t store_pfn = hvm_param(HVM_PARAM_STORE_PFN);
	if (!store_pfn) return;
	xs.ring = (struct xenstore_domain_interface *)(store_pfn << 12);
	xs.port = (uint32_t)hvm_param(HVM_PARAM_STORE_EVTCHN);
	xs.env = &env;
	mm_map_mmio(store_pfn << 12, 4096);
	for (unsigned i = 0; i < MAX_NICS; i++) netfront_attach(i);
	/* xl shutdown: advertise the PV control interface, watch its node, and let xenstore's event
	 * channel wake `hlt` (the watch event lands on the ring; shutdown.c looks at the next yield) */
	xs_write(&xs, "control/feature-poweroff", "1");
	xs_write(&xs, "control/feature-reboot", "1");
	if (xs_watch(&xs, "control/shutdown", "kiln") == 0) {
		struct evtchn_unmask u = { xs.port };
		hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_unmask, (uint64_t)&u);
		xs_watching = true;
	}
}

/* A reboot request ends the appliance too: the toolstack's on_reboot decides what follows. */
bool xen_shutdown_requested(void) { return xs_watching && xs_shutdown_check(&xs) != XS_SHUTDOWN_NONE; }
