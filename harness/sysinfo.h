/* harness/sysinfo.h: what a result says about the machine it ran on: CPU model and count, memory,
 * kernel, KVM (API version and the capabilities vcons-hv relies on, or why it is unavailable), the
 * compiler that built vcons, and the versions of the Debian packages it links. */
#ifndef HARNESS_SYSINFO_H
#define HARNESS_SYSINFO_H
#include <jansson.h>

json_t *sysinfo__collect(void); /* new reference; fields that cannot be read are left out */

#endif
