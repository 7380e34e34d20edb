/* The base's Xen platform layer (hypercalls, shared info, PV console, devices). */
#ifndef XEN_PLATFORM_H
#define XEN_PLATFORM_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

void xen_platform_init(void);
bool xen_console_ready(void);
void xen_console_write(const char *s, size_t n);
_Noreturn void xen_shutdown(unsigned reason);
void *xen_pvclock(void);
uint64_t xen_wallclock_ns(void);
void xen_devices_init(void);
bool xen_shutdown_requested(void);

#endif
