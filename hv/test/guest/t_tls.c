/* Guest conformance test: an OpenSSL TLS handshake between two threads over loopback TCP, with a
 * key and self-signed certificate made in memory; the client verifies the server against it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static EVP_PKEY *key;
static X509 *cert;
static int listen_fd;
static struct sockaddr_in addr;

static void make_identity(void)
{
	key = EVP_EC_gen("P-256");
	cert = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_pubkey(cert, key);
	X509_NAME *n = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"vcons.test", -1,
	                           -1, 0);
	X509_set_issuer_name(cert, n);
	X509_sign(cert, key, EVP_sha256());
}

static void *server(void *arg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_certificate(ctx, cert);
	SSL_CTX_use_PrivateKey(ctx, key);
	int c = accept(listen_fd, NULL, NULL);
	SSL *s = SSL_new(ctx);
	SSL_set_fd(s, c);
	long ok = SSL_accept(s) == 1;
	char buf[64] = { 0 };
	if (ok && SSL_read(s, buf, sizeof(buf) - 1) > 0 && !strcmp(buf, "ping"))
		ok = SSL_write(s, "pong", 4) == 4;
	SSL_shutdown(s);
	SSL_free(s);
	close(c);
	SSL_CTX_free(ctx);
	return (void *)ok;
}

int main(void)
{
	make_identity();
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	addr = (struct sockaddr_in){ .sin_family = AF_INET,
		                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(addr);
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    getsockname(listen_fd, (struct sockaddr *)&addr, &al) || listen(listen_fd, 1)) {
		perror("bind/listen");
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, server, NULL);

	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), cert);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("connect");
		return 1;
	}
	SSL *s = SSL_new(ctx);
	SSL_set_fd(s, fd);
	SSL_set1_host(s, "vcons.test");
	int hs = SSL_connect(s);
	printf("handshake: %s\n", hs == 1 ? "ok" : "failed");
	if (hs != 1)
		ERR_print_errors_fp(stdout);
	printf("protocol: %s\n", SSL_get_version(s));
	printf("verified: %s\n", SSL_get_verify_result(s) == X509_V_OK ? "yes" : "no");
	SSL_write(s, "ping", 4);
	char buf[64] = { 0 };
	SSL_read(s, buf, sizeof(buf) - 1);
	printf("reply: %s\n", buf);
	SSL_shutdown(s);
	SSL_free(s);
	close(fd);
	void *r;
	pthread_join(t, &r);
	printf("server side: %s\n", r ? "ok" : "failed");
	SSL_CTX_free(ctx);
	return hs == 1 && r ? 0 : 1;
}
