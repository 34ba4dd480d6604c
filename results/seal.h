/* results/seal.h: the submission file (format `vcons-submission/1`, results/README.md): one JSON
 * document holding a result's files (result.json, logs, the CSU profile and the rules, base64), a
 * manifest of their SHA-256 digests, an Ed25519 signature over the manifest and the signer's public
 * key. Opening a submission checks its structure, the signature and every digest; trust (is this
 * key one we accept?) is a separate step, and so are the result's schema and verdict (check.h).
 *
 * Every checking function returns SEAL_OK or the kind of failure below, which are also the exit
 * codes of `vcons verify` and `vcons submit` and the "error" of the server's answer. */
#ifndef RESULTS_SEAL_H
#define RESULTS_SEAL_H
#include <jansson.h>
#include <stddef.h>

#define SEAL_FORMAT "vcons-submission/1"

enum seal_rc {
	SEAL_OK = 0,
	SEAL_IO = 1,        /* a file could not be read or written */
	SEAL_MALFORMED = 3, /* not a submission: bad JSON, base64, manifest or key */
	SEAL_DIGEST = 4,    /* a member's bytes do not match the manifest, or members differ */
	SEAL_SIGNATURE = 5, /* the signature does not verify with the enclosed key */
	SEAL_UNTRUSTED = 6, /* the key is not among the trusted ones */
	SEAL_SCHEMA = 7,    /* result.json lacks required fields or has wrong types */
	SEAL_VERDICT = 8,   /* the recorded data contradict the recorded verdict or scores */
	SEAL_TOO_LARGE = 9, /* (server and submit only) the upload exceeds the size limit */
};

/* "malformed", "digest", ... ; "ok" for SEAL_OK. */
const char *seal__kind(int rc);

/* Writes DIR/vcons-key.pem (private, mode 0600) and DIR/vcons-key.pub.pem; refuses to overwrite. */
int seal__keygen(const char *dir, char *err, size_t errlen);

/* Packs RESULT_DIR (result.json, logs/, and the CSU profile and rules files its config names,
 * relative paths taken from the current directory) signed with the PEM private key at key_path.
 * *out is malloc'd JSON text. SEAL_OK, SEAL_IO or SEAL_MALFORMED, with the reason in err. */
int seal__create(const char *result_dir, const char *key_path, char **out, size_t *outlen,
                 char *err, size_t errlen);

struct submission {
	json_t *doc;     /* the container */
	json_t *result;  /* result.json, parsed */
	char digest[65]; /* SHA-256 of the manifest: the submission's identity (dedupe key) */
	char key_id[65]; /* SHA-256 of the raw public key */
	unsigned char key[32];
};

/* Parses buf and checks the manifest, the signature and every digest. On SEAL_OK s owns memory to
 * release with seal__free (also safe after a failure). */
int seal__open(const char *buf, size_t len, struct submission *s, char *err, size_t errlen);
void seal__free(struct submission *s);

/* A member's decoded bytes (malloc'd, NUL-terminated for convenience), or -1 when absent. */
int seal__member(const struct submission *s, const char *name, unsigned char **data, size_t *len);

/* SEAL_OK when the submission's key is one of the public keys (*.pem) in trust_dir. */
int seal__trusted(const struct submission *s, const char *trust_dir, char *err, size_t errlen);

/* Helpers shared with check.c and the tests. */
void seal__sha256_hex(const void *data, size_t len, char out[65]);
/* The reason, formatted as printf's, into err; returns rc (return seal__fail(SEAL_IO, ...)). */
int seal__fail(int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int seal__read_file(const char *path, char **data, size_t *len); /* 0 or -1 (errno) */

#endif
