/* The parts of the Xen public interface (xen/include/public/...) Kiln uses, written from the
 * documented layouts: shared info, HVM params, event channels, grant tables (v1), the console
 * and xenstore rings, and the netif rings. Freestanding: used by the base and by the Linux
 * host tests. */
#ifndef XEN_PUBLIC_H
#define XEN_PUBLIC_H
#include <stdint.h>

#define DOMID_SELF 0x7ff0u

/* hypercall numbers */
#define __HYPERVISOR_memory_op 12
#define __HYPERVISOR_sched_op 29
#define __HYPERVISOR_event_channel_op 32
#define __HYPERVISOR_hvm_op 34
#define __HYPERVISOR_vcpu_op 24

#define SCHEDOP_shutdown 2
#define SHUTDOWN_poweroff 0
#define SHUTDOWN_crash 3

#define XENMEM_add_to_physmap 7
#define XENMAPSPACE_shared_info 0
#define XENMAPSPACE_grant_table 1
struct xen_add_to_physmap {
	uint16_t domid, size;
	uint32_t space;
	uint64_t idx, gpfn;
};

#define HVMOP_set_param 0
#define HVMOP_get_param 1
struct xen_hvm_param {
	uint16_t domid;
	uint16_t pad;
	uint32_t index;
	uint64_t value;
};
#define HVM_PARAM_CALLBACK_IRQ 0
#define HVM_PARAM_STORE_PFN 1
#define HVM_PARAM_STORE_EVTCHN 2
#define HVM_PARAM_CONSOLE_PFN 17
#define HVM_PARAM_CONSOLE_EVTCHN 18
#define HVM_PARAM_CALLBACK_TYPE_VECTOR 2ULL

#define EVTCHNOP_send 4
#define EVTCHNOP_alloc_unbound 6
#define EVTCHNOP_unmask 9
struct evtchn_unmask { uint32_t port; };
struct evtchn_send { uint32_t port; };
struct evtchn_alloc_unbound { uint16_t dom, remote_dom; uint32_t port; };

/* shared_info (x86-64): vcpu_info[32] of 64 bytes, then the event bitmaps, then wall clock */
struct vcpu_time_info {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad1[2];
};
struct vcpu_info {
	uint8_t evtchn_upcall_pending, evtchn_upcall_mask;
	uint8_t pad[6];
	uint64_t evtchn_pending_sel;
	uint64_t cr2, pad2;
	struct vcpu_time_info time;
};
struct shared_info {
	struct vcpu_info vcpu_info[32];
	uint64_t evtchn_pending[64];
	uint64_t evtchn_mask[64];
	uint32_t wc_version, wc_sec, wc_nsec, wc_sec_hi;
};

/* grant table v1 */
typedef uint32_t grant_ref_t;
struct grant_entry_v1 {
	uint16_t flags;
	uint16_t domid;
	uint32_t frame;
};
#define GTF_permit_access 1u
#define GTF_readonly (1u << 2)
#define GTF_reading (1u << 3)
#define GTF_writing (1u << 4)
#define GNTTAB_NR_RESERVED_ENTRIES 8

/* console ring (io/console.h) */
struct xencons_interface {
	char in[1024];
	char out[2048];
	uint32_t in_cons, in_prod;
	uint32_t out_cons, out_prod;
};

/* xenstore ring and messages (io/xs_wire.h) */
#define XENSTORE_RING_SIZE 1024
struct xenstore_domain_interface {
	char req[XENSTORE_RING_SIZE];
	char rsp[XENSTORE_RING_SIZE];
	uint32_t req_cons, req_prod;
	uint32_t rsp_cons, rsp_prod;
};
struct xsd_sockmsg {
	uint32_t type, req_id, tx_id, len;
};
#define XS_DIRECTORY 1
#define XS_READ 2
#define XS_WATCH 4
#define XS_WRITE 11
#define XS_ERROR 16
#define XS_WATCH_EVENT 15
#define XENSTORE_PAYLOAD_MAX 4096

/* xenbus states (io/xenbus.h) */
#define XenbusStateInitialising 1
#define XenbusStateInitWait 2
#define XenbusStateInitialised 3
#define XenbusStateConnected 4
#define XenbusStateClosing 5
#define XenbusStateClosed 6

/* generic shared ring header (io/ring.h): 64 bytes, then the entries */
struct sring_hdr {
	uint32_t req_prod, req_event, rsp_prod, rsp_event;
	uint8_t pvt[4], pad[44];
};

/* netif (io/netif.h) */
struct netif_tx_request {
	grant_ref_t gref;
	uint16_t offset, flags, id, size;
};
struct netif_tx_response {
	uint16_t id;
	int16_t status;
};
struct netif_rx_request {
	uint16_t id, pad;
	grant_ref_t gref;
};
struct netif_rx_response {
	uint16_t id, offset, flags;
	int16_t status;
};
#define NETIF_RSP_OKAY 0
#define NETIF_RSP_ERROR (-1)
#define NETIF_RSP_DROPPED (-2)
#define NETTXF_more_data (1u << 2)
#define NETRXF_more_data (1u << 2)
/* ring entries are unions of request and response: 12 bytes for tx, 8 for rx; 256 of each
 * fit one page after the header */
#define NET_RING_SIZE 256
union netif_tx_entry { struct netif_tx_request req; struct netif_tx_response rsp; };
union netif_rx_entry { struct netif_rx_request req; struct netif_rx_response rsp; };
struct netif_tx_sring { struct sring_hdr h; union netif_tx_entry ring[NET_RING_SIZE]; };
struct netif_rx_sring { struct sring_hdr h; union netif_rx_entry ring[NET_RING_SIZE]; };

#endif
