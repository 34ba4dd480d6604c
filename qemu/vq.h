/* qemu/vq.h: the contract between the parts of vcons-qemu: the configuration main.c parses, the
 * guest disk and per-run initramfs (disk.c), the QEMU command line and process (launch.c), and the
 * host side of the virtio-serial channels (chan.c). Every function returns 0 or a VQ_EXIT_* code
 * (or -1 where noted) with one message in `err`. */
#ifndef VCONS_QEMU_VQ_H
#define VCONS_QEMU_VQ_H

#include "lib/vmopt.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	VQ_EXIT_USAGE = 2,
	VQ_EXIT_NOINPUT = 66, /* program, root directory, kernel or initramfs missing */
	VQ_EXIT_UNAVAIL = 69, /* QEMU not installed, or --accel kvm without a usable /dev/kvm */
	VQ_EXIT_NOBOOT = 70,  /* the guest failed to boot, or ended without reporting a status */
	VQ_EXIT_OSERR = 71,  /* host resource error: temp files, sockets, fork, mkfs, a busy port */
	VQ_EXIT_CONFIG = 78, /* bad option value, e.g. too little memory for a Linux guest */
};

#define VQ_MAX_PORTS 32
#define VQ_MIN_MEM   (128ull << 20) /* 64M does not boot the cloud kernel with its initramfs */
#define VQ_MAX_SIZE  (1ull << 40)   /* the largest --mem or --disk-size: 1 TiB */

struct vq_config {
	struct vmopt vm;     /* the options vcons-hv has too: root, net, vcpus, mem, name, stats */
	const char *kernel;  /* bzImage */
	const char *initrd;  /* the base initramfs (gzip cpio with qemu/init.sh as /init) */
	const char *accel;   /* auto, kvm or tcg */
	const char *qemu;    /* the QEMU binary */
	uint64_t disk_bytes; /* size of a new disk image (sparse) */
	int ports[VQ_MAX_PORTS];
	int nports;
	double boot_timeout; /* seconds from QEMU's start to the guest's "booted" */
	double grace;        /* seconds the guest gets to end after SIGTERM before QEMU is killed */
	int verbose;         /* kernel console on stderr */
};

/* disk.c */
/* The VM's disk image: <root>.img, made from <root> with mkfs.ext4 -d when it does not exist yet.
 */
int vq_disk_ensure(const struct vq_config *c, char *img, size_t imglen, char *err, size_t errlen);
/* Writes `out`: the base initramfs followed by an archive with /vcons/conf, /vcons/args and a copy
 * of <root>/bin as /vcons/bin (the guest refreshes its disk's /bin from it). */
int vq_initrd_build(const struct vq_config *c, const char *out, char *err, size_t errlen);

/* launch.c */
struct vq_paths {
	char dir[256]; /* private temporary directory */
	char sock[4][300];
	char initrd[300], console[300], log[300], img[4096];
	/* the per-run initramfs, the console file and QEMU's messages, open (inherited by QEMU,
	 * which opens them as /dev/fd/N) with their names already removed */
	int fd_initrd, fd_console, fd_log;
};
enum { VQ_CH_IN, VQ_CH_OUT, VQ_CH_ERR, VQ_CH_CTL };
/* Starts QEMU with `accel` ("kvm" or "tcg"); it dies with this process (PR_SET_PDEATHSIG). */
int vq_launch(const struct vq_config *c, const struct vq_paths *p, const char *accel, pid_t *pid,
              char *err, size_t errlen);
/* 1 when /dev/kvm opens and answers KVM_GET_API_VERSION. */
int vq_kvm_usable(void);
/* The last non-empty line of a file (QEMU's messages, the kernel console), or its first line with
 * "Kernel panic", or "". */
void vq_last_line(const char *path, char *out, size_t len);

/* chan.c */
int vq_listen(const char *path);
/* Accepts the connection QEMU makes to every listening socket, while QEMU lives. */
int vq_accept_all(const int *lfd, int *cfd, int n, pid_t qemu, double timeout_s);
int vq_write_all(int fd, const void *buf, size_t len);

#endif
