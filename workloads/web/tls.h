/* workloads/web/tls.h: vcons-web's TLS set-up with OpenSSL: a self-signed certificate made with
 * the library's API (no openssl command at run time) and the server context (TLS 1.2 and 1.3,
 * session tickets and a server-side session cache for resumption). */
#ifndef WORKLOADS_WEB_TLS_H
#define WORKLOADS_WEB_TLS_H
#include <openssl/ssl.h>

/* OpenSSL initialisation without reading any configuration file (guest programs touch only
 * --data). 0 or -1. */
int tls_init(void);
/* Writes an EC P-256 key (key_path, mode 0600) and a self-signed certificate for CN "vcons-web"
 * with subjectAltName DNS:localhost and IP:ip (cert_path), valid ten years. 0 or -1. */
int tls_make_cert(const char *key_path, const char *cert_path, const char *ip);
/* NULL with *err set when the files cannot be used. Reads ahead: one read takes in what the
 * socket holds (a record's header and body, or several records), not a record's parts apiece. */
SSL_CTX *tls_server_ctx(const char *cert_path, const char *key_path, const char **err);

/* A server connection on the non-blocking socket fd whose records are written through a buffer
 * (TLS_WRITE_BUFFER bytes: an answer's records leave in one write, a large one in few), so after
 * SSL_write the caller calls tls_flush. *short_read is set after each read from the socket: 1 when
 * it returned fewer bytes than asked (the socket was empty), else 0. NULL on failure. */
SSL *tls_conn_new(SSL_CTX *ctx, int fd, int *short_read);
/* Writes out the buffered records: 1 done, 0 the socket is full (retry on EPOLLOUT), -1 error. */
int tls_flush(SSL *ssl);
#define TLS_WRITE_BUFFER (64 * 1024)

#endif
