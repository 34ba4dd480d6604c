/* workloads/common/srv_tls.h: TLS as a transport of the server core (srv.h), with OpenSSL: a
 * self-signed certificate made with the library's API (no openssl command at run time), the server
 * context (TLS 1.2 and 1.3, session tickets and a server-side session cache for resumption, and
 * application protocols negotiated by ALPN where the server names them), and a connection's
 * transport (srv_tls_attach: on a TLS listener for each new connection, or through
 * srv_conn_upgrade for STARTTLS).
 *
 * A connection's records are read straight from the socket with read-ahead (one read takes in what
 * the socket holds: a record's header and body, or several records) and written through a buffer
 * of TLS_WRITE_BUFFER bytes (an answer's records leave in one write, a large one in few). A read
 * is the last until the next edge when the socket gave fewer bytes than asked and OpenSSL has none.
 */
#ifndef VCONS_SRV_TLS_H
#define VCONS_SRV_TLS_H
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "workloads/common/srv.h"

/* OpenSSL initialisation without reading any configuration file (guest programs touch only
 * --data). 0 or -1. */
int tls_init(void);
/* Writes an EC P-256 key (key_path, mode 0600) and a self-signed certificate for CN cn with
 * subjectAltName DNS:localhost and IP:ip (cert_path), valid ten years. 0 or -1. */
int tls_make_cert(const char *key_path, const char *cert_path, const char *cn, const char *ip);
/* NULL with *err set when the files cannot be used. */
SSL_CTX *tls_server_ctx(const char *cert_path, const char *key_path, const char **err);
/* Lets ctx's connections choose an application protocol by ALPN (RFC 7301). protos: the server's
 * protocols in order of preference, in ALPN's wire form (each name after a byte giving its length:
 * "\x02h2\x08http/1.1"), NUL-terminated and living as long as ctx (a literal). A handshake picks
 * the first of them the client offers; a client offering none of them, or no ALPN, gets none and
 * the server speaks its default. SSL_get0_alpn_selected(srv_tls_ssl(c), ...) tells the choice. */
void tls_server_alpn(SSL_CTX *ctx, const char *protos);

/* A server's own key and certificate live in its data directory, DATA/key.pem and DATA/cert.pem
 * (--cert/--key name others). tls_data_cert writes that pair (tls_make_cert, each file under a
 * temporary name, fsynced, then renamed, the directory fsynced: a crash never leaves half a file);
 * with keep, only when the pair there cannot be used (missing, or a crash between the renames left
 * a key that does not match the certificate). 0 or -1. */
int tls_data_cert(const char *data, const char *cn, const char *ip, bool keep);
/* The server context from cert and key, NULL meaning the file in data; NULL with a message naming
 * the files in err. */
SSL_CTX *tls_data_ctx(const char *data, const char *cert, const char *key, char *err, size_t len);

/* srv_secure_fn: puts c under TLS as the server side, ctx an SSL_CTX; the handshake is the first
 * thing c does. 0, or -1. */
int srv_tls_attach(struct srv_conn *c, void *ctx);
/* c's OpenSSL connection, or NULL when c is not under TLS. */
SSL *srv_tls_ssl(const struct srv_conn *c);
#define TLS_WRITE_BUFFER (64 * 1024)

#endif
