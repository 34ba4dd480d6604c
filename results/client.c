/* results/client.c: the upload with retries (see client.h). */
#include "results/client.h"
#include "lib/json.h"
#include "results/seal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct body {
	char *data;
	size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *cls)
{
	struct body *b = cls;
	size_t add = size * n;
	if (b->len + add > (1u << 20))
		return 0; /* no answer of ours is this large */
	char *d = realloc(b->data, b->len + add + 1);
	if (!d)
		return 0;
	memcpy(d + b->len, p, add);
	b->data = d;
	b->len += add;
	d[b->len] = 0;
	return add;
}

static int on_progress(void *cls, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	if (ultotal > 0)
		fprintf(stderr, "\rupload %3d%% (%lld of %lld bytes)", (int)(100 * ulnow / ultotal),
		        (long long)ulnow, (long long)ultotal);
	return 0;
}

static void endpoint(const char *url, char *out, size_t len)
{
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	if (n >= 12 && !strncmp(url + n - 12, "/api/results", 12))
		snprintf(out, len, "%.*s", (int)n, url);
	else
		snprintf(out, len, "%.*s/api/results", (int)n, url);
}

/* One POST: the curl code, with the status and body in a. */
static CURLcode post(CURL *c, const char *url, const char *buf, size_t len, int progress,
                     struct client_answer *a)
{
	struct body b = { 0 };
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, buf);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (progress) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	}
	CURLcode rc = curl_easy_perform(c);
	if (progress)
		fputc('\n', stderr);
	curl_slist_free_all(h);
	a->status = 0;
	json_decref(a->body);
	a->body = NULL;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
		a->body = b.data ? json_loads(b.data, 0, NULL) : NULL;
	}
	free(b.data);
	return rc;
}

static int transient(CURLcode rc, long status)
{
	if (rc == CURLE_OK)
		return status >= 500;
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
	       rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_PARTIAL_FILE;
}

/* The exit status a rejection's kind maps to (seal.h). */
static int code_of(const char *kind)
{
	static const int codes[] = { SEAL_MALFORMED, SEAL_DIGEST,  SEAL_SIGNATURE, SEAL_UNTRUSTED,
		                     SEAL_SCHEMA,    SEAL_VERDICT, SEAL_TOO_LARGE };
	for (size_t i = 0; kind && i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(kind, seal__kind(codes[i])))
			return codes[i];
	return 1;
}

static int outcome(struct client_answer *a)
{
	const char *kind = jget_str(a->body, "error", NULL),
	           *why = jget_str(a->body, "reason", NULL);
	if ((a->status == 201 || a->status == 200) &&
	    json_is_integer(json_object_get(a->body, "id")))
		return 0;
	if (a->status == 413 && !kind)
		kind = "too_large", why = "the upload exceeds the server's limit";
	snprintf(a->err, sizeof(a->err), "rejected (HTTP %ld, %s): %s", a->status,
	         kind ? kind : "?", why ? why : "no reason given");
	return a->status >= 400 && a->status < 500 ? code_of(kind) : 1;
}

int client__submit(const char *buf, size_t len, const struct client_opts *o,
                   struct client_answer *a)
{
	char url[2048];
	endpoint(o->url, url, sizeof(url));
	memset(a, 0, sizeof(*a));
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(a->err, sizeof(a->err), "cannot initialize libcurl");
		return 1;
	}
	double wait = o->backoff_s;
	CURLcode rc = CURLE_OK;
	for (int k = 1; k <= o->tries; k++) {
		rc = post(c, url, buf, len, o->progress, a);
		if (!transient(rc, a->status))
			break;
		snprintf(a->err, sizeof(a->err), "%s: %s", url,
		         rc ? curl_easy_strerror(rc) : "server error");
		if (rc == CURLE_OK)
			snprintf(a->err, sizeof(a->err), "%s: HTTP %ld", url, a->status);
		if (k == o->tries)
			break;
		if (o->verbose_retry)
			fprintf(stderr, "vcons: submit: try %d of %d: %s; again in %.1f s\n", k,
			        o->tries, a->err, wait);
		struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };
		nanosleep(&ts, NULL);
		wait = wait * 2 > 5 ? 5 : wait * 2;
	}
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		char why[600];
		snprintf(why, sizeof(why), "%s (after %d tries)", a->err, o->tries);
		snprintf(a->err, sizeof(a->err), "%s", why);
		return 1;
	}
	return outcome(a);
}
