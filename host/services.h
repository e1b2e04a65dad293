/* services.h - the host-services table every plugin gets (services.c). */
#ifndef SH_SERVICES_H
#define SH_SERVICES_H
#include "instance.h"

extern const sh_host sh_host_services;
/* Nonzero: what sh_host_services' now_ms and mono_ms return (the test kit's
 * th_set_now); 0, the default: the real clocks. */
extern int64_t sh_test_clock_ms;
#endif
