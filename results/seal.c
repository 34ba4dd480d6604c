/* results/seal.c: keys, packing, signing and opening submissions (see seal.h; the format is in
 * results/README.md). OpenSSL does SHA-256, Ed25519 and base64; jansson the container. */
#include "results/seal.h"
#include "lib/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_MEMBERS 256

int seal__fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

const char *seal__kind(int rc)
{
	switch (rc) {
	case SEAL_OK: return "ok";
	case SEAL_IO: return "io";
	case SEAL_MALFORMED: return "malformed";
	case SEAL_DIGEST: return "digest";
	case SEAL_SIGNATURE: return "signature";
	case SEAL_UNTRUSTED: return "untrusted";
	case SEAL_SCHEMA: return "schema";
	case SEAL_VERDICT: return "verdict";
	case SEAL_TOO_LARGE: return "too_large";
	}
	return "error";
}

void seal__sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int seal__read_file(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap + 1);
	size_t got;
	while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *nb = realloc(b, 2 * cap + 1);
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	int bad = ferror(f) || !b;
	(void)fclose(f);
	if (bad) {
		free(b);
		errno = errno ? errno : ENOMEM;
		return -1;
	}
	// cppcheck-suppress nullPointer ; bad covers !b
	b[n] = 0;
	*data = b;
	*len = n;
	return 0;
}

static char *b64_encode(const unsigned char *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Decoded bytes (NUL-terminated) or NULL when s is not canonical base64. */
static unsigned char *b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s);
	if (n % 4)
		return NULL;
	unsigned char *out = malloc(n / 4 * 3 + 1);
	if (!out)
		return NULL;
	int got = n ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)n) : 0;
	if (got < 0) {
		free(out);
		return NULL;
	}
	size_t pad = (n && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
	*len = (size_t)got - pad;
	out[*len] = 0;
	return out;
}

int seal__keygen(const char *dir, char *err, size_t errlen)
{
	char priv[4096], pub[4096];
	snprintf(priv, sizeof(priv), "%s/vcons-key.pem", dir);
	snprintf(pub, sizeof(pub), "%s/vcons-key.pub.pem", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return seal__fail(SEAL_IO, err, errlen, "%s: %s", dir, strerror(errno));
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!key)
		return seal__fail(SEAL_IO, err, errlen, "cannot make an Ed25519 key (OpenSSL)");
	int rc = SEAL_IO;
	int fd = open(priv, O_WRONLY | O_CREAT | O_EXCL, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		seal__fail(SEAL_IO, err, errlen, "%s: %s", priv, strerror(errno));
		goto out;
	}
	int ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) || !ok) {
		seal__fail(SEAL_IO, err, errlen, "%s: cannot write the key", priv);
		goto out;
	}
	fd = open(pub, O_WRONLY | O_CREAT | O_EXCL, 0644);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		seal__fail(SEAL_IO, err, errlen, "%s: %s", pub, strerror(errno));
		goto out;
	}
	ok = PEM_write_PUBKEY(f, key);
	if (fclose(f) || !ok) {
		seal__fail(SEAL_IO, err, errlen, "%s: cannot write the key", pub);
		goto out;
	}
	rc = SEAL_OK;
out:
	EVP_PKEY_free(key);
	return rc;
}

/* --- packing ------------------------------------------------------------------------------------
 */

struct pack {
	json_t *files;  /* name -> base64 */
	char *manifest; /* growing text */
	size_t mlen;
};

static int add_member(struct pack *p, const char *name, const char *path, char *err, size_t errlen)
{
	char *data;
	size_t len;
	if (seal__read_file(path, &data, &len) < 0)
		return seal__fail(SEAL_IO, err, errlen, "%s: %s", path, strerror(errno));
	char hex[65], line[600];
	seal__sha256_hex(data, len, hex);
	int n = snprintf(line, sizeof(line), "%s %zu %s\n", hex, len, name);
	char *m = realloc(p->manifest, p->mlen + (size_t)n + 1);
	if (m)
		p->manifest = m; /* the old block is gone either way: the caller frees this one */
	char *b = b64_encode((unsigned char *)data, len);
	free(data);
	if (!m || !b) {
		free(b);
		return seal__fail(SEAL_IO, err, errlen, "out of memory");
	}
	memcpy(m + p->mlen, line, (size_t)n + 1);
	p->mlen += (size_t)n;
	json_object_set_new(p->files, name, json_string(b));
	free(b);
	return SEAL_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* logs/ in name order, regular files only. */
static int add_logs(struct pack *p, const char *dir, char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/logs", dir);
	DIR *d = opendir(path);
	if (!d)
		return SEAL_OK; /* a result without logs is still a result */
	char *names[MAX_MEMBERS];
	int n = 0, rc = SEAL_OK;
	struct dirent *e;
	while ((e = readdir(d)) && n < MAX_MEMBERS) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/logs/%s", dir, e->d_name);
		if (e->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	// cppcheck-suppress uninitvar ; n of them are set
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		char name[300];
		snprintf(path, sizeof(path), "%s/logs/%s", dir, names[i]);
		snprintf(name, sizeof(name), "logs/%s", names[i]);
		if (rc == SEAL_OK)
			rc = add_member(p, name, path, err, errlen);
		free(names[i]);
	}
	return rc;
}

static EVP_PKEY *load_private(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		seal__fail(0, err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	(void)fclose(f);
	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		seal__fail(0, err, errlen, "%s: not an Ed25519 private key in PEM", path);
		return NULL;
	}
	return k;
}

static char *public_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL, *p;
	if (b && PEM_write_bio_PUBKEY(b, k)) {
		long n = BIO_get_mem_data(b, &p);
		out = strndup(p, (size_t)n);
	}
	BIO_free(b);
	return out;
}

static int key_id(EVP_PKEY *k, unsigned char raw[32], char hex[65])
{
	size_t n = 32;
	if (EVP_PKEY_get_raw_public_key(k, raw, &n) != 1 || n != 32)
		return -1;
	seal__sha256_hex(raw, 32, hex);
	return 0;
}

/* The config's file, which must still hash as recorded (rules) - else the seal would lie. */
static int add_config(struct pack *p, const json_t *result, char *err, size_t errlen)
{
	json_t *cfg = json_object_get(result, "config");
	const char *csu = jget_str(cfg, "csu_file", NULL),
	           *rules = jget_str(cfg, "rules_file", NULL),
	           *sha = jget_str(json_object_get(result, "rules"), "sha256", NULL);
	if (!csu || !rules || !sha)
		return seal__fail(
		    SEAL_MALFORMED, err, errlen,
		    "result.json: config.csu_file, config.rules_file or rules.sha256 missing");
	char *data;
	size_t len;
	char hex[65];
	if (seal__read_file(rules, &data, &len) < 0)
		return seal__fail(SEAL_IO, err, errlen, "%s: %s", rules, strerror(errno));
	seal__sha256_hex(data, len, hex);
	free(data);
	if (strcmp(hex, sha))
		return seal__fail(SEAL_MALFORMED, err, errlen,
		                  "%s: changed since the run (SHA-256 differs from the result's)",
		                  rules);
	int rc = add_member(p, "csu-profile.yaml", csu, err, errlen);
	return rc ? rc : add_member(p, "rules.yaml", rules, err, errlen);
}

static int sign(EVP_PKEY *k, const char *msg, size_t len, char **b64)
{
	unsigned char sig[64];
	size_t slen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
	         EVP_DigestSign(ctx, sig, &slen, (const unsigned char *)msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	*b64 = ok ? b64_encode(sig, slen) : NULL;
	return *b64 ? 0 : -1;
}

int seal__create(const char *dir, const char *key_path, char **out, size_t *outlen, char *err,
                 size_t errlen)
{
	char path[4096], *text;
	size_t len;
	snprintf(path, sizeof(path), "%s/result.json", dir);
	if (seal__read_file(path, &text, &len) < 0)
		return seal__fail(SEAL_IO, err, errlen, "%s: %s", path, strerror(errno));
	json_error_t je;
	json_t *result = json_loadb(text, len, 0, &je);
	free(text);
	if (!json_is_object(result)) {
		json_decref(result);
		return seal__fail(SEAL_MALFORMED, err, errlen, "%s: not a JSON object", path);
	}
	EVP_PKEY *k = load_private(key_path, err, errlen);
	if (!k) {
		json_decref(result);
		return SEAL_IO;
	}
	struct pack p = { .files = json_object() };
	unsigned char raw[32];
	char kid[65], *sig = NULL, *pem = public_pem(k);
	key_id(k, raw, kid);
	int n = asprintf(&p.manifest, SEAL_FORMAT "\nkey %s\n", kid);
	p.manifest = n < 0 ? NULL : p.manifest; /* undefined after a failure */
	p.mlen = n < 0 ? 0 : (size_t)n;
	int rc = n < 0 ? seal__fail(SEAL_IO, err, errlen, "out of memory")
	               : add_member(&p, "result.json", path, err, errlen);
	if (!rc)
		rc = add_config(&p, result, err, errlen);
	if (!rc)
		rc = add_logs(&p, dir, err, errlen);
	if (!rc && (!pem || sign(k, p.manifest, p.mlen, &sig) < 0))
		rc = seal__fail(SEAL_IO, err, errlen, "cannot sign (OpenSSL)");
	if (!rc) {
		json_t *doc =
		    json_pack("{s:s,s:s,s:s,s:s,s:O}", "format", SEAL_FORMAT, "manifest",
		              p.manifest, "public_key", pem, "signature", sig, "files", p.files);
		*out = json_dumps(doc, JSON_COMPACT);
		*outlen = *out ? strlen(*out) : 0;
		json_decref(doc);
		if (!*out)
			rc = seal__fail(SEAL_IO, err, errlen, "out of memory");
	}
	free(sig);
	free(pem);
	free(p.manifest);
	json_decref(p.files);
	json_decref(result);
	EVP_PKEY_free(k);
	return rc;
}

/* --- opening ------------------------------------------------------------------------------------
 */

void seal__free(struct submission *s)
{
	json_decref(s->doc);
	json_decref(s->result);
	s->doc = s->result = NULL;
}

int seal__member(const struct submission *s, const char *name, unsigned char **data, size_t *len)
{
	const char *b = jget_str(json_object_get(s->doc, "files"), name, NULL);
	if (!b)
		return -1;
	*data = b64_decode(b, len);
	return *data ? 0 : -1;
}

static int verify_sig(EVP_PKEY *k, const char *msg, const char *sig_b64)
{
	size_t slen = 0;
	unsigned char *sig = b64_decode(sig_b64, &slen);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = sig && slen == 64 && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
	         EVP_DigestVerify(ctx, sig, slen, (const unsigned char *)msg, strlen(msg)) == 1;
	EVP_MD_CTX_free(ctx);
	free(sig);
	return ok ? 0 : -1;
}

/* One manifest line "HEX SIZE NAME": its member must be present with those bytes. */
static int check_line(struct submission *s, const char *line, json_t *seen, char *err,
                      size_t errlen)
{
	char hex[65], name[300], got[65];
	size_t size, len;
	unsigned char *data;
	int n = (int)strcspn(line, "\n"); /* the line alone in a message */
	// NOLINTNEXTLINE(cert-err34-c): 19 digits at most: no overflow
	if (sscanf(line, "%64[0-9a-f] %19zu %299[^\n]", hex, &size, name) != 3 || strlen(hex) != 64)
		return seal__fail(SEAL_MALFORMED, err, errlen, "manifest: bad line: %.*s",
		                  n < 80 ? n : 80, line);
	if (json_object_get(seen, name))
		return seal__fail(SEAL_MALFORMED, err, errlen, "manifest: %s listed twice", name);
	if (seal__member(s, name, &data, &len) < 0)
		return seal__fail(SEAL_DIGEST, err, errlen, "member %s: missing or not base64",
		                  name);
	seal__sha256_hex(data, len, got);
	if (!strcmp(name, "result.json") && !s->result)
		s->result = json_loadb((char *)data, len, 0, NULL);
	free(data);
	if (len != size || strcmp(got, hex))
		return seal__fail(SEAL_DIGEST, err, errlen,
		                  "member %s: SHA-256 differs from the manifest", name);
	json_object_set_new(seen, name, json_true());
	return SEAL_OK;
}

static int check_manifest(struct submission *s, const char *manifest, char *err, size_t errlen)
{
	json_t *seen = json_object();
	int rc = SEAL_OK;
	const char *p = strchr(manifest, '\n');
	p = p ? strchr(p + 1, '\n') : NULL; /* after the format and key lines */
	while (p && p[1] && rc == SEAL_OK) {
		rc = check_line(s, p + 1, seen, err, errlen);
		p = strchr(p + 1, '\n');
	}
	size_t nseen = json_object_size(seen);
	json_decref(seen);
	if (rc)
		return rc;
	if (nseen != json_object_size(json_object_get(s->doc, "files")))
		return seal__fail(SEAL_DIGEST, err, errlen, "members not in the manifest");
	if (!s->result)
		return seal__fail(json_object_get(json_object_get(s->doc, "files"), "result.json")
		                      ? SEAL_MALFORMED
		                      : SEAL_DIGEST,
		                  err, errlen, "result.json: missing or not JSON");
	return SEAL_OK;
}

static EVP_PKEY *read_public(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (k && EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	return k;
}

int seal__open(const char *buf, size_t len, struct submission *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	json_error_t je;
	s->doc = json_loadb(buf, len, 0, &je);
	if (!s->doc)
		return seal__fail(SEAL_MALFORMED, err, errlen, "not JSON: line %d: %s", je.line,
		                  je.text);
	const char *fmt = jget_str(s->doc, "format", NULL),
	           *man = jget_str(s->doc, "manifest", NULL),
	           *pem = jget_str(s->doc, "public_key", NULL),
	           *sig = jget_str(s->doc, "signature", NULL);
	if (!fmt || strcmp(fmt, SEAL_FORMAT) || !man || !pem || !sig ||
	    !json_is_object(json_object_get(s->doc, "files")))
		return seal__fail(SEAL_MALFORMED, err, errlen,
		                  "not a " SEAL_FORMAT
		                  " submission (format, manifest, public_key, signature, files)");
	EVP_PKEY *k = read_public(pem);
	if (!k)
		return seal__fail(SEAL_MALFORMED, err, errlen,
		                  "public_key: not an Ed25519 key in PEM");
	char head[128];
	int rc = key_id(k, s->key, s->key_id) < 0 ? SEAL_MALFORMED : SEAL_OK;
	snprintf(head, sizeof(head), SEAL_FORMAT "\nkey %s\n", s->key_id);
	if (!rc && strncmp(man, head, strlen(head)))
		rc = seal__fail(SEAL_SIGNATURE, err, errlen, "manifest: not for the enclosed key");
	else if (!rc && verify_sig(k, man, sig) < 0)
		rc = seal__fail(SEAL_SIGNATURE, err, errlen,
		                "signature: does not verify with the enclosed key");
	EVP_PKEY_free(k);
	if (!rc)
		rc = check_manifest(s, man, err, errlen);
	if (!rc)
		seal__sha256_hex(man, strlen(man), s->digest);
	return rc;
}

static int is_trusted_file(const char *path, const unsigned char key[32])
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	(void)fclose(f);
	unsigned char raw[32];
	char hex[65];
	int ok = k && EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519 && !key_id(k, raw, hex) &&
	         !memcmp(raw, key, 32);
	EVP_PKEY_free(k);
	return ok;
}

int seal__trusted(const struct submission *s, const char *trust_dir, char *err, size_t errlen)
{
	DIR *d = opendir(trust_dir);
	if (!d)
		return seal__fail(SEAL_IO, err, errlen, "%s: %s", trust_dir, strerror(errno));
	struct dirent *e;
	int ok = 0;
	while (!ok && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char path[4096];
		if (n < 4 || strcmp(e->d_name + n - 4, ".pem"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", trust_dir, e->d_name);
		ok = is_trusted_file(path, s->key);
	}
	closedir(d);
	return ok ? SEAL_OK
	          : seal__fail(SEAL_UNTRUSTED, err, errlen,
	                       "key %.16s... is not trusted (not in %s)", s->key_id, trust_dir);
}
