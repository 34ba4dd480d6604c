/* Tests of the hv library through its API: several VMs in one process at once, stopping a
 * guest from outside, errors through the API. Needs /dev/kvm (skipped loudly without it) and the
 * guest test programs in build/guest/ (`make` builds them; tests run from the repository root). */
#include "tools/unit.h"
#include "hv/hv.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int have_kvm(void)
{
	if (access("/dev/kvm", R_OK | W_OK) == 0)
		return 1;
	fprintf(stderr, "SKIPPED: /dev/kvm is missing or not accessible\n");
	return 0;
}

struct run {
	struct hv_vm *vm;
	char dir[64], out[96];
	int outfd;
};

static void create(struct run *r, const char *const *argv, const char *addr)
{
	snprintf(r->dir, sizeof(r->dir), "/tmp/hv-lib-test.XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->out, sizeof(r->out), "%s.out", r->dir);
	r->outfd = open(r->out, O_CREAT | O_RDWR | O_TRUNC, 0600);
	struct hv_config cfg;
	hv_config_init(&cfg);
	cfg.argv = argv;
	cfg.envp = (const char *const[]){ "LANG=C", NULL };
	cfg.root = r->dir;
	cfg.net_addr = addr;
	cfg.stdio_fds[1] = r->outfd;
	cfg.name = addr;
	char err[256];
	int code;
	r->vm = hv_vm_create(&cfg, &code, err, sizeof(err));
	if (!r->vm)
		fail_msg("hv_vm_create: %s (%d)", err, code);
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = 0;
	if (f)
		(void)fclose(f);
	return buf;
}

static void cleanup(struct run *r)
{
	hv_vm_destroy(r->vm);
	close(r->outfd);
	unlink(r->out);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
	// NOLINTNEXTLINE(cert-env33-c): a test's own command line
	assert_int_equal(system(cmd), 0);
}

static void two_vms_in_one_process(void **state)
{
	if (!have_kvm())
		skip();
	const char *const argv[] = { "build/guest/hv-t_files", NULL };
	struct run a, b;
	create(&a, argv, "127.0.6.1");
	create(&b, argv, "127.0.6.2");
	char err[128];
	assert_int_equal(hv_vm_start(a.vm, err, sizeof(err)), 0);
	assert_int_equal(hv_vm_start(b.vm, err, sizeof(err)), 0);
	assert_int_equal(hv_vm_wait(a.vm), 0);
	assert_int_equal(hv_vm_wait(b.vm), 0);
	char *out_a = strdup(slurp(a.out));
	assert_non_null(strstr(out_a, "content: HELLO, world"));
	assert_string_equal(out_a, slurp(b.out)); /* each in its own root, neither saw the other */
	free(out_a);
	char stats[128];
	snprintf(stats, sizeof(stats), "%s.json", a.dir);
	assert_int_equal(hv_vm_write_stats(a.vm, stats), 0);
	assert_non_null(strstr(slurp(stats), "\"hv_stats\""));
	unlink(stats);
	cleanup(&a);
	cleanup(&b);
}

static void kill_stops_a_sleeping_guest(void **state)
{
	if (!have_kvm() || access("/bin/busybox", X_OK) != 0)
		skip();
	const char *const argv[] = { "/bin/busybox", "sleep", "60", NULL };
	struct run r;
	create(&r, argv, "127.0.6.3");
	char err[128];
	assert_int_equal(hv_vm_start(r.vm, err, sizeof(err)), 0);
	usleep(200 * 1000);
	hv_vm_kill(r.vm, 15);
	assert_int_equal(hv_vm_wait(r.vm), 128 + 15);
	cleanup(&r);
}

static void errors_come_back_through_the_api(void **state)
{
	if (!have_kvm())
		skip();
	struct hv_config cfg;
	hv_config_init(&cfg);
	char err[256];
	int code = 0;
	cfg.argv = (const char *const[]){ "/bin/true", NULL };
	assert_null(hv_vm_create(&cfg, &code, err, sizeof(err)));
	assert_int_equal(code, HV_EXIT_BADELF);
	assert_non_null(strstr(err, "dynamically linked"));
	cfg.argv = (const char *const[]){ "build/guest/hv-t_time", NULL };
	cfg.mem_bytes = 1 << 20;
	assert_null(hv_vm_create(&cfg, &code, err, sizeof(err)));
	assert_int_equal(code, HV_EXIT_CONFIG);
}

UNIT_MAIN(cmocka_unit_test(two_vms_in_one_process), cmocka_unit_test(kill_stops_a_sleeping_guest),
          cmocka_unit_test(errors_come_back_through_the_api))
