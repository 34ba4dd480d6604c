/* harness/cmd_seal.c: `vcons keygen`, `vcons seal` and `vcons verify`: the command lines over
 * results/seal.h and results/check.h. */
#include "harness/cmd.h"
#include "results/check.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char keygen_usage[] =
    "usage: vcons keygen --out DIR\n"
    "Makes an Ed25519 key pair for signing submissions: DIR/vcons-key.pem (private, mode 0600)\n"
    "and DIR/vcons-key.pub.pem (give this one to the results server's --trust directory).\n"
    "Exit: 0 done, 1 failure (e.g. the key exists), 2 usage.\n";

static const char seal_usage[] =
    "usage: vcons seal RESULT_DIR --key KEY.pem [--out FILE]\n"
    "Packs RESULT_DIR (result.json, logs/, the CSU profile and rules files it ran with) into one\n"
    "signed submission file (format vcons-submission/1, results/README.md). Relative paths in\n"
    "the result's config are taken from the current directory (where `vcons run` ran).\n"
    "  --key FILE   the private key (vcons keygen)\n"
    "  --out FILE   the submission (default RESULT_DIR/submission.json)\n"
    "Exit: 0 done, 1 failure, 2 usage, 3 the result or its files are unusable.\n";

static const char verify_usage[] =
    "usage: vcons verify FILE [--trust DIR]\n"
    "Checks a submission: structure, Ed25519 signature, every SHA-256 digest, the signer's key\n"
    "against the public keys (*.pem) in DIR, the result's schema, and re-runs the compliance\n"
    "checks from the recorded figures, which must agree with the recorded verdict and scores.\n"
    "Exit: 0 valid, 1 cannot read, 2 usage, 3 malformed, 4 digest mismatch, 5 bad signature,\n"
    "6 untrusted key, 7 schema, 8 data contradict the verdict.\n";

/* Options shared by the three: --out, --key, --trust, --help; one positional argument. */
struct opts {
	const char *out, *key, *trust, *arg;
};

static int parse(int argc, char **argv, const char *usage, int npos, struct opts *o)
{
	static const struct option lo[] = { { "out", required_argument, 0, 'o' },
		                            { "key", required_argument, 0, 'k' },
		                            { "trust", required_argument, 0, 't' },
		                            { "help", no_argument, 0, 'h' },
		                            { 0, 0, 0, 0 } };
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'k': o->key = optarg; break;
		case 't': o->trust = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default:
			fprintf(stderr, "vcons: %s: unknown option %s\n", argv[0],
			        argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != npos) {
		fprintf(stderr, "vcons: %s: %s\n", argv[0],
		        argc - optind > npos ? "unexpected argument" : "missing argument");
		return 2;
	}
	o->arg = npos ? argv[optind] : NULL;
	return -1;
}

int cmd__keygen(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc = parse(argc, argv, keygen_usage, 0, &o);
	if (rc >= 0)
		return rc;
	if (!o.out)
		return cmd__usage("keygen: --out DIR is required", "");
	char err[512];
	if (seal__keygen(o.out, err, sizeof(err))) {
		fprintf(stderr, "vcons: keygen: %s\n", err);
		return 1;
	}
	printf("private key %s/vcons-key.pem\npublic key %s/vcons-key.pub.pem\n", o.out, o.out);
	return 0;
}

int cmd__seal(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc = parse(argc, argv, seal_usage, 1, &o);
	if (rc >= 0)
		return rc;
	if (!o.key)
		return cmd__usage("seal: --key FILE is required", "");
	char err[1024], def[4096], *doc;
	size_t len;
	snprintf(def, sizeof(def), "%s/submission.json", o.arg);
	const char *out = o.out ? o.out : def;
	rc = seal__create(o.arg, o.key, &doc, &len, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "vcons: seal: %s\n", err);
		return rc == SEAL_IO ? 1 : 3;
	}
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	FILE *f = fopen(tmp, "w");
	int ok = f && fwrite(doc, 1, len, f) == len;
	ok = f && !fclose(f) && ok && !rename(tmp, out);
	free(doc);
	if (!ok) {
		fprintf(stderr, "vcons: seal: cannot write %s\n", out);
		(void)remove(tmp);
		return 1;
	}
	printf("sealed %s (%zu bytes)\n", out, len);
	return 0;
}

int cmd__verify(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc = parse(argc, argv, verify_usage, 1, &o);
	if (rc >= 0)
		return rc;
	char *buf, err[1024];
	size_t len;
	if (seal__read_file(o.arg, &buf, &len) < 0) {
		fprintf(stderr, "vcons: verify: cannot read %s\n", o.arg);
		return 1;
	}
	struct submission s;
	rc = check__submission(buf, len, o.trust, &s, err, sizeof(err));
	free(buf);
	if (rc) {
		for (char *p = err; *p; p++) /* one line, whatever the submission's names hold */
			if ((unsigned char)*p < ' ')
				*p = ' ';
		fprintf(stderr, "vcons: verify: %s: %s: %s\n", o.arg, seal__kind(rc), err);
		seal__free(&s);
		return rc;
	}
	json_t *v = json_object_get(s.result, "verdict");
	printf("verified %s: run %s, key %.16s, %s, score %.3f%s\n", o.arg,
	       json_string_value(json_object_get(s.result, "run_id")), s.key_id,
	       json_is_true(json_object_get(v, "compliant")) ? "compliant" : "not compliant",
	       json_number_value(json_object_get(json_object_get(s.result, "score"), "run")),
	       o.trust ? ", trusted" : " (key not checked: no --trust)");
	seal__free(&s);
	return 0;
}
