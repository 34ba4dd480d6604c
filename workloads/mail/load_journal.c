/* workloads/mail/load_journal.c: the record of what the server acknowledged, and --verify.
 * During a run every 250-acknowledged (message, recipient) pair is appended to the journal file
 * with its body checksum, and kept in memory so fetches can be checked against what was sent;
 * deletes are journalled before they are sent ("D") and once the server confirmed them ("X").
 * verify_run reads the journal back and fetches every mailbox over IMAP: each acknowledged message
 * not deleted must be there with the body it was sent with. */
#include "workloads/mail/load.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/common/report.h"

#define NBUCKETS 65536

struct jent {
	struct jent *next;
	int user;
	bool acked; /* the server acknowledged it (its 250 may come after the recipient deleted it)
	             */
	char del;   /* 0, 'D' delete sent, 'X' delete confirmed */
	bool found; /* verify: seen on the server */
	char sum[65];
	char id[];
};

struct journal {
	pthread_mutex_t lock;
	FILE *f;
	struct jent *b[NBUCKETS];
};

static unsigned hash(const char *id, int user)
{
	unsigned h = 2166136261u ^ (unsigned)user;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % NBUCKETS;
}

static struct jent *find(struct journal *j, const char *id, int user)
{
	for (struct jent *e = j->b[hash(id, user)]; e; e = e->next)
		if (e->user == user && !strcmp(e->id, id))
			return e;
	return NULL;
}

/* The entry of (id, user), created when missing. sum may be NULL (a delete seen before the 250). */
static struct jent *get(struct journal *j, const char *id, int user, const char *sum)
{
	struct jent *f = find(j, id, user);
	if (f) {
		if (sum && !f->acked) {
			snprintf(f->sum, sizeof(f->sum), "%s", sum);
			f->acked = true;
		}
		return f;
	}
	size_t n = strlen(id);
	struct jent *e = calloc(1, sizeof(*e) + n + 1);
	if (!e)
		return NULL;
	memcpy(e->id, id, n + 1);
	e->user = user;
	e->acked = sum != NULL;
	snprintf(e->sum, sizeof(e->sum), "%s", sum ? sum : "");
	unsigned h = hash(id, user);
	e->next = j->b[h];
	j->b[h] = e;
	return e;
}

struct journal *journal_open(const char *path, char *err, size_t errlen)
{
	struct journal *j = calloc(1, sizeof(*j));
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&j->lock, NULL);
	if (path) {
		j->f = fopen(path, "a");
		if (!j->f) {
			snprintf(err, errlen, "cannot open journal %s: %s", path, strerror(errno));
			free(j);
			return NULL;
		}
	}
	return j;
}

int journal_close(struct journal *j)
{
	if (!j)
		return 0;
	int rc = j->f && (ferror(j->f) | fclose(j->f)) ? -1 : 0;
	for (unsigned i = 0; i < NBUCKETS; i++)
		for (struct jent *e = j->b[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	pthread_mutex_destroy(&j->lock);
	free(j);
	return rc;
}

void journal_acked(struct journal *j, const char *id, int user, const char *sum)
{
	pthread_mutex_lock(&j->lock);
	get(j, id, user, sum);
	if (j->f) {
		fprintf(j->f, "A %s %d %s\n", id, user, sum);
		(void)fflush(j->f); /* a failure stays in ferror(): journal_close() reports it */
	}
	pthread_mutex_unlock(&j->lock);
}

void journal_delete(struct journal *j, const char *id, int user, bool confirmed)
{
	pthread_mutex_lock(&j->lock);
	struct jent *e = get(j, id, user, NULL);
	if (e && e->del != 'X')
		e->del = confirmed ? 'X' : 'D';
	if (j->f) {
		fprintf(j->f, "%c %s %d\n", confirmed ? 'X' : 'D', id, user);
		(void)fflush(j->f); /* a failure stays in ferror(): journal_close() reports it */
	}
	pthread_mutex_unlock(&j->lock);
}

const char *journal_sum(struct journal *j, const char *id, int user)
{
	pthread_mutex_lock(&j->lock);
	struct jent *e = find(j, id, user);
	const char *s = e && e->acked ? e->sum : NULL; /* entries live as long as the run */
	pthread_mutex_unlock(&j->lock);
	return s;
}

static int journal_read(struct journal *j, const char *path, int *max_user, char *err, size_t el)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, el, "cannot open journal %s: %s", path, strerror(errno));
		return -1;
	}
	char line[512], id[128], sum[128];
	int user;
	char kind;
	unsigned long ln = 0;
	*max_user = 0;
	while (fgets(line, sizeof(line), f)) {
		ln++;
		// NOLINTNEXTLINE(cert-err34-c): our own journal, checked for sense below
		if (sscanf(line, "%c %127s %d %127s", &kind, id, &user, sum) < 3 || user < 1) {
			if (!strchr(line, '\n') && feof(f))
				break; /* a last line cut short by a crash of the generator */
			snprintf(err, el, "%s:%lu: malformed journal line", path, ln);
			(void)fclose(f);
			return -1;
		}
		if (user > *max_user)
			*max_user = user;
		struct jent *e = get(j, id, user, kind == 'A' ? sum : NULL);
		if (!e) {
			snprintf(err, el, "out of memory");
			(void)fclose(f);
			return -1;
		}
		if ((kind == 'D' || kind == 'X') && e->del != 'X')
			e->del = kind;
	}
	(void)fclose(f);
	return 0;
}

struct vcount {
	uint64_t acked, present, lost, corrupt, deleted_back, unknown, pending_deletes;
};

/* Fetches user's INBOX in batches and marks what it finds. 0, or -1 when IMAP failed. */
static int verify_user(const struct verify_cfg *cfg, struct journal *j, int user, struct vcount *vc,
                       char *err, size_t el)
{
	struct mconn c;
	unsigned tag = 0;
	struct imap_result res = { 0 };
	char line[512];
	if (mconn_open(&c, cfg->host, cfg->imap_port, 30000) ||
	    mconn_line(&c, line, sizeof(line)) < 0) {
		snprintf(err, el, "cannot connect to IMAP at %s:%d", cfg->host, cfg->imap_port);
		mconn_close(&c);
		return -1;
	}
	int rc = -1;
	char login[300];
	pw_login(cfg->pw, user, login, sizeof(login));
	if (imap_cmd(&c, &tag, &res, "LOGIN %s", login) || strcmp(res.status, "OK"))
		goto out;
	imap_result_free(&res);
	if (imap_cmd(&c, &tag, &res, "EXAMINE INBOX") || strcmp(res.status, "OK"))
		goto out;
	imap_result_free(&res);
	if (imap_cmd(&c, &tag, &res, "UID FETCH 1:* (UID)") || strcmp(res.status, "OK"))
		goto out;
	size_t n = res.n;
	uint32_t *uids = calloc(n ? n : 1, sizeof(*uids));
	for (size_t i = 0; uids && i < n; i++)
		uids[i] = imap_resp_uid(&res.r[i]);
	imap_result_free(&res);
	if (!uids)
		goto out;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (imap_cmd(&c, &tag, &res, "UID FETCH %u (BODY.PEEK[])", uids[i]) ||
		    strcmp(res.status, "OK")) {
			rc = -1;
			break;
		}
		for (size_t k = 0; k < res.n; k++) {
			char id[80], sum[65], actual[65];
			if (!res.r[k].lit)
				continue;
			if (!msg_inspect(res.r[k].lit, res.r[k].lit_len, id, sum, actual))
				continue; /* not one of ours (swaks, ...) */
			struct jent *e = find(j, id, user);
			if (!e || !e->acked) {
				vc->unknown++; /* delivered, acknowledgement lost in a crash:
				                  allowed */
				if (strcmp(sum, actual))
					vc->corrupt++;
				continue;
			}
			e->found = true;
			if (strcmp(sum, actual) || strcmp(e->sum, actual))
				vc->corrupt++;
			else if (e->del == 'X')
				vc->deleted_back++;
		}
		imap_result_free(&res);
	}
	free(uids);
out:
	if (rc)
		snprintf(err, el, "IMAP check of user%d failed", user);
	imap_result_free(&res);
	mconn_close(&c);
	return rc;
}

int verify_run(const struct verify_cfg *cfg)
{
	char err[512] = "";
	struct journal *j = journal_open(NULL, err, sizeof(err));
	int max_user = 0;
	if (!j || journal_read(j, cfg->journal, &max_user, err, sizeof(err))) {
		fprintf(stderr, "vcons-mail-load: %s\n", err);
		journal_close(j);
		return -1;
	}
	struct vcount vc = { 0 };
	for (int u = 1; u <= max_user; u++) {
		if (verify_user(cfg, j, u, &vc, err, sizeof(err))) {
			fprintf(stderr, "vcons-mail-load: verify: %s\n", err);
			journal_close(j);
			return -1;
		}
	}
	for (unsigned i = 0; i < NBUCKETS; i++)
		for (struct jent *e = j->b[i]; e; e = e->next) {
			if (!e->acked)
				continue;
			vc.acked++;
			if (e->found)
				vc.present++;
			if (e->del == 'D')
				vc.pending_deletes++;
			else if (!e->del && !e->found)
				vc.lost++;
		}
	journal_close(j);
	bool ok = vc.lost == 0 && vc.corrupt == 0 && vc.deleted_back == 0;
	if (cfg->json) {
		json_t *o = report_new("verify", "mail-load", cfg->csu, "host_ns");
		json_object_set_new(o, "acknowledged", json_integer((json_int_t)vc.acked));
		json_object_set_new(o, "present", json_integer((json_int_t)vc.present));
		json_object_set_new(o, "lost", json_integer((json_int_t)vc.lost));
		json_object_set_new(o, "corrupt", json_integer((json_int_t)vc.corrupt));
		json_object_set_new(o, "deleted_but_present",
		                    json_integer((json_int_t)vc.deleted_back));
		json_object_set_new(o, "delete_in_flight",
		                    json_integer((json_int_t)vc.pending_deletes));
		json_object_set_new(o, "unacknowledged_present",
		                    json_integer((json_int_t)vc.unknown));
		json_object_set_new(o, "ok", json_boolean(ok));
		report_write(cfg->out, o);
	} else {
		fprintf(
		    cfg->out,
		    "verify: %llu acknowledged, %llu present, %llu lost, %llu corrupt, %llu "
		    "deleted "
		    "but present, %llu delete in flight, %llu present but never acknowledged: %s\n",
		    (unsigned long long)vc.acked, (unsigned long long)vc.present,
		    (unsigned long long)vc.lost, (unsigned long long)vc.corrupt,
		    (unsigned long long)vc.deleted_back, (unsigned long long)vc.pending_deletes,
		    (unsigned long long)vc.unknown, ok ? "OK" : "FAILED");
	}
	return ok ? 0 : 1;
}
