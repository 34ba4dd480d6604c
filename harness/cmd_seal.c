/* harness/cmd_seal.c: `vcons keygen`, `vcons seal` and `vcons verify`: the command lines over
 * results/seal.h and results/check.h. */
#include "harness/cmd.h"
#include "lib/json.h"
#include "lib/opt.h"
#include "results/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd__keygen(int argc, char **argv)
{
	const char *out = NULL;
	const struct opt opts[] = {
		{ OPT_STRING("out", &out), .arg = "DIR",
		  .help = "where the two files go (required)" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons keygen",
		.synopsis = "--out DIR",
		.about = "Makes an Ed25519 key pair for signing submissions: DIR/vcons-key.pem "
		         "(private, mode 0600)\nand DIR/vcons-key.pub.pem (give this one to the "
		         "results server's --trust directory).\n",
		.footer = "Exit: 0 done, 1 failure (e.g. the key exists), 2 usage.\n",
		.opts = opts,
	};
	int rc = opt_parse(&cmd, argc, argv);
	if (rc != OPT_RUN)
		return rc;
	if (!out)
		return opt_usage_error(&cmd, "--out DIR is required");
	char err[512];
	if (seal__keygen(out, err, sizeof(err))) {
		fprintf(stderr, "vcons: keygen: %s\n", err);
		return 1;
	}
	printf("private key %s/vcons-key.pem\npublic key %s/vcons-key.pub.pem\n", out, out);
	return 0;
}

int cmd__seal(int argc, char **argv)
{
	const char *key = NULL, *out = NULL;
	const struct opt opts[] = {
		{ OPT_STRING("key", &key), .arg = "FILE",
		  .help = "the private key (vcons keygen; required)" },
		{ OPT_STRING("out", &out), .arg = "FILE", .help = "the submission",
		  .def = "RESULT_DIR/submission.json" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons seal",
		.synopsis = "RESULT_DIR --key KEY.pem [--out FILE]",
		.about =
		    "Packs RESULT_DIR (result.json, logs/, the CSU profile and rules files it ran "
		    "with) into one\nsigned submission file (format vcons-submission/1, "
		    "results/README.md). Relative paths in\nthe result's config are taken from the "
		    "current directory (where `vcons run` ran).\n",
		.footer =
		    "Exit: 0 done, 1 failure, 2 usage, 3 the result or its files are unusable.\n",
		.opts = opts,
		CMD_ARGS("RESULT_DIR", 1),
	};
	int rc = opt_parse(&cmd, argc, argv);
	if (rc != OPT_RUN)
		return rc;
	if (!key)
		return opt_usage_error(&cmd, "--key FILE is required");
	const char *dir = argv[cmd.argi];
	char err[1024], def[4096], *doc;
	size_t len;
	snprintf(def, sizeof(def), "%s/submission.json", dir);
	if (!out)
		out = def;
	rc = seal__create(dir, key, &doc, &len, err, sizeof(err));
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
	const char *trust = NULL;
	const struct opt opts[] = {
		{ OPT_STRING("trust", &trust), .arg = "DIR",
		  .help = "the trusted public keys (*.pem); without it the signer's key\nis not "
		          "checked" },
		OPT_END,
	};
	struct opt_cmd cmd = {
		.prog = "vcons verify",
		.synopsis = "FILE [--trust DIR]",
		.about = "Checks a submission: structure, Ed25519 signature, every SHA-256 digest, "
		         "the signer's key\nagainst the public keys (*.pem) in DIR, the result's "
		         "schema, and re-runs the compliance\nchecks from the recorded figures, "
		         "which must agree with the recorded verdict and scores.\n",
		.footer =
		    "Exit: 0 valid, 1 cannot read, 2 usage, 3 malformed, 4 digest mismatch, 5 bad "
		    "signature,\n6 untrusted key, 7 schema, 8 data contradict the verdict.\n",
		.opts = opts,
		CMD_ARGS("FILE", 1),
	};
	int rc = opt_parse(&cmd, argc, argv);
	if (rc != OPT_RUN)
		return rc;
	const char *file = argv[cmd.argi];
	char *buf, err[1024];
	size_t len;
	if (seal__read_file(file, &buf, &len) < 0) {
		fprintf(stderr, "vcons: verify: cannot read %s\n", file);
		return 1;
	}
	struct submission s;
	rc = check__submission(buf, len, trust, &s, err, sizeof(err));
	free(buf);
	if (rc) {
		for (char *p = err; *p; p++) /* one line, whatever the submission's names hold */
			if ((unsigned char)*p < ' ')
				*p = ' ';
		fprintf(stderr, "vcons: verify: %s: %s: %s\n", file, seal__kind(rc), err);
		seal__free(&s);
		return rc;
	}
	json_t *v = json_object_get(s.result, "verdict");
	printf("verified %s: run %s, key %.16s, %s, score %.3f%s\n", file,
	       jget_str(s.result, "run_id", NULL), s.key_id,
	       json_is_true(json_object_get(v, "compliant")) ? "compliant" : "not compliant",
	       jget_num(json_object_get(s.result, "score"), "run", 0),
	       trust ? ", trusted" : " (key not checked: no --trust)");
	seal__free(&s);
	return 0;
}
