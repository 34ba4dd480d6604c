/* harness/sysinfo.c: the machine a result ran on (see sysinfo.h). */
#include "harness/sysinfo.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The value after "key<spaces>:" in a /proc file, trimmed; "" when absent. */
static void proc_field(const char *path, const char *key, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[512];
	out[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		size_t k = strlen(key);
		if (strncmp(line, key, k) || !strchr(line, ':'))
			continue;
		const char *v = strchr(line, ':') + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		snprintf(out, len, "%s", v);
		out[strcspn(out, "\n")] = 0;
		break;
	}
	if (f)
		(void)fclose(f);
}

static json_t *kvm_info(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return json_pack("{s:b,s:s}", "available", 0, "why", "cannot open /dev/kvm");
	static const struct {
		const char *name;
		long cap;
	} caps[] = { { "user_memory", KVM_CAP_USER_MEMORY },
		     { "nr_vcpus", KVM_CAP_NR_VCPUS },
		     { "max_vcpus", KVM_CAP_MAX_VCPUS },
		     { "binary_stats_fd", KVM_CAP_BINARY_STATS_FD },
		     { "tsc_control", KVM_CAP_TSC_CONTROL },
		     { "dirty_log_ring", KVM_CAP_DIRTY_LOG_RING } };
	json_t *c = json_object();
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		json_object_set_new(c, caps[i].name,
		                    json_integer(ioctl(fd, KVM_CHECK_EXTENSION, caps[i].cap)));
	json_t *o = json_pack("{s:b,s:i,s:o}", "available", 1, "api_version",
	                      ioctl(fd, KVM_GET_API_VERSION, 0), "capabilities", c);
	close(fd);
	return o;
}

static json_t *packages(void)
{
	json_t *o = json_object();
	// NOLINTNEXTLINE(cert-env33-c): a fixed command, no input in it
	FILE *p = popen("dpkg-query -W -f '${Package} ${Version}\\n' libsqlite3-dev libssl-dev "
	                "libjansson-dev libyaml-dev libcurl4-openssl-dev libseccomp-dev libc6-dev "
	                "gcc 2>/dev/null",
	                "r");
	char line[256], name[128], version[128];
	while (p && fgets(line, sizeof(line), p))
		if (sscanf(line, "%127s %127s", name, version) == 2)
			json_object_set_new(o, name, json_string(version));
	if (p)
		pclose(p);
	return o;
}

json_t *sysinfo__collect(void)
{
	char model[256], mem[64], host[256] = "";
	struct utsname u;
	uname(&u);
	gethostname(host, sizeof(host) - 1);
	proc_field("/proc/cpuinfo", "model name", model, sizeof(model));
	proc_field("/proc/meminfo", "MemTotal", mem, sizeof(mem));
	long long mem_kib = 0;
	if (sscanf(mem, "%lld", &mem_kib) != 1) // NOLINT(cert-err34-c): the kernel's number
		mem_kib = 0;
	return json_pack("{s:s,s:i,s:I,s:s,s:s,s:s,s:o,s:s,s:o}", "cpu_model", model, "cpus",
	                 (int)sysconf(_SC_NPROCESSORS_ONLN), "memory_bytes",
	                 (json_int_t)mem_kib * 1024, "kernel", u.release, "machine", u.machine,
	                 "hostname", host, "kvm", kvm_info(), "compiler", "gcc " __VERSION__,
	                 "packages", packages());
}
