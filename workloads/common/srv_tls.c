/* workloads/common/srv_tls.c: certificate generation, the server TLS context, and TLS as a
 * connection's transport: its BIOs, handshake, reads and writes (see srv_tls.h). */
#include "workloads/common/srv_tls.h"
#include <stdio.h>
#include <stdlib.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

int tls_init(void)
{
	return OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) == 1 ? 0 : -1;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -1;
	int ok = X509_add_ext(x, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

static int write_pem(const char *path, int mode, EVP_PKEY *key, X509 *x)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -1;
	}
	int ok =
	    key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, x);
	if (fflush(f) != 0 || fsync(fd) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int tls_make_cert(const char *key_path, const char *cert_path, const char *cn, const char *ip)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	int rc = -1;
	if (!key || !x)
		goto out;
	unsigned char serial[8];
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
		BN_free(bn);
		goto out;
	}
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"vcons", -1, -1,
	                           0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	char san[128];
	snprintf(san, sizeof(san), "DNS:localhost,IP:%s", ip);
	if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign") ||
	    add_ext(x, NID_subject_alt_name, san) || add_ext(x, NID_subject_key_identifier, "hash"))
		goto out;
	if (!X509_sign(x, key, EVP_sha256()))
		goto out;
	if (write_pem(key_path, 0600, key, NULL) == 0 && write_pem(cert_path, 0644, NULL, x) == 0)
		rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

SSL_CTX *tls_server_ctx(const char *cert_path, const char *key_path, const char **err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		*err = "cannot create the TLS context";
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                          SSL_MODE_RELEASE_BUFFERS);
	static const unsigned char sid_ctx[] = "vcons";
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, 20000);
	SSL_CTX_set_timeout(ctx, 3600);
	SSL_CTX_set_read_ahead(ctx, 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		*err = "cannot use the TLS certificate or key (--cert/--key, or run --load)";
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ALPN: the first of the server's protocols (arg) that the client offers, or none. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
	(void)ssl;
	const char *mine = arg;
	unsigned char *sel;
	if (SSL_select_next_proto(&sel, outlen, (const unsigned char *)mine, (unsigned)strlen(mine),
	                          in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel; /* within the server's list */
	return SSL_TLSEXT_ERR_OK;
}

void tls_server_alpn(SSL_CTX *ctx, const char *protos)
{
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, (void *)protos);
}

/* The pair's paths: key and cert, or for NULL DATA/key.pem and DATA/cert.pem. */
static void data_paths(const char *data, const char *key, const char *cert, char kp[PATH_MAX],
                       char cp[PATH_MAX])
{
	if (key)
		snprintf(kp, PATH_MAX, "%s", key);
	else
		snprintf(kp, PATH_MAX, "%s/key.pem", data);
	if (cert)
		snprintf(cp, PATH_MAX, "%s", cert);
	else
		snprintf(cp, PATH_MAX, "%s/cert.pem", data);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int tls_data_cert(const char *data, const char *cn, const char *ip, bool keep)
{
	char kp[PATH_MAX], cp[PATH_MAX], kt[PATH_MAX + 8], ct[PATH_MAX + 8];
	data_paths(data, NULL, NULL, kp, cp);
	if (keep) {
		const char *err;
		SSL_CTX *ctx = tls_server_ctx(cp, kp, &err);
		ERR_clear_error();
		SSL_CTX_free(ctx);
		if (ctx)
			return 0;
	}
	snprintf(kt, sizeof(kt), "%s.tmp", kp);
	snprintf(ct, sizeof(ct), "%s.tmp", cp);
	if (tls_make_cert(kt, ct, cn, ip) || rename(kt, kp) || rename(ct, cp) || fsync_dir(data)) {
		unlink(kt);
		unlink(ct);
		return -1;
	}
	return 0;
}

SSL_CTX *tls_data_ctx(const char *data, const char *cert, const char *key, char *err, size_t len)
{
	char kp[PATH_MAX], cp[PATH_MAX];
	const char *why;
	data_paths(data, key, cert, kp, cp);
	SSL_CTX *ctx = tls_server_ctx(cp, kp, &why);
	if (!ctx) {
		unsigned long e = ERR_get_error();
		const char *reason = e ? ERR_reason_error_string(e) : NULL;
		snprintf(err, len, "cannot use the TLS certificate %s and key %s: %s", cp, kp,
		         reason ? reason : why);
		ERR_clear_error();
	}
	return ctx;
}

/* The socket BIO's callback: records whether a read came back short. */
static long read_cb(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
                    size_t *processed)
{
	(void)argp;
	(void)argi;
	(void)argl;
	if (oper == (BIO_CB_READ | BIO_CB_RETURN)) {
		bool *short_read = (bool *)BIO_get_callback_arg(b);
		*short_read = ret > 0 && processed && *processed < len;
	}
	return ret;
}

/* The connection on c's socket: reads straight from the socket, writes through the buffer. */
static SSL *tls_conn_new(SSL_CTX *ctx, struct srv_conn *c)
{
	SSL *ssl = SSL_new(ctx);
	BIO *sock = BIO_new_socket(c->fd, BIO_NOCLOSE);
	BIO *buf = BIO_new(BIO_f_buffer());
	if (!ssl || !sock || !buf || BIO_set_write_buffer_size(buf, TLS_WRITE_BUFFER) != 1 ||
	    !BIO_up_ref(sock)) {
		SSL_free(ssl);
		BIO_free(sock);
		BIO_free(buf);
		return NULL;
	}
	BIO_set_callback_ex(sock, read_cb);
	BIO_set_callback_arg(sock, (char *)&c->short_read);
	BIO_push(buf, sock);         /* writes: buffer, then socket (holds one reference) */
	SSL_set_bio(ssl, sock, buf); /* reads straight from the socket (the other reference) */
	return ssl;
}

/* Writes out the buffered records: 1 done, 0 the socket is full (c->blocked), -1 error. */
static int tls_flush(struct srv_conn *c)
{
	BIO *w = SSL_get_wbio(c->tr_state);
	if (BIO_flush(w) > 0)
		return 1;
	if (!BIO_should_retry(w))
		return -1;
	c->blocked = true;
	return 0;
}

/* What an OpenSSL call that returned k <= 0 waits for: SRV_AGAIN (drained or blocked set), or
 * SRV_ERR. */
static ssize_t tls_wait(struct srv_conn *c, int k)
{
	int e = SSL_get_error(c->tr_state, k);
	if (e == SSL_ERROR_WANT_WRITE)
		c->blocked = true;
	else if (e == SSL_ERROR_WANT_READ)
		c->drained = true;
	else
		return SRV_ERR;
	return SRV_AGAIN;
}

static ssize_t tls_read(struct srv_conn *c, void *p, size_t n)
{
	SSL *ssl = c->tr_state;
	int k = SSL_read(ssl, p, n > INT_MAX ? INT_MAX : (int)n);
	if (k > 0) { /* drained when OpenSSL's last socket read was short and it holds no bytes */
		c->drained = c->short_read && !SSL_has_pending(ssl) && !c->rdhup;
		return k;
	}
	if (SSL_get_error(ssl, k) == SSL_ERROR_ZERO_RETURN)
		return 0; /* close_notify */
	ssize_t rc = tls_wait(c, k);
	if (rc == SRV_ERR && SSL_get_error(ssl, k) == SSL_ERROR_SYSCALL && c->rdhup)
		return 0; /* end of stream without close_notify */
	return rc;
}

static ssize_t tls_writev(struct srv_conn *c, const struct iovec *iov, int n)
{
	size_t done = 0;
	for (int i = 0; i < n; i++) {
		size_t off = 0;
		while (off < iov[i].iov_len) {
			size_t len = iov[i].iov_len - off;
			int k = SSL_write(c->tr_state, (const char *)iov[i].iov_base + off,
			                  (int)(len > (1 << 30) ? 1 << 30 : len));
			if (k <= 0) {
				ssize_t rc = tls_wait(c, k);
				if (rc == SRV_AGAIN) /* a read that must come first waits too */
					c->blocked = true;
				return done ? (ssize_t)done : rc;
			}
			off += (size_t)k;
			done += (size_t)k;
		}
	}
	return (ssize_t)done;
}

static int tls_handshake(struct srv_conn *c)
{
	SSL *ssl = c->tr_state;
	int k = SSL_do_handshake(ssl);
	if (k == 1) {
		/* The handshake read on from a socket that c->drained may say is empty (after
		 * STARTTLS: the plain read before it), and the client's first data may have come
		 * with its Finished and been read ahead: read on, or it waits for an edge that
		 * already came. */
		if (!c->short_read || SSL_has_pending(ssl))
			c->drained = false;
		return 1;
	}
	return tls_wait(c, k) == SRV_AGAIN ? 0 : -1;
}

static void tls_close(struct srv_conn *c)
{
	SSL *ssl = c->tr_state;
	if (!c->handshaking && SSL_shutdown(ssl) >= 0)
		tls_flush(c); /* best effort close_notify; never waits */
	SSL_free(ssl);
	c->tr_state = NULL;
}

static const struct srv_transport tls_transport = { .read = tls_read,
	                                            .writev = tls_writev,
	                                            .flush = tls_flush,
	                                            .handshake = tls_handshake,
	                                            .close = tls_close };

int srv_tls_attach(struct srv_conn *c, void *ctx)
{
	SSL *ssl = tls_conn_new(ctx, c);
	if (!ssl)
		return -1;
	SSL_set_accept_state(ssl);
	c->tr = &tls_transport;
	c->tr_state = ssl;
	c->handshaking = true;
	return 0;
}

SSL *srv_tls_ssl(const struct srv_conn *c)
{
	return c->tr == &tls_transport ? c->tr_state : NULL;
}
