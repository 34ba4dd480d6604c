/* results/fuzz/check.c: fuzz target for what the results repository (`vcons serve`, `vcons
 * verify`) does with an uploaded submission before storing it: check__submission (check.h), i.e.
 * the seal format parser (seal.h) and the schema and verdict checks, on arbitrary bytes.
 *
 * The first input byte picks how the rest is used:
 *   bit 0 clear: the rest is the upload itself (mostly rejected at the seal: JSON, format, key,
 *                signature, manifest, base64);
 *   bit 0 set:   the rest is members separated by NUL bytes (result.json, rules.yaml,
 *                csu-profile.yaml, then logs) that this target seals with its own key, so
 *                the schema and verdict checks see arbitrary results and rules;
 *   bit 1 set:   the trust directory holds that key (else trust is not checked).
 * Promises checked: a rejection is one of seal.h's kinds with a non-empty reason; nothing is
 * accepted whose signature does not verify (checked independently with OpenSSL) or, with a trust
 * directory, that another key signed; a correctly sealed upload is never rejected as a digest,
 * signature or trust failure; the same upload with another signature is rejected as one; an
 * accepted submission has a result that passes the schema check and the manifest's digest. */
#include "tools/fuzz.h"
#include "results/check.h"
#include "model/rules.h"
#include "model/verdict.h"

#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PARTS 8

static EVP_PKEY *fuzz_key;
static char fuzz_pem[512], fuzz_kid[65], trust_dir[PATH_MAX + 32];
static unsigned char fuzz_raw[32];

/* A fixed Ed25519 key, a trust directory holding its public half and a TMPDIR for check.c, both
 * in the target's scratch folder. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const unsigned char seed[32] = "vcons results-check fuzz key...";
	const char *dir = fuzz_scratch_dir("results-check");
	setenv("TMPDIR", dir, 1); /* check.c's copy of rules.yaml */
	snprintf(trust_dir, sizeof(trust_dir), "%s/trust", dir);
	fuzz_assert(mkdir(trust_dir, 0700) == 0);
	fuzz_key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	BIO *b = BIO_new(BIO_s_mem());
	char *p, path[PATH_MAX + 64], pem[PATH_MAX + 48];
	size_t rawlen = 32;
	fuzz_assert(fuzz_key && b && PEM_write_bio_PUBKEY(b, fuzz_key));
	long len = BIO_get_mem_data(b, &p);
	fuzz_assert(len > 0 && (size_t)len < sizeof(fuzz_pem));
	memcpy(fuzz_pem, p, (size_t)len);
	BIO_free(b);
	fuzz_assert(EVP_PKEY_get_raw_public_key(fuzz_key, fuzz_raw, &rawlen) == 1);
	seal__sha256_hex(fuzz_raw, 32, fuzz_kid);
	/* written whole, then renamed into place */
	snprintf(path, sizeof(path), "%s/fuzz.pem.%d", trust_dir, (int)getpid());
	snprintf(pem, sizeof(pem), "%s/fuzz.pem", trust_dir);
	FILE *f = fopen(path, "w");
	fuzz_assert(f && fputs(fuzz_pem, f) >= 0 && fclose(f) == 0 && rename(path, pem) == 0);
	// cppcheck-suppress resourceLeak ; f is closed, or fuzz_assert aborted
	return 0;
}

static char *b64(const void *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	fuzz_assert(out);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Whether sig (base64) is a valid Ed25519 signature of msg under the PEM public key. */
static int really_signed(const char *pem, const char *msg, const char *sig)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	size_t n = strlen(sig);
	unsigned char raw[128];
	int got = n <= 88 ? EVP_DecodeBlock(raw, (const unsigned char *)sig, (int)n) : -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = k && got >= 64 && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
	         EVP_DigestVerify(ctx, raw, 64, (const unsigned char *)msg, strlen(msg)) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return ok;
}

/* An accepted result's scores are the ones its data give, recomputed from nothing recorded. */
static void check_score(const json_t *result)
{
	struct run_rules r;
	char err[256];
	json_t *now = json_deep_copy(result);
	json_object_del(now, "verdict");
	json_object_del(now, "score");
	fuzz_assert(rules__from_json(json_object_get(result, "rules"), &r, err, sizeof(err)) == 0);
	fuzz_assert(verdict__evaluate(now, &r) == 0);
	json_t *run = json_object_get(json_object_get(now, "score"), "run");
	fuzz_assert(json_is_number(run) && isfinite(json_number_value(run)));
	fuzz_assert(fabs(json_number_value(run) - json_number_value(json_object_get(
	                                              json_object_get(result, "score"), "run"))) <=
	            1e-9 * fmax(1, fabs(json_number_value(run))));
	json_decref(now);
}

/* Runs the server's checks on one upload and checks the promises that hold for any upload.
 * Returns the check's code. */
static int check_upload(const char *buf, size_t len, const char *trust)
{
	struct submission s;
	char err[512] = "";
	int rc = check__submission(buf, len, trust, &s, err, sizeof(err));
	fuzz_assert(rc == SEAL_OK || rc == SEAL_IO || rc == SEAL_MALFORMED || rc == SEAL_DIGEST ||
	            rc == SEAL_SIGNATURE || rc == SEAL_UNTRUSTED || rc == SEAL_SCHEMA ||
	            rc == SEAL_VERDICT);
	if (rc != SEAL_OK) {
		fuzz_assert(err[0] != 0);
		seal__free(&s);
		return rc;
	}
	const char *man = json_string_value(json_object_get(s.doc, "manifest"));
	const char *pem = json_string_value(json_object_get(s.doc, "public_key"));
	const char *sig = json_string_value(json_object_get(s.doc, "signature"));
	fuzz_assert(man && pem && sig && really_signed(pem, man, sig));
	fuzz_assert(!trust || !memcmp(s.key, fuzz_raw, 32));
	char hex[65];
	seal__sha256_hex(man, strlen(man), hex);
	fuzz_assert(!strcmp(hex, s.digest));
	fuzz_assert(s.result && check__schema(s.result, err, sizeof(err)) == SEAL_OK);
	check_score(s.result);
	seal__free(&s);
	return rc;
}

/* The container for members parts[0..n-1] (result.json, rules.yaml, csu-profile.yaml, logs),
 * signed with the fuzz key, or with a signature of something else when forge is set. */
static char *seal_parts(const char *const *parts, const size_t *lens, int n, int forge)
{
	static const char *const names[MAX_PARTS] = {
		"result.json",           "rules.yaml",
		"csu-profile.yaml",      "logs/csu0-db.log",
		"logs/csu0-db-load.log", "logs/csu0-java.log",
		"logs/csu0-web.log",     "logs/csu0-mail.log"
	};
	char *man = NULL, *line, hex[65];
	json_t *files = json_object();
	fuzz_assert(asprintf(&man, SEAL_FORMAT "\nkey %s\n", fuzz_kid) > 0);
	for (int i = 0; i < n; i++) {
		char *m, *enc = b64(parts[i], lens[i]);
		seal__sha256_hex(parts[i], lens[i], hex);
		fuzz_assert(asprintf(&line, "%s %zu %s\n", hex, lens[i], names[i]) > 0);
		fuzz_assert(asprintf(&m, "%s%s", man, line) > 0);
		free(man);
		free(line);
		man = m;
		json_object_set_new(files, names[i], json_string(enc));
		free(enc);
	}
	unsigned char sig[64];
	size_t slen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	fuzz_assert(ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, fuzz_key) == 1 &&
	            EVP_DigestSign(ctx, sig, &slen, (const unsigned char *)man,
	                           strlen(man) - (forge ? 1 : 0)) == 1);
	EVP_MD_CTX_free(ctx);
	char *sig64 = b64(sig, slen);
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:o}", "format", SEAL_FORMAT, "manifest", man,
	                        "public_key", fuzz_pem, "signature", sig64, "files", files);
	char *text = json_dumps(doc, JSON_COMPACT);
	fuzz_assert(text);
	json_decref(doc);
	free(sig64);
	free(man);
	return text;
}

/* Members from NUL-separated input, sealed: never a digest, signature or trust failure; the
 * same members with a forged signature always a signature failure. */
static void check_sealed(const char *buf, size_t len, const char *trust)
{
	const char *parts[MAX_PARTS];
	size_t lens[MAX_PARTS];
	int n = 0;
	while (n < MAX_PARTS) {
		const char *nul = memchr(buf, 0, len);
		parts[n] = buf;
		lens[n++] = nul ? (size_t)(nul - buf) : len;
		if (!nul)
			break;
		len -= (size_t)(nul - buf) + 1;
		buf = nul + 1;
	}
	char *text = seal_parts(parts, lens, n, 0);
	int rc = check_upload(text, strlen(text), trust);
	fuzz_assert(rc != SEAL_DIGEST && rc != SEAL_SIGNATURE && rc != SEAL_UNTRUSTED);
	free(text);
	text = seal_parts(parts, lens, n, 1);
	fuzz_assert(check_upload(text, strlen(text), trust) == SEAL_SIGNATURE);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *trust = data[0] & 2 ? trust_dir : NULL;
	if (data[0] & 1)
		check_sealed((const char *)data + 1, size - 1, trust);
	else
		check_upload((const char *)data + 1, size - 1, trust);
	return 0;
}
