/* harness/platform.c: the list of platforms, and the launcher options vcons-hv and vcons-qemu
 * share (see platform.h). */
#include "harness/platform.h"

#include <string.h>

/* The default first; a new platform is one line here. */
static const struct platform *const platforms[] = { &platform_hv, &platform_native,
	                                            &platform_qemu };
#define NPLATFORMS (sizeof(platforms) / sizeof(platforms[0]))

const struct platform *platform__find(const char *name)
{
	for (size_t i = 0; i < NPLATFORMS; i++)
		if (!strcmp(name, platforms[i]->name))
			return platforms[i];
	return NULL;
}

const struct platform *platform__default(void)
{
	return platforms[0];
}

void platform__usage(FILE *out)
{
	fputs("Platforms:\n", out);
	for (size_t i = 0; i < NPLATFORMS; i++)
		fprintf(out, "  %-18s %s\n", platforms[i]->name, platforms[i]->summary);
}

int platform__vmm_cmd(struct cmdline *c, const struct guest_spec *g, const char *launcher)
{
	const struct vm_plan *v = g->vm;
	int rc = plan__arg(c, "%s/%s", g->paths->build, launcher);
	rc |= plan__arg(c, "--root") || plan__arg(c, "%s", v->dir) || plan__arg(c, "--net") ||
	      plan__arg(c, "%s", v->addr);
	rc |= plan__arg(c, "--vcpus") || plan__arg(c, "%d", g->profile->vcpus) ||
	      plan__arg(c, "--mem");
	rc |= plan__arg(c, "%lluM", (unsigned long long)(g->profile->memory_bytes >> 20));
	rc |= plan__arg(c, "--name") || plan__arg(c, "%s", v->name);
	if (g->with_stats)
		rc |= plan__arg(c, "--stats") || plan__arg(c, "%s", v->stats);
	return rc;
}
