/* services.h - the host-services table every plugin gets (services.c). */
#ifndef SH_SERVICES_H
#define SH_SERVICES_H
#include "instance.h"

extern const sh_host sh_host_services;
#endif
