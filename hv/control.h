/* hv/control.h: vcons-hv's control socket (--control PATH), a Unix stream socket. A client sends
 * one JSON object per line and reads one JSON line back per command; every answer has "ok"
 * (true, or false with "error", one line saying why). Commands:
 *   {"cmd":"status"}    -> "name", "state" ("running" or "paused"), "uptime_ms"
 *   {"cmd":"pause"}     -> "pause_ms": how long stopping every guest thread took
 *   {"cmd":"resume"}
 *   {"cmd":"snapshot","path":P[,"stop":true]}
 *                       -> "path", "bytes" (on disk), "pages", "pause_ms", "write_ms",
 *                          "downtime_ms" (0 when the VM was paused already), "stopped",
 *                          "reset_connections" (connections that waited to be accepted at every
 *                          pause for about a second, or at once in a VM the client paused, and
 *                          were reset: HV_SNAPSHOT_RESET_WAITING).
 *                          A running VM is paused for it and resumed after, or with "stop" it
 *                          ends (vcons-hv exits 0) leaving its TCP connections to the VM that
 *                          `vcons-hv --restore P` builds.
 *   {"cmd":"migrate","to":"A.B.C.D:PORT"[,"downtime_ms":N]}   (N: 1..60000, default 50)
 *                       -> "to", "total_ms", "downtime_ms", "bytes", "pages", "rounds" once the
 *                          VM runs on the target (`vcons-hv --incoming A.B.C.D:PORT`,
 * hv/migrate.h); this vcons-hv then exits 0. On failure the VM goes on here, unless the error says
 * it cannot (its sockets could not be made again): then it ends with exit 71. One connection is
 * served at a time; a line may be up to 64 KiB. */
#ifndef HV_CONTROL_H
#define HV_CONTROL_H
#include <stddef.h>

struct hv_vm;
struct control;

/* Listens at `path` (a socket left there by an earlier run is replaced; any other file is not)
 * and serves it on its own thread. `*stopped` is set when a snapshot stopped the VM. NULL with
 * one line in err. */
struct control *control__start(struct hv_vm *vm, const char *name, const char *path, int *stopped,
                               char *err, size_t errlen);
/* Removes the socket's name (at exit). */
void control__remove(struct control *c);

#endif
