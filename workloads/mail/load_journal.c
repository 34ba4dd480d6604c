/* workloads/mail/load_journal.c: the record of what the server acknowledged, and --verify.
 * During a run every acknowledged (message, recipient) pair is appended to the journal file with
 * its body checksum and folder (250 to the SMTP delivery: INBOX; OK to an APPEND: its folder), and
 * kept in memory so fetches can be checked against what was sent; moves are journalled before
 * they are sent ("M") and once the server confirmed them ("F"), deletes likewise ("D", "X").
 * verify_run reads the journal back and fetches every folder of every user over IMAP (or only
 * the one --folder names, for a journal that covers only that folder): each acknowledged message
 * not deleted must be there once, in its folder (either one while a move was in flight), with the
 * body it was sent with. */
#include "workloads/mail/load.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/common/report.h"

#define NBUCKETS   65536
#define MAX_FOLDER 256 /* folder names (a server's are at most 200 bytes) */

struct jent {
	struct jent *next;
	int user;
	bool acked;    /* the server acknowledged it (its 250 may come after the recipient moved or
	                * deleted it) */
	bool moved;    /* a move was journalled: a later "A" does not put it back in INBOX */
	char del;      /* 0, 'D' delete sent, 'X' delete confirmed */
	short folder;  /* where it is (index into the journal's folder names; 0 = INBOX) */
	short pending; /* a move sent, not confirmed: it may be here instead; -1 none */
	unsigned nfound; /* verify: how often seen on the server */
	bool misplaced;  /* verify: seen in a folder it cannot be in */
	char sum[65];
	char id[];
};

struct journal {
	pthread_mutex_t lock;
	FILE *f;
	char **folders; /* interned folder names; [0] = "INBOX" */
	size_t nfolders, capfolders;
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

/* The index of folder name (NULL: INBOX), added when new; -1 when out of memory or too many. */
static int folder_index(struct journal *j, const char *name)
{
	if (!name || !strcasecmp(name, "INBOX"))
		return 0;
	for (size_t i = 1; i < j->nfolders; i++)
		if (!strcmp(j->folders[i], name))
			return (int)i;
	if (j->nfolders >= 32767)
		return -1;
	if (j->nfolders == j->capfolders) {
		size_t nc = j->capfolders * 2;
		char **nf = realloc(j->folders, nc * sizeof(*nf));
		if (!nf)
			return -1;
		j->folders = nf;
		j->capfolders = nc;
	}
	if (!(j->folders[j->nfolders] = strdup(name)))
		return -1;
	return (int)j->nfolders++;
}

/* The entry of (id, user), created when missing. sum may be NULL (a move or delete seen before
 * the 250). */
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
	e->pending = -1;
	snprintf(e->sum, sizeof(e->sum), "%s", sum ? sum : "");
	unsigned h = hash(id, user);
	e->next = j->b[h];
	j->b[h] = e;
	return e;
}

/* One journal line's effect on (id, user): kind A, M, F, D or X; folder for A, M, F. The one
 * place the run and --verify agree on what the lines mean. 0, or -1 when out of memory. */
static int apply(struct journal *j, char kind, const char *id, int user, const char *sum,
                 const char *folder)
{
	int fi = kind == 'A' || kind == 'M' || kind == 'F' ? folder_index(j, folder) : 0;
	struct jent *e = fi < 0 ? NULL : get(j, id, user, kind == 'A' ? sum : NULL);
	if (!e)
		return -1;
	switch (kind) {
	case 'A':
		if (!e->moved)
			e->folder = (short)fi;
		break;
	case 'M':
		e->moved = true;
		e->pending = (short)fi;
		break;
	case 'F':
		e->moved = true;
		e->folder = (short)fi;
		e->pending = -1;
		break;
	case 'D':
	case 'X':
		if (e->del != 'X')
			e->del = kind;
		break;
	default: break;
	}
	return 0;
}

struct journal *journal_open(const char *path, char *err, size_t errlen)
{
	struct journal *j = calloc(1, sizeof(*j));
	if (!j || !(j->folders = calloc(8, sizeof(*j->folders))) ||
	    !(j->folders[0] = strdup("INBOX"))) {
		snprintf(err, errlen, "out of memory");
		if (j)
			free(j->folders);
		free(j);
		return NULL;
	}
	j->nfolders = 1;
	j->capfolders = 8;
	pthread_mutex_init(&j->lock, NULL);
	if (path) {
		j->f = fopen(path, "a");
		if (!j->f) {
			snprintf(err, errlen, "cannot open journal %s: %s", path, strerror(errno));
			free(j->folders[0]);
			free(j->folders);
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
	for (size_t i = 0; i < j->nfolders; i++)
		free(j->folders[i]);
	free(j->folders);
	pthread_mutex_destroy(&j->lock);
	free(j);
	return rc;
}

/* Records a line in memory and appends it to the file (flushed: a failure stays in ferror(), and
 * journal_close() reports it). */
static void record(struct journal *j, char kind, const char *id, int user, const char *sum,
                   const char *folder)
{
	pthread_mutex_lock(&j->lock);
	(void)apply(j, kind, id, user, sum, folder); /* out of memory: the file still has it */
	if (j->f) {
		if (kind == 'A')
			fprintf(j->f, "A %s %d %s%s%s\n", id, user, sum, folder ? " " : "",
			        folder ? folder : "");
		else if (kind == 'M' || kind == 'F')
			fprintf(j->f, "%c %s %d %s\n", kind, id, user, folder);
		else
			fprintf(j->f, "%c %s %d\n", kind, id, user);
		(void)fflush(j->f);
	}
	pthread_mutex_unlock(&j->lock);
}

void journal_acked(struct journal *j, const char *id, int user, const char *sum, const char *folder)
{
	record(j, 'A', id, user, sum, folder);
}

void journal_move(struct journal *j, const char *id, int user, const char *folder, bool confirmed)
{
	record(j, confirmed ? 'F' : 'M', id, user, NULL, folder);
}

void journal_delete(struct journal *j, const char *id, int user, bool confirmed)
{
	record(j, confirmed ? 'X' : 'D', id, user, NULL, NULL);
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
	char line[1024], id[128], a4[MAX_FOLDER], a5[MAX_FOLDER];
	int user;
	char kind;
	unsigned long ln = 0;
	*max_user = 0;
	while (fgets(line, sizeof(line), f)) {
		ln++;
		// NOLINTNEXTLINE(cert-err34-c): our own journal, checked for sense below
		int nf = sscanf(line, "%c %127s %d %255s %255s", &kind, id, &user, a4, a5);
		bool needs4 = kind == 'A' || kind == 'M' || kind == 'F'; /* a sum or a folder */
		bool ok = nf >= (needs4 ? 4 : 3) && user >= 1 && kind && strchr("AMFDX", kind);
		if (!ok) {
			if (!strchr(line, '\n') && feof(f))
				break; /* a last line cut short by a crash of the generator */
			snprintf(err, el, "%s:%lu: malformed journal line", path, ln);
			(void)fclose(f);
			return -1;
		}
		if (user > *max_user)
			*max_user = user;
		const char *folder = kind == 'A' ? (nf >= 5 ? a5 : NULL) : a4;
		if (apply(j, kind, id, user, kind == 'A' ? a4 : NULL, folder)) {
			snprintf(err, el, "out of memory");
			(void)fclose(f);
			return -1;
		}
	}
	(void)fclose(f);
	return 0;
}

struct vcount {
	uint64_t acked, present, lost, corrupt, deleted_back, unknown, pending_deletes,
	    pending_moves, duplicated, misplaced, folders;
};

struct vconn {
	struct mconn c;
	unsigned tag;
};

/* Notes one of our messages found in folder fi of user. */
static void found(struct journal *j, int user, int fi, const char *data, size_t len,
                  struct vcount *vc)
{
	char id[80], sum[65], actual[65];
	if (!msg_inspect(data, len, id, sum, actual))
		return; /* not one of ours (swaks, ...) */
	struct jent *e = find(j, id, user);
	if (!e || !e->acked) {
		vc->unknown++; /* delivered, acknowledgement lost in a crash: allowed */
		if (strcmp(sum, actual))
			vc->corrupt++;
		return;
	}
	if (++e->nfound > 1)
		vc->duplicated++;
	if (fi != e->folder && fi != e->pending)
		e->misplaced = true;
	if (strcmp(sum, actual) || strcmp(e->sum, actual))
		vc->corrupt++;
	else if (e->del == 'X')
		vc->deleted_back++;
}

/* Fetches every message of one folder (EXAMINE: nothing changes) and notes ours. */
static int verify_folder(struct vconn *v, struct journal *j, int user, const char *name,
                         struct vcount *vc)
{
	struct imap_result res;
	int fi = folder_index(j, name);
	if (fi < 0)
		return -1;
	char q[2 * MAX_FOLDER + 3];
	vc->folders++;
	imap_quote(name, q, sizeof(q));
	if (imap_cmd(&v->c, &v->tag, &res, "EXAMINE %s", q) || strcmp(res.status, "OK")) {
		imap_result_free(&res);
		return -1;
	}
	imap_result_free(&res);
	if (imap_cmd(&v->c, &v->tag, &res, "UID FETCH 1:* (UID)") || strcmp(res.status, "OK")) {
		imap_result_free(&res);
		return -1;
	}
	size_t n = res.n;
	uint32_t *uids = calloc(n ? n : 1, sizeof(*uids));
	for (size_t i = 0; uids && i < n; i++)
		uids[i] = imap_resp_uid(&res.r[i]);
	imap_result_free(&res);
	if (!uids)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!uids[i])
			continue;
		if (imap_cmd(&v->c, &v->tag, &res, "UID FETCH %u (BODY.PEEK[])", uids[i]) ||
		    strcmp(res.status, "OK")) {
			rc = -1;
		} else {
			for (size_t k = 0; k < res.n; k++)
				if (res.r[k].lit)
					found(j, user, fi, res.r[k].lit, res.r[k].lit_len, vc);
		}
		imap_result_free(&res);
	}
	free(uids);
	return rc;
}

/* Logs in as user, lists its folders and checks each (only folder index scope when it is not
 * -1). 0, or -1 when IMAP failed. */
static int verify_user(const struct verify_cfg *cfg, struct journal *j, int scope, int user,
                       struct vcount *vc, char *err, size_t el)
{
	struct vconn v = { .tag = 0 };
	struct imap_result res = { 0 };
	char line[512], login[300];
	if (mconn_open(&v.c, cfg->host, cfg->imap_port, 30000) ||
	    mconn_line(&v.c, line, sizeof(line)) < 0) {
		snprintf(err, el, "cannot connect to IMAP at %s:%d", cfg->host, cfg->imap_port);
		mconn_close(&v.c);
		return -1;
	}
	int rc = -1;
	pw_login(cfg->pw, user, login, sizeof(login));
	if (imap_cmd(&v.c, &v.tag, &res, "LOGIN %s", login) || strcmp(res.status, "OK"))
		goto out;
	imap_result_free(&res);
	if (imap_cmd(&v.c, &v.tag, &res, "LIST \"\" \"*\"") || strcmp(res.status, "OK"))
		goto out;
	size_t n = res.n, nf = 0;
	char(*names)[MAX_FOLDER] = calloc(n ? n : 1, sizeof(*names));
	for (size_t i = 0; names && i < n; i++)
		if (imap_list_name(res.r[i].text, names[nf], sizeof(names[0])) &&
		    !strstr(res.r[i].text, "\\Noselect") &&
		    (scope < 0 || folder_index(j, names[nf]) == scope))
			nf++;
	imap_result_free(&res);
	if (!names)
		goto out;
	rc = 0;
	for (size_t i = 0; i < nf && rc == 0; i++)
		if (verify_folder(&v, j, user, names[i], vc)) {
			snprintf(err, el, "IMAP check of user%d's folder %s failed", user,
			         names[i]);
			rc = -2;
		}
	free(names);
out:
	if (rc == -1)
		snprintf(err, el, "IMAP check of user%d failed", user);
	imap_result_free(&res);
	mconn_close(&v.c);
	return rc ? -1 : 0;
}

#define NAMED_MAX 20 /* problems named one by one on stderr; the counts have them all */

/* Names one problem of an entry on stderr (the first NAMED_MAX of a run). */
static void name_problem(const struct journal *j, const struct jent *e, const char *what,
                         unsigned *named)
{
	if ((*named)++ >= NAMED_MAX)
		return;
	fprintf(stderr, "vcons-mail-load: verify: user%d %s: %s (journal: in %s%s%s%s)\n", e->user,
	        e->id, what, j->folders[e->folder], e->pending >= 0 ? ", moving to " : "",
	        e->pending >= 0 ? j->folders[e->pending] : "",
	        e->del == 'D'   ? ", being deleted"
	        : e->del == 'X' ? ", deleted"
	                        : "");
}

/* Counts the entries; with scope (a folder index, -1: every folder was checked) one the journal
 * has in another folder, or moving to another, is not lost when it was not seen. */
static void tally(struct journal *j, int scope, struct vcount *vc)
{
	unsigned named = 0;
	for (unsigned i = 0; i < NBUCKETS; i++)
		for (struct jent *e = j->b[i]; e; e = e->next) {
			if (!e->acked)
				continue;
			vc->acked++;
			if (e->nfound)
				vc->present++;
			if (e->misplaced) {
				vc->misplaced++;
				name_problem(j, e, "in a folder it cannot be in", &named);
			}
			if (e->nfound > 1)
				name_problem(j, e, "found more than once", &named);
			if (e->nfound && e->del == 'X')
				name_problem(j, e, "deleted, still there", &named);
			if (e->pending >= 0 && !e->del)
				vc->pending_moves++;
			bool checked = scope < 0 || (e->folder == scope &&
			                             (e->pending < 0 || e->pending == scope));
			if (e->del == 'D') {
				vc->pending_deletes++;
			} else if (!e->del && !e->nfound && checked) {
				vc->lost++;
				name_problem(j, e, "lost", &named);
			}
		}
}

static void report(const struct verify_cfg *cfg, const struct vcount *vc, bool ok)
{
	if (!cfg->json) {
		fprintf(cfg->out,
		        "verify: %llu acknowledged, %llu present, %llu lost, %llu corrupt, %llu "
		        "duplicated, %llu in a wrong folder, %llu deleted but present, %llu delete "
		        "in flight, %llu move in flight, %llu present but never acknowledged "
		        "(%llu folders): %s\n",
		        (unsigned long long)vc->acked, (unsigned long long)vc->present,
		        (unsigned long long)vc->lost, (unsigned long long)vc->corrupt,
		        (unsigned long long)vc->duplicated, (unsigned long long)vc->misplaced,
		        (unsigned long long)vc->deleted_back,
		        (unsigned long long)vc->pending_deletes,
		        (unsigned long long)vc->pending_moves, (unsigned long long)vc->unknown,
		        (unsigned long long)vc->folders, ok ? "OK" : "FAILED");
		return;
	}
	json_t *o = report_new("verify", "mail-load", cfg->csu, "host_ns");
	const struct {
		const char *k;
		uint64_t v;
	} f[] = { { "acknowledged", vc->acked },
		  { "present", vc->present },
		  { "lost", vc->lost },
		  { "corrupt", vc->corrupt },
		  { "duplicated", vc->duplicated },
		  { "misplaced", vc->misplaced },
		  { "deleted_but_present", vc->deleted_back },
		  { "delete_in_flight", vc->pending_deletes },
		  { "move_in_flight", vc->pending_moves },
		  { "unacknowledged_present", vc->unknown },
		  { "folders", vc->folders } };
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		json_object_set_new(o, f[i].k, json_integer((json_int_t)f[i].v));
	json_object_set_new(o, "ok", json_boolean(ok));
	report_write(cfg->out, o);
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
	int scope = cfg->folder ? folder_index(j, cfg->folder) : -1;
	if (cfg->folder && scope < 0) {
		fprintf(stderr, "vcons-mail-load: out of memory\n");
		journal_close(j);
		return -1;
	}
	struct vcount vc = { 0 };
	for (int u = 1; u <= max_user; u++) {
		if (verify_user(cfg, j, scope, u, &vc, err, sizeof(err))) {
			fprintf(stderr, "vcons-mail-load: verify: %s\n", err);
			journal_close(j);
			return -1;
		}
	}
	tally(j, scope, &vc);
	journal_close(j);
	bool ok = vc.lost == 0 && vc.corrupt == 0 && vc.deleted_back == 0 && vc.duplicated == 0 &&
	          vc.misplaced == 0;
	report(cfg, &vc, ok);
	return ok ? 0 : 1;
}
