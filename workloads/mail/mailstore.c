/* workloads/mail/mailstore.c: Maildir delivery, scanning, flags and expunge (see mailstore.h), and
 * each folder's index: the messages of new/ and cur/ sorted by UID, kept in memory so that listing
 * a mailbox costs no directory reads. INBOX's index is built when the store opens, another folder's
 * the first time it is used; mstore_sync rebuilds one from the directories; the store's own
 * deliveries, renames and unlinks keep them current, and tell the folder's watchers
 * (ms_box_changed). A folder's next UID is the highest UID in its files + 1, or what its
 * vcons-uidnext says if that is more: the file is written only when a message with the highest
 * UID is about to be unlinked (expunge, MOVE out), so a delivery costs nothing more. */
#include "workloads/mail/mailstore_int.h"
#include "workloads/mail/mailproto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MS_DIR_FDS 256u /* new/ directories kept open for their fsyncs */

void ms_path(const struct mstore *st, int user, const struct ms_box *b, const char *sub,
             const char *name, char *dst, size_t cap)
{
	bool folder = b && b->id != MS_INBOX;
	snprintf(dst, cap, "%s/user%d/Maildir%s%s%s%s%s%s", st->dir, user + 1, folder ? "/." : "",
	         folder ? b->name : "", sub ? "/" : "", sub ? sub : "", name ? "/" : "",
	         name ? name : "");
}

static void path_of(const struct mstore *st, int user, const char *sub, const char *name, char *dst,
                    size_t cap)
{
	ms_path(st, user, NULL, sub, name, dst, cap);
}

static int mkdir_p1(const char *p)
{
	if (mkdir(p, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

/* "…,U=123,S=456[:2,FS]" -> uid, size, flags. false if the name is not one of ours. */
static bool parse_name(const char *name, uint32_t *uid, uint64_t *size, unsigned *flags,
                       int64_t *time_s, size_t *base_len)
{
	const char *u = strstr(name, ",U="), *s = strstr(name, ",S=");
	if (!u || !s)
		return false;
	char *end;
	unsigned long long v = strtoull(u + 3, &end, 10);
	if (end == u + 3 || v == 0 || v > UINT32_MAX)
		return false;
	*uid = (uint32_t)v;
	*size = strtoull(s + 3, &end, 10);
	*time_s = strtoll(name, NULL, 10);
	*flags = 0;
	const char *info = strstr(name, ":2,");
	*base_len = info ? (size_t)(info - name) : strlen(name);
	for (const char *f = info ? info + 3 : ""; *f; f++) {
		switch (*f) {
		case 'S': *flags |= MP_FLAG_SEEN; break;
		case 'T': *flags |= MP_FLAG_DELETED; break;
		case 'R': *flags |= MP_FLAG_ANSWERED; break;
		case 'F': *flags |= MP_FLAG_FLAGGED; break;
		case 'D': *flags |= MP_FLAG_DRAFT; break;
		}
	}
	return true;
}

/* Maildir info letters in ASCII order, as the spec asks. */
void ms_info(unsigned flags, char *dst)
{
	char *o = dst;
	if (flags & MP_FLAG_DRAFT)
		*o++ = 'D';
	if (flags & MP_FLAG_FLAGGED)
		*o++ = 'F';
	if (flags & MP_FLAG_ANSWERED)
		*o++ = 'R';
	if (flags & MP_FLAG_SEEN)
		*o++ = 'S';
	if (flags & MP_FLAG_DELETED)
		*o++ = 'T';
	*o = 0;
}

static int cmp_ent(const void *a, const void *b)
{
	const struct ms_ent *x = a, *y = b;
	return x->m.uid < y->m.uid ? -1 : x->m.uid > y->m.uid;
}

size_t ms_idx_above(const struct ms_box *b, uint32_t uid)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->idx[mid].m.uid <= uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index position of uid in b, or -1. */
long ms_idx_find(const struct ms_box *b, uint32_t uid)
{
	size_t i = uid ? ms_idx_above(b, uid - 1) : b->n; /* UIDs start at 1 */
	return i < b->n && b->idx[i].m.uid == uid ? (long)i : -1;
}

/* Appends e (whose UID is the highest so far, or the index is sorted afterwards). */
static int idx_push(struct ms_ent **idx, size_t *n, size_t *cap, const struct ms_ent *e)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct ms_ent *ni = realloc(*idx, nc * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		*idx = ni;
		*cap = nc;
	}
	(*idx)[(*n)++] = *e;
	return 0;
}

int ms_idx_push(struct ms_box *b, const struct ms_ent *e)
{
	return idx_push(&b->idx, &b->n, &b->cap, e);
}

void ms_idx_del(struct ms_box *b, size_t i)
{
	memmove(b->idx + i, b->idx + i + 1, (b->n - i - 1) * sizeof(*b->idx));
	b->n--;
}

/* Adds the messages of the folder's new/ or cur/ to idx. */
static int load_dir(struct mstore *st, int user, const struct ms_box *b, const char *sub,
                    struct ms_ent **idx, size_t *n, size_t *cap)
{
	char p[MS_PATH];
	ms_path(st, user, b, sub, NULL, p, sizeof(p));
	DIR *d = opendir(p);
	if (!d)
		return -errno;
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		struct ms_ent x = { .in_new = strcmp(sub, "new") == 0, .m.box = b->id };
		size_t bl;
		if (e->d_name[0] == '.' ||
		    !parse_name(e->d_name, &x.m.uid, &x.m.size, &x.m.flags, &x.m.time_s, &bl) ||
		    bl >= sizeof(x.m.name))
			continue;
		memcpy(x.m.name, e->d_name, bl);
		x.m.name[bl] = 0;
		if (x.in_new)
			x.m.flags = 0; /* new/ names carry no info */
		rc = idx_push(idx, n, cap, &x);
	}
	closedir(d);
	return rc;
}

/* Do two indexes list the same messages with the same flags? */
static bool same_idx(const struct ms_ent *a, size_t an, const struct ms_ent *b, size_t bn)
{
	for (size_t i = 0; an == bn && i < an; i++)
		if (a[i].m.uid != b[i].m.uid || a[i].m.flags != b[i].m.flags)
			return false;
	return an == bn;
}

/* Rebuilds the folder's index from new/ and cur/ (a UID found twice is listed once) and makes sure
 * the next UID is above every one there. Caller holds the user's lock. */
static int box_load(struct mstore *st, int user, struct ms_box *u)
{
	struct ms_ent *idx = NULL;
	size_t n = 0, cap = 0;
	int rc = load_dir(st, user, u, "cur", &idx, &n, &cap);
	if (!rc)
		rc = load_dir(st, user, u, "new", &idx, &n, &cap);
	if (rc) {
		free(idx);
		return rc;
	}
	if (n > 1)
		qsort(idx, n, sizeof(*idx), cmp_ent);
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (o == 0 || idx[o - 1].m.uid != idx[i].m.uid)
			idx[o++] = idx[i];
	bool changed = !same_idx(u->idx, u->n, idx, o);
	free(u->idx);
	u->idx = idx;
	u->n = o;
	u->cap = cap;
	if (o && idx[o - 1].m.uid >= u->next_uid)
		u->next_uid = idx[o - 1].m.uid + 1;
	if (changed)
		ms_box_changed(&st->u[user], u);
	return 0;
}

/* Empties the folder's tmp/ (never acknowledged: a crash or a dropped DATA left it), reads its
 * vcons-uidnext, then loads the index. */
static int box_recover(struct mstore *st, int user, struct ms_box *b)
{
	char p[MS_PATH], f[MS_PATH + 300];
	ms_path(st, user, b, "tmp", NULL, p, sizeof(p));
	DIR *d = opendir(p);
	if (!d)
		return -errno;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", p, e->d_name);
		unlink(f);
	}
	closedir(d);
	ms_path(st, user, b, NULL, "vcons-uidnext", p, sizeof(p));
	unsigned long next = ms_read_number(p);
	b->uidnext_saved = (uint32_t)next;
	b->next_uid = next ? (uint32_t)next : 1;
	int rc = box_load(st, user, b);
	b->loaded = rc == 0;
	return rc;
}

/* The folder's directories: Maildir/ itself for INBOX (below userK/), .<name>/ for the others. */
static int make_dirs(struct mstore *st, int user, const struct ms_box *b)
{
	static const char *const subs[] = { NULL, "tmp", "new", "cur" };
	char p[MS_PATH];
	snprintf(p, sizeof(p), "%s/user%d", st->dir, user + 1);
	int rc = b && b->id != MS_INBOX ? 0 : mkdir_p1(p);
	for (int k = 0; rc == 0 && k < 4; k++) {
		ms_path(st, user, b, subs[k], NULL, p, sizeof(p));
		rc = mkdir_p1(p);
	}
	return rc;
}

int ms_box_open(struct mstore *st, int user, struct ms_box *b)
{
	char p[MS_PATH];
	ms_path(st, user, b, NULL, "vcons-uidvalidity", p, sizeof(p));
	unsigned long v = ms_read_number(p);
	int rc = 0;
	if (v == 0) { /* a CREATE or provisioning that a crash interrupted */
		rc = ms_box_make(st, user, b->name, true);
		v = ms_read_number(p);
		if (!rc && v == 0)
			rc = -EIO;
	}
	if (rc)
		return rc;
	b->uidvalidity = (uint32_t)v;
	return box_recover(st, user, b);
}

int ms_uidnext_save(struct mstore *st, int user, struct ms_box *b)
{
	char p[MS_PATH], text[16];
	if (b->uidnext_saved == b->next_uid)
		return 0;
	ms_path(st, user, b, NULL, "vcons-uidnext", p, sizeof(p));
	snprintf(text, sizeof(text), "%u\n", b->next_uid);
	int rc = ms_write_file(p, text, true);
	ms_path(st, user, b, NULL, NULL, p, sizeof(p));
	if (!rc)
		rc = ms_fsync_path(p); /* the rename, before the unlink it must precede */
	if (!rc)
		b->uidnext_saved = b->next_uid;
	return rc;
}

void ms_box_free(struct ms_box *b)
{
	free(b->idx);
	b->idx = NULL;
	b->n = b->cap = 0;
	b->loaded = false;
}

struct ms_box *ms_box_get(struct mstore *st, int user, uint32_t id, int *rc)
{
	struct ms_user *u = &st->u[user];
	struct ms_box *b = NULL;
	for (size_t i = 0; i < u->nbox && !b; i++)
		if (u->box[i].id == id)
			b = &u->box[i];
	*rc = b ? 0 : -ENOENT;
	if (b && !b->loaded)
		*rc = ms_box_open(st, user, b);
	return *rc ? NULL : b;
}

int mstore_sync(struct mstore *st, int user, uint32_t box)
{
	int rc = -ENOENT;
	struct ms_user *u = &st->u[user];
	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < u->nbox; i++)
		if (u->box[i].id == box) /* not loaded yet: loading it reads it */
			rc = u->box[i].loaded ? box_load(st, user, &u->box[i])
			                      : ms_box_open(st, user, &u->box[i]);
	pthread_mutex_unlock(&u->lock);
	return rc;
}

int ms_fsync_path(const char *p)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) ? -errno : 0;
	close(fd);
	return rc;
}

/* The number in file p, or 0 if there is none (or it is not a valid one). */
unsigned long ms_read_number(const char *p)
{
	char b[32];
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	b[n] = 0;
	char *end;
	unsigned long v = strtoul(b, &end, 10);
	return end != b && v <= UINT32_MAX ? v : 0;
}

int ms_write_file(const char *p, const char *text, bool sync)
{
	char tmp[MS_PATH + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	if (fflush(f) || (sync && fsync(fileno(f)))) {
		(void)fclose(f);
		return -EIO;
	}
	if (fclose(f) || rename(tmp, p))
		return -errno;
	return 0;
}

/* Creates the user's Maildir unless its UIDVALIDITY file (written last) says it is there, then
 * recovers it (creating it after all if a directory is missing): a copy journal is replayed, INBOX
 * indexed, the other folders listed (and the special-use ones created). */
static int user_provision(struct mstore *st, int user)
{
	struct ms_user *u = &st->u[user];
	char p[MS_PATH], text[32];
	path_of(st, user, NULL, "vcons-uidvalidity", p, sizeof(p));
	unsigned long v = ms_read_number(p);
	if (v == 0) {
		int rc = make_dirs(st, user, NULL);
		if (rc)
			return rc;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (unsigned long)ts.tv_sec & 0x7fffffff;
		snprintf(text, sizeof(text), "%lu\n", v);
		rc = ms_write_file(p, text, true);
		if (rc)
			return rc;
	}
	u->box = calloc(8, sizeof(*u->box));
	if (!u->box)
		return -ENOMEM;
	u->boxcap = 8;
	u->nbox = 1;
	u->next_box_id = MS_INBOX + 1;
	snprintf(u->box[0].name, sizeof(u->box[0].name), "INBOX");
	u->box[0].uidvalidity = (uint32_t)v;
	u->box[0].changes = 1;
	snprintf(u->pass, sizeof(u->pass), "user%d", user + 1);
	int rc = ms_journal_recover(st, user);
	if (!rc)
		rc = box_recover(st, user, &u->box[0]);
	if (rc == -ENOENT) {
		rc = make_dirs(st, user, NULL);
		if (!rc)
			rc = box_recover(st, user, &u->box[0]);
	}
	return rc ? rc : ms_boxes_open(st, user);
}

static int load_passwords(struct mstore *st, const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open password file %s: %s", file, strerror(errno));
		return -errno;
	}
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		char *colon = strchr(line, ':');
		if (!colon || line[0] == '#')
			continue;
		*colon = 0;
		int u = mstore_find(st, line);
		if (u >= 0)
			snprintf(st->u[u].pass, sizeof(st->u[u].pass), "%s", colon + 1);
	}
	(void)fclose(f);
	return 0;
}

int mstore_open(struct mstore **out, const char *dir, unsigned users, const char *passwords,
                char *err, size_t errlen)
{
	struct mstore *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->dir = strdup(dir);
	st->n = users;
	st->u = calloc(users ? users : 1, sizeof(*st->u));
	if (!st->dir || !st->u) {
		mstore_close(st);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < users; i++) {
		pthread_mutex_init(&st->u[i].lock, NULL);
		st->u[i].newfd = -1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	st->last_validity = (uint32_t)(ts.tv_sec & 0x7fffffff);
	if (getrandom(&st->seed, sizeof(st->seed), 0) != sizeof(st->seed)) {
		st->seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
	}
	for (unsigned i = 0; i < users; i++) {
		int rc = user_provision(st, (int)i);
		if (rc) {
			snprintf(err, errlen, "cannot set up %s/user%u/Maildir: %s", dir, i + 1,
			         strerror(-rc));
			mstore_close(st);
			return rc;
		}
	}
	/* the special-use folders provisioning made: one sync for all of them */
	int fd = st->unsynced ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (st->unsynced && (fd < 0 || syncfs(fd))) {
		snprintf(err, errlen, "cannot sync %s: %s", dir, strerror(errno));
		int rc = -errno;
		if (fd >= 0)
			close(fd);
		mstore_close(st);
		return rc;
	}
	if (fd >= 0)
		close(fd);
	if (passwords) {
		int rc = load_passwords(st, passwords, err, errlen);
		if (rc) {
			mstore_close(st);
			return rc;
		}
	}
	*out = st;
	return 0;
}

void mstore_fault(struct mstore *st, enum ms_fault f)
{
	st->fault = f;
}

void mstore_close(struct mstore *st)
{
	if (!st)
		return;
	if (st->u)
		for (unsigned i = 0; i < st->n; i++) {
			pthread_mutex_destroy(&st->u[i].lock);
			struct ms_user *u = &st->u[i];
			if (u->newfd >= 0)
				close(u->newfd);
			for (size_t k = 0; k < u->nbox; k++)
				ms_box_free(&u->box[k]);
			free(u->box);
			ms_subs_free(u);
		}
	free(st->u);
	free(st->dir);
	free(st);
}

unsigned mstore_users(const struct mstore *st)
{
	return st->n;
}

int mstore_find(const struct mstore *st, const char *addr)
{
	if (strncasecmp(addr, "user", 4) != 0)
		return -1;
	char *end;
	errno = 0;
	unsigned long k = strtoul(addr + 4, &end, 10);
	/* exactly userK: strtoul alone would also take " 1", "+1" and "01" */
	if (addr[4] < '1' || addr[4] > '9' || errno || k == 0 || k > st->n)
		return -1;
	if (*end == 0 || (*end == '@' && strcasecmp(end + 1, MS_DOMAIN) == 0))
		return (int)k - 1;
	return -1;
}

int mstore_auth(const struct mstore *st, const char *user, const char *pass)
{
	int u = mstore_find(st, user);
	if (u < 0 || strcmp(st->u[u].pass, pass) != 0)
		return -1;
	return u;
}

/* A 64-bit value for unique file names: splitmix64 over the per-store seed and a counter. */
uint64_t ms_rand(struct mstore *st)
{
	uint64_t z = st->seed + (atomic_fetch_add(&st->ctr, 1) + 1) * 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int writev_all(int fd, struct iovec *iov, int n)
{
	for (;;) {
		while (n && iov->iov_len == 0)
			iov++, n--;
		if (n == 0)
			return 0;
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		size_t left = (size_t)w;
		for (; n && left >= iov->iov_len; iov++, n--)
			left -= iov->iov_len;
		if (n) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
}

int ms_write_tmp(struct mstore *st, int user, const struct ms_box *b, int64_t now, uint64_t r,
                 const char *prefix, size_t plen, const char *body, size_t blen, char *tmp,
                 size_t cap)
{
	char tmpname[64];
	snprintf(tmpname, sizeof(tmpname), "%lld.%016" PRIx64 ".vcons", (long long)now, r);
	ms_path(st, user, b, "tmp", tmpname, tmp, cap);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	struct iovec iov[2] = { { (void *)prefix, plen }, { (void *)body, blen } };
	int rc = writev_all(fd, iov, 2);
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

void ms_name(char *dst, size_t cap, int64_t t, uint32_t uid, uint64_t r, uint64_t size)
{
	snprintf(dst, cap, "%lld.%u_%016" PRIx64 ".vcons,U=%u,S=%" PRIu64, (long long)t, uid, r,
	         uid, size);
}

/* Gives the tmp/ file a name in user's new/ with the user's next UID: a hard link, or for the last
 * recipient the rename that also removes the tmp/ name. Under the user's lock, so UIDs become
 * visible in increasing order; the index learns the message at the same time. */
static int publish(struct mstore *st, int user, const char *tmp, bool last, int64_t now, uint64_t r,
                   uint64_t size)
{
	struct ms_user *u = &st->u[user];
	struct ms_ent e = { .in_new = true, .m = { .size = size, .time_s = now } };
	char dst[MS_PATH];
	pthread_mutex_lock(&u->lock);
	struct ms_box *b = &u->box[0]; /* INBOX: always loaded; a CREATE may move the array */
	e.m.uid = b->next_uid;
	ms_name(e.m.name, sizeof(e.m.name), now, e.m.uid, r, size);
	path_of(st, user, "new", e.m.name, dst, sizeof(dst));
	int rc = (last ? rename(tmp, dst) : link(tmp, dst)) ? -errno : 0;
	if (!rc) {
		b->next_uid++;
		/* on ENOMEM the file is there, only the index lacks it until mstore_sync */
		(void)ms_idx_push(b, &e);
		ms_box_changed(u, b);
	}
	pthread_mutex_unlock(&u->lock);
	return rc;
}

/* fsyncs user's new/: through the descriptor kept for it, opened the first time (at most
 * MS_DIR_FDS of them, so that many recipients cannot use up the descriptors sockets need), or
 * opened for the occasion. */
static int sync_new_dir(struct mstore *st, int user)
{
	struct ms_user *u = &st->u[user];
	char p[512];
	path_of(st, user, "new", NULL, p, sizeof(p));
	pthread_mutex_lock(&u->lock);
	if (u->newfd < 0) {
		if (atomic_fetch_add(&st->dir_fds, 1) < MS_DIR_FDS)
			u->newfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (u->newfd < 0)
			atomic_fetch_sub(&st->dir_fds, 1);
	}
	int fd = u->newfd;
	pthread_mutex_unlock(&u->lock);
	if (fd >= 0)
		return fsync(fd) ? -errno : 0;
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) ? -errno : 0;
	close(fd);
	return rc;
}

/* fsyncs each recipient's new/ once (a user named twice gets two messages, one fsync). */
static int sync_new_dirs(struct mstore *st, const int *users, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= users[k] == users[i];
		int rc = dup ? 0 : sync_new_dir(st, users[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* One file, written to the first recipient's tmp/ and fsynced, then linked into every recipient's
 * new/ (renamed into the last one's), then each new/ fsynced: a copy per recipient on disk, the
 * data written once. Acknowledge only on 0. */
int mstore_deliver(struct mstore *st, const int *users, size_t n, const char *prefix, size_t plen,
                   const char *body, size_t blen)
{
	if (n == 0)
		return 0;
	char tmp[MS_PATH];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t r = ms_rand(st);
	int rc = ms_write_tmp(st, users[0], NULL, now.tv_sec, r, prefix, plen, body, blen, tmp,
	                      sizeof(tmp));
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < n; i++)
		rc = publish(st, users[i], tmp, i == n - 1, now.tv_sec, r, plen + blen);
	if (rc) {
		unlink(tmp); /* still there unless the last rename was done */
		return rc;
	}
	return sync_new_dirs(st, users, n);
}

/* The folder's UIDVALIDITY and next UID (0 and 0 if it is gone). */
static void box_uids(struct mstore *st, int user, uint32_t box, uint32_t *validity, uint32_t *next)
{
	int rc;
	pthread_mutex_lock(&st->u[user].lock);
	struct ms_box *b = ms_box_get(st, user, box, &rc);
	*validity = b ? b->uidvalidity : 0;
	*next = b ? b->next_uid : 0;
	pthread_mutex_unlock(&st->u[user].lock);
}

uint32_t mstore_uidvalidity(struct mstore *st, int user, uint32_t box)
{
	uint32_t v, n;
	box_uids(st, user, box, &v, &n);
	return v;
}

uint32_t mstore_uidnext(struct mstore *st, int user, uint32_t box)
{
	uint32_t v, n;
	box_uids(st, user, box, &v, &n);
	return n;
}

static void cur_rel(const char *name, unsigned flags, char *dst, size_t cap)
{
	char info[8];
	ms_info(flags, info);
	snprintf(dst, cap, "cur/%s:2,%s", name, info);
}

void ms_ent_rel(const struct ms_ent *e, char *dst, size_t cap)
{
	if (e->in_new)
		snprintf(dst, cap, "new/%s", e->m.name);
	else
		cur_rel(e->m.name, e->m.flags, dst, cap);
}

void ms_ent_path(const struct mstore *st, int user, const struct ms_box *b, const struct ms_ent *e,
                 char *dst, size_t cap)
{
	char rel[160];
	ms_ent_rel(e, rel, sizeof(rel));
	ms_path(st, user, b, NULL, rel, dst, cap);
}

static void cur_path(const struct mstore *st, int user, const struct ms_box *b, const char *name,
                     unsigned flags, char *dst, size_t cap)
{
	char rel[160];
	cur_rel(name, flags, rel, sizeof(rel));
	ms_path(st, user, b, NULL, rel, dst, cap);
}

/* Moves the index's new/ messages (they are its last ones: deliveries append) into cur/. A file
 * that is gone is dropped from the index. Caller holds the user's lock. */
void ms_move_new(struct mstore *st, int user, struct ms_box *u)
{
	char from[MS_PATH], to[MS_PATH];
	size_t i = u->n;
	while (i > 0 && u->idx[i - 1].in_new)
		i--;
	while (i < u->n) {
		struct ms_ent *e = &u->idx[i];
		ms_ent_path(st, user, u, e, from, sizeof(from));
		cur_path(st, user, u, e->m.name, e->m.flags, to, sizeof(to));
		if (rename(from, to) && errno == ENOENT) {
			ms_idx_del(u, i);
			ms_box_changed(&st->u[user], u);
			continue;
		}
		e->in_new = false; /* on another error it stays where it is: still readable */
		i++;
	}
}

int mstore_scan(struct mstore *st, int user, uint32_t box, uint32_t min_uid, struct ms_msg **msgs,
                size_t *n, uint32_t *uidnext)
{
	int rc;
	*msgs = NULL;
	*n = 0;
	pthread_mutex_lock(&st->u[user].lock);
	struct ms_box *u = ms_box_get(st, user, box, &rc);
	if (!u) {
		pthread_mutex_unlock(&st->u[user].lock);
		return rc;
	}
	ms_move_new(st, user, u);
	size_t lo = ms_idx_above(u, min_uid);
	if (lo < u->n) {
		*msgs = malloc((u->n - lo) * sizeof(**msgs));
		if (*msgs) {
			for (size_t i = lo; i < u->n; i++)
				(*msgs)[(*n)++] = u->idx[i].m;
		} else {
			rc = -ENOMEM;
		}
	}
	*uidnext = u->next_uid;
	pthread_mutex_unlock(&st->u[user].lock);
	return rc;
}

int mstore_set_flags(struct mstore *st, int user, struct ms_msg *m, unsigned flags)
{
	char from[MS_PATH], to[MS_PATH];
	int rc;
	pthread_mutex_lock(&st->u[user].lock);
	struct ms_box *u = ms_box_get(st, user, m->box, &rc);
	long i = u ? ms_idx_find(u, m->uid) : -1;
	if (i < 0) {
		rc = -ENOENT;
	} else if (flags != u->idx[i].m.flags || u->idx[i].in_new) {
		struct ms_ent *e = &u->idx[i];
		bool changed = flags != e->m.flags;
		ms_ent_path(st, user, u, e, from, sizeof(from));
		cur_path(st, user, u, e->m.name, flags, to, sizeof(to));
		rc = rename(from, to) ? -errno : 0;
		if (rc == -ENOENT)
			ms_idx_del(u, (size_t)i);
		if (!rc) {
			e->m.flags = flags;
			e->in_new = false;
		}
		if (rc == -ENOENT || (!rc && changed))
			ms_box_changed(&st->u[user], u);
	}
	if (!rc)
		m->flags = flags;
	pthread_mutex_unlock(&st->u[user].lock);
	return rc;
}

int mstore_remove(struct mstore *st, int user, const struct ms_msg *m)
{
	char p[MS_PATH];
	int rc;
	pthread_mutex_lock(&st->u[user].lock);
	struct ms_box *u = ms_box_get(st, user, m->box, &rc);
	long i = u ? ms_idx_find(u, m->uid) : -1;
	rc = i < 0 ? -ENOENT : (size_t)i + 1 == u->n ? ms_uidnext_save(st, user, u) : 0;
	if (i >= 0 && !rc) {
		ms_ent_path(st, user, u, &u->idx[i], p, sizeof(p));
		rc = unlink(p) ? -errno : 0;
		ms_idx_del(u, (size_t)i); /* gone either way, or not ours to list */
		ms_box_changed(&st->u[user], u);
	}
	pthread_mutex_unlock(&st->u[user].lock);
	return rc;
}

/* Reads fd to its end into a malloc'd buffer, expecting size bytes: one read unless the file has
 * more (a short read of a regular file is its end, so none is spent on finding it). */
static int read_whole(int fd, uint64_t size, char **buf, size_t *len)
{
	size_t cap = (size_t)size + 1, got = 0;
	char *b = malloc(cap);
	if (!b)
		return -ENOMEM;
	for (;;) {
		ssize_t r = read(fd, b + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got < cap)
			break;
		char *nb = realloc(b, cap * 2);
		if (!nb) {
			free(b);
			return -ENOMEM;
		}
		b = nb;
		cap *= 2;
	}
	*buf = b;
	*len = got;
	return 0;
}

int mstore_read(struct mstore *st, int user, const struct ms_msg *m, char **buf, size_t *len)
{
	char p[MS_PATH];
	int fd = -1, rc;
	/* another session may rename it (a flag change) between the look-up and the open: once more
	 */
	for (int tries = 0; fd < 0 && tries < 2; tries++) {
		pthread_mutex_lock(&st->u[user].lock);
		struct ms_box *u = ms_box_get(st, user, m->box, &rc);
		long i = u ? ms_idx_find(u, m->uid) : -1;
		if (i >= 0)
			ms_ent_path(st, user, u, &u->idx[i], p, sizeof(p));
		pthread_mutex_unlock(&st->u[user].lock);
		if (i < 0)
			return -ENOENT;
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT)
			return -errno;
	}
	if (fd < 0)
		return -ENOENT;
	rc = read_whole(fd, m->size, buf, len);
	close(fd);
	return rc;
}
