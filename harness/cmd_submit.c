/* harness/cmd_submit.c: `vcons submit FILE --to URL`: the command line over results/client.h. */
#include "harness/cmd.h"
#include "lib/json.h"
#include "lib/opt.h"
#include "results/client.h"
#include "results/seal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* OPT_RUN, or the exit status after --help or a bad command line. */
static int parse(int argc, char **argv, struct client_opts *o, const char **file)
{
	bool progress = o->progress;
	const struct opt opts[] = {
		{ OPT_STRING("to", &o->url), .arg = "URL",
		  .help = "the server, e.g. http://127.0.0.1:8070 (required)" },
		{ OPT_INT("retries", &o->tries, 1, 100), .help = "attempts in all", .def = "6" },
		{ OPT_DOUBLE("backoff", &o->backoff_s, 0, 60), .arg = "S",
		  .help = "the first wait between attempts, in seconds (doubled,\nat most 5 s)",
		  .def = "0.5" },
		{ OPT_FLAG("progress", &progress), .help = "upload progress on stderr",
		  .def = "when stderr is a terminal" },
		{ OPT_FLAG_OFF("no-progress", &progress), .help = "no upload progress" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons submit",
		.synopsis = "FILE --to URL [--retries N] [--backoff S] [--progress|--no-progress]",
		.about =
		    "Uploads a sealed submission (vcons seal) to a results server (vcons serve), "
		    "retrying with\nexponential backoff while the server cannot be reached or "
		    "answers 5xx.\n",
		.footer =
		    "Exit: 0 stored (or stored before), 1 no answer or a server failure, 2 usage, "
		    "and for a\nrejection its kind: 3 malformed, 4 digest, 5 signature, 6 "
		    "untrusted key, 7 schema,\n8 data contradict the verdict, 9 too large.\n",
		.opts = opts,
		CMD_ARGS("FILE", 1),
	};
	int rc = opt_parse(&cmd, argc, argv);
	if (rc != OPT_RUN)
		return rc;
	o->progress = progress;
	if (!o->url)
		return opt_usage_error(&cmd, "--to URL is required");
	*file = argv[cmd.argi];
	return OPT_RUN;
}

int cmd__submit(int argc, char **argv)
{
	struct client_opts o = {
		.tries = 6, .backoff_s = 0.5, .progress = isatty(2), .verbose_retry = 1
	};
	const char *file = NULL;
	int rc = parse(argc, argv, &o, &file);
	if (rc != OPT_RUN)
		return rc;
	char *buf;
	size_t len;
	if (seal__read_file(file, &buf, &len) < 0) {
		fprintf(stderr, "vcons: submit: cannot read %s\n", file);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct client_answer a;
	rc = client__submit(buf, len, &o, &a);
	free(buf);
	if (rc) {
		fprintf(stderr, "vcons: submit: %s\n", a.err);
	} else {
		json_t *b = a.body;
		printf("%s id %lld: %s, score %.3f, %s\n",
		       json_is_true(json_object_get(b, "created")) ? "stored as"
		                                                   : "already stored as",
		       (long long)jget_int(b, "id", 0),
		       !json_is_true(json_object_get(b, "valid"))      ? "invalid run"
		       : json_is_true(json_object_get(b, "compliant")) ? "compliant"
		                                                       : "not compliant",
		       jget_num(b, "score", 0), jget_str(b, "url", NULL));
	}
	json_decref(a.body);
	curl_global_cleanup();
	return rc;
}
