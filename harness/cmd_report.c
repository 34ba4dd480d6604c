/* harness/cmd_report.c: `vcons report RESULT.json [--out FILE.html]`: the report of one result
 * (model/report.h) written atomically as an HTML page, and its text summary on stdout. */
#include "harness/cmd.h"
#include "lib/opt.h"
#include "model/htmlpage.h"
#include "model/report.h"
#include "model/result.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>

/* OPT_RUN, or the exit status after --help or a bad command line. */
static int parse(int argc, char **argv, const char **in, const char **out)
{
	const struct opt opts[] = {
		{ OPT_STRING("out", out), .arg = "FILE", .help = "the page",
		  .def = "report.html next to the result" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons report",
		.synopsis = "RESULT.json [--out FILE.html]",
		.about =
		    "Writes a self-contained HTML report of a result (inline CSS and SVG charts: "
		    "throughput,\nlatency, time dilation and hv exits per interval and VM) and "
		    "prints a text summary.\n",
		.footer = "Exit: 0 written, 1 unreadable or invalid result or unwritable page, 2 "
		          "usage.\n",
		.opts = opts,
		CMD_ARGS("RESULT.json", 1),
	};
	int rc = opt_parse(&cmd, argc, argv);
	if (rc == OPT_RUN)
		*in = argv[cmd.argi];
	return rc;
}

int cmd__report(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	char err[PATH_MAX + 256], def[PATH_MAX + 16], dir[PATH_MAX];
	int rc = parse(argc, argv, &in, &out);
	if (rc != OPT_RUN)
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
