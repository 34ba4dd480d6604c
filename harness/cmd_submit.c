/* harness/cmd_submit.c: `vcons submit FILE --to URL`: the command line over results/client.h. */
#include "harness/cmd.h"
#include "results/client.h"
#include "results/seal.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char submit_usage[] =
    "usage: vcons submit FILE --to URL [--retries N] [--backoff S] [--progress|--no-progress]\n"
    "Uploads a sealed submission (vcons seal) to a results server (vcons serve), retrying with\n"
    "exponential backoff while the server cannot be reached or answers 5xx.\n"
    "  --to URL        the server, e.g. http://127.0.0.1:8070\n"
    "  --retries N     attempts in all (default 6)\n"
    "  --backoff S     the first wait between attempts (default 0.5; doubled, at most 5 s)\n"
    "  --progress      upload progress on stderr (default: when stderr is a terminal)\n"
    "Exit: 0 stored (or stored before), 1 no answer or a server failure, 2 usage, and for a\n"
    "rejection its kind: 3 malformed, 4 digest, 5 signature, 6 untrusted key, 7 schema,\n"
    "8 data contradict the verdict, 9 too large.\n";

int cmd__submit(int argc, char **argv)
{
	static const struct option lo[] = { { "to", required_argument, 0, 't' },
		                            { "retries", required_argument, 0, 'r' },
		                            { "backoff", required_argument, 0, 'b' },
		                            { "progress", no_argument, 0, 'p' },
		                            { "no-progress", no_argument, 0, 'n' },
		                            { "help", no_argument, 0, 'h' },
		                            { 0, 0, 0, 0 } };
	struct client_opts o = {
		.tries = 6, .backoff_s = 0.5, .progress = isatty(2), .verbose_retry = 1
	};
	char *end;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't': o.url = optarg; break;
		case 'r':
			o.tries = (int)strtol(optarg, &end, 10);
			if (*end || o.tries < 1 || o.tries > 100)
				return cmd__usage("submit: --retries: not a number from 1 to 100: ",
				                  optarg);
			break;
		case 'b':
			o.backoff_s = strtod(optarg, &end);
			if (*end || !(o.backoff_s >= 0 && o.backoff_s <= 60))
				return cmd__usage("submit: --backoff: not seconds from 0 to 60: ",
				                  optarg);
			break;
		case 'p': o.progress = 1; break;
		case 'n': o.progress = 0; break;
		case 'h': fputs(submit_usage, stdout); return 0;
		default: return cmd__usage("submit: unknown option ", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cmd__usage("submit: expected one FILE", "");
	if (!o.url)
		return cmd__usage("submit: --to URL is required", "");
	char *buf;
	size_t len;
	if (seal__read_file(argv[optind], &buf, &len) < 0) {
		fprintf(stderr, "vcons: submit: cannot read %s\n", argv[optind]);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct client_answer a;
	int rc = client__submit(buf, len, &o, &a);
	free(buf);
	if (rc) {
		fprintf(stderr, "vcons: submit: %s\n", a.err);
	} else {
		json_t *b = a.body;
		printf("%s id %lld: %s, score %.3f, %s\n",
		       json_is_true(json_object_get(b, "created")) ? "stored as"
		                                                   : "already stored as",
		       (long long)json_integer_value(json_object_get(b, "id")),
		       !json_is_true(json_object_get(b, "valid"))      ? "invalid run"
		       : json_is_true(json_object_get(b, "compliant")) ? "compliant"
		                                                       : "not compliant",
		       json_number_value(json_object_get(b, "score")),
		       json_string_value(json_object_get(b, "url")));
	}
	json_decref(a.body);
	curl_global_cleanup();
	return rc;
}
