/* harness/cmd_report.c: `vcons report RESULT.json [--out FILE.html]`: the report of one result
 * (model/report.h) written atomically as an HTML page, and its text summary on stdout. */
#include "harness/cmd.h"
#include "model/htmlpage.h"
#include "model/report.h"
#include "model/result.h"

#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>

static const char usage[] =
    "usage: vcons report RESULT.json [--out FILE.html]\n"
    "Writes a self-contained HTML report of a result (inline CSS and SVG charts: throughput,\n"
    "latency, time dilation and hv exits per interval and VM) and prints a text summary.\n"
    "  --out FILE   the page (default: report.html next to the result)\n"
    "Exit: 0 written, 1 unreadable or invalid result or unwritable page, 2 usage.\n";

static int parse(int argc, char **argv, const char **in, const char **out)
{
	static const struct option opts[] = { { "out", required_argument, 0, 'o' },
		                              { "help", no_argument, 0, 'h' },
		                              { 0, 0, 0, 0 } };
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'o')
			*out = optarg;
		else if (c == 'h')
			return fputs(usage, stdout), 0;
		else
			return cmd__usage("report: unknown option or missing value: ",
			                  argv[optind - 1]);
	}
	if (optind >= argc)
		return cmd__usage("report: missing RESULT.json (vcons report --help)", "");
	if (optind + 1 < argc)
		return cmd__usage("report: unexpected argument ", argv[optind + 1]);
	*in = argv[optind];
	return -1;
}

int cmd__report(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	char err[PATH_MAX + 256], def[PATH_MAX + 16], dir[PATH_MAX];
	int rc = parse(argc, argv, &in, &out);
	if (rc >= 0)
		return rc;
	json_t *res = result__load(in, err, sizeof(err));
	if (!res) {
		fprintf(stderr, "vcons: report: %s\n", err);
		return 1;
	}
	if (!out) {
		snprintf(dir, sizeof(dir), "%s", in);
		snprintf(def, sizeof(def), "%s/report.html", dirname(dir));
		out = def;
	}
	struct html_out page;
	rc = html__open(&page, out, err, sizeof(err));
	if (rc == 0) {
		report__write(page.f, res);
		rc = html__commit(&page, err, sizeof(err));
	}
	if (rc == 0)
		report__summary(stdout, res, out);
	else
		fprintf(stderr, "vcons: report: %s\n", err);
	json_decref(res);
	return rc ? 1 : 0;
}
