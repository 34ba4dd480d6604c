/* workloads/mail/mailstore.c: Maildir delivery, scanning, flags and expunge (see mailstore.h). */
#include "workloads/mail/mailstore.h"
#include "workloads/mail/mailproto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ms_user {
	pthread_mutex_t lock;
	uint32_t next_uid;
	uint32_t uidvalidity;
	char pass[64];
};

struct mstore {
	char *dir;
	unsigned n;
	struct ms_user *u;
};

static void path_of(const struct mstore *st, int user, const char *sub, const char *name, char *dst,
                    size_t cap)
{
	snprintf(dst, cap, "%s/user%d/Maildir%s%s%s%s", st->dir, user + 1, sub ? "/" : "",
	         sub ? sub : "", name ? "/" : "", name ? name : "");
}

static int mkdir_p1(const char *p)
{
	if (mkdir(p, 0700) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

static int fsync_path(const char *p)
{
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) ? -errno : 0;
	close(fd);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
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
static void info_of(unsigned flags, char *dst)
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

/* Empties tmp/ and finds the next UID from new/ and cur/. */
static int user_recover(struct mstore *st, int user)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char p[512], f[768];
	uint32_t max = 0;
	for (int k = 0; k < 3; k++) {
		path_of(st, user, subs[k], NULL, p, sizeof(p));
		DIR *d = opendir(p);
		if (!d)
			return -errno;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (k == 0) {
				snprintf(f, sizeof(f), "%s/%s", p, e->d_name);
				/* never acknowledged: a crash or a dropped DATA left it */
				unlink(f);
				continue;
			}
			uint32_t uid;
			uint64_t size;
			unsigned flags;
			int64_t t;
			size_t bl;
			if (parse_name(e->d_name, &uid, &size, &flags, &t, &bl) && uid > max)
				max = uid;
		}
		closedir(d);
	}
	st->u[user].next_uid = max + 1;
	return 0;
}

static int user_provision(struct mstore *st, int user)
{
	static const char *const subs[] = { NULL, "tmp", "new", "cur" };
	char p[512];
	snprintf(p, sizeof(p), "%s/user%d", st->dir, user + 1);
	int rc = mkdir_p1(p);
	for (int k = 0; rc == 0 && k < 4; k++) {
		path_of(st, user, subs[k], NULL, p, sizeof(p));
		rc = mkdir_p1(p);
	}
	if (rc)
		return rc;
	path_of(st, user, NULL, "vcons-uidvalidity", p, sizeof(p));
	FILE *f = fopen(p, "r");
	unsigned long v = 0;
	if (f) {
		// NOLINTNEXTLINE(cert-err34-c): the store's own counter file
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		(void)fclose(f);
	}
	if (v == 0 || v > UINT32_MAX) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (unsigned long)ts.tv_sec & 0x7fffffff;
		char tmp[600];
		snprintf(tmp, sizeof(tmp), "%s.tmp", p);
		f = fopen(tmp, "w");
		if (!f)
			return -errno;
		fprintf(f, "%lu\n", v);
		if (fflush(f) || fsync(fileno(f))) {
			(void)fclose(f);
			return -EIO;
		}
		if (fclose(f) || rename(tmp, p))
			return -errno;
	}
	st->u[user].uidvalidity = (uint32_t)v;
	snprintf(st->u[user].pass, sizeof(st->u[user].pass), "user%d", user + 1);
	return user_recover(st, user);
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
	for (unsigned i = 0; i < users; i++)
		pthread_mutex_init(&st->u[i].lock, NULL);
	for (unsigned i = 0; i < users; i++) {
		int rc = user_provision(st, (int)i);
		if (rc) {
			snprintf(err, errlen, "cannot set up %s/user%u/Maildir: %s", dir, i + 1,
			         strerror(-rc));
			mstore_close(st);
			return rc;
		}
	}
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

void mstore_close(struct mstore *st)
{
	if (!st)
		return;
	if (st->u)
		for (unsigned i = 0; i < st->n; i++)
			pthread_mutex_destroy(&st->u[i].lock);
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

static uint64_t rand64(void)
{
	uint64_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
	}
	return v;
}

static int deliver_one(struct mstore *st, int user, const char *prefix, size_t plen,
                       const char *body, size_t blen)
{
	char tmpname[64], tmp[600], dst[700], name[160];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t r = rand64();
	snprintf(tmpname, sizeof(tmpname), "%lld.%016" PRIx64 ".vcons", (long long)now.tv_sec, r);
	path_of(st, user, "tmp", tmpname, tmp, sizeof(tmp));
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = write_all(fd, prefix, plen);
	if (!rc)
		rc = write_all(fd, body, blen);
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	struct ms_user *u = &st->u[user];
	pthread_mutex_lock(&u->lock);
	uint32_t uid = u->next_uid;
	snprintf(name, sizeof(name), "%lld.%u_%016" PRIx64 ".vcons,U=%u,S=%zu",
	         (long long)now.tv_sec, uid, r, uid, plen + blen);
	path_of(st, user, "new", name, dst, sizeof(dst));
	if (rename(tmp, dst))
		rc = -errno;
	else
		u->next_uid++;
	pthread_mutex_unlock(&u->lock);
	if (rc) {
		unlink(tmp);
		return rc;
	}
	path_of(st, user, "new", NULL, dst, sizeof(dst));
	return fsync_path(dst);
}

int mstore_deliver(struct mstore *st, const int *users, size_t n, const char *prefix, size_t plen,
                   const char *body, size_t blen)
{
	for (size_t i = 0; i < n; i++) {
		int rc = deliver_one(st, users[i], prefix, plen, body, blen);
		if (rc)
			return rc;
	}
	return 0;
}

uint32_t mstore_uidvalidity(const struct mstore *st, int user)
{
	return st->u[user].uidvalidity;
}

uint32_t mstore_uidnext(struct mstore *st, int user)
{
	pthread_mutex_lock(&st->u[user].lock);
	uint32_t v = st->u[user].next_uid;
	pthread_mutex_unlock(&st->u[user].lock);
	return v;
}

static int cmp_uid(const void *a, const void *b)
{
	const struct ms_msg *x = a, *y = b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int scan_dir(struct mstore *st, int user, const char *sub, uint32_t min_uid,
                    struct ms_msg **msgs, size_t *n, size_t *cap)
{
	char p[512], from[768], to[768];
	path_of(st, user, sub, NULL, p, sizeof(p));
	DIR *d = opendir(p);
	if (!d)
		return -errno;
	bool is_new = strcmp(sub, "new") == 0;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		struct ms_msg m;
		size_t bl;
		if (e->d_name[0] == '.' ||
		    !parse_name(e->d_name, &m.uid, &m.size, &m.flags, &m.time_s, &bl) ||
		    bl >= sizeof(m.name))
			continue;
		memcpy(m.name, e->d_name, bl);
		m.name[bl] = 0;
		if (is_new) {
			snprintf(from, sizeof(from), "%s/%s", p, e->d_name);
			path_of(st, user, "cur", NULL, to, sizeof(to));
			size_t l = strlen(to);
			snprintf(to + l, sizeof(to) - l, "/%s:2,", m.name);
			if (rename(from, to))
				continue;
		}
		if (m.uid <= min_uid)
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct ms_msg *nm = realloc(*msgs, nc * sizeof(*nm));
			if (!nm) {
				rc = -ENOMEM;
				break;
			}
			*msgs = nm;
			*cap = nc;
		}
		(*msgs)[(*n)++] = m;
	}
	closedir(d);
	return rc;
}

int mstore_scan(struct mstore *st, int user, uint32_t min_uid, struct ms_msg **msgs, size_t *n,
                uint32_t *uidnext)
{
	size_t cap = 0;
	*msgs = NULL;
	*n = 0;
	pthread_mutex_lock(&st->u[user].lock);
	int rc = scan_dir(st, user, "new", min_uid, msgs, n, &cap);
	if (!rc)
		rc = scan_dir(st, user, "cur", min_uid, msgs, n, &cap);
	*uidnext = st->u[user].next_uid;
	pthread_mutex_unlock(&st->u[user].lock);
	if (rc) {
		free(*msgs);
		*msgs = NULL;
		*n = 0;
		return rc;
	}
	/* a message this scan moved from new/ to cur/ is listed twice: keep one */
	if (*n > 1)
		qsort(*msgs, *n, sizeof(**msgs), cmp_uid);
	size_t o = 0;
	for (size_t i = 0; i < *n; i++)
		if (o == 0 || (*msgs)[o - 1].uid != (*msgs)[i].uid)
			(*msgs)[o++] = (*msgs)[i];
	*n = o;
	return 0;
}

static void cur_path(const struct mstore *st, int user, const char *name, unsigned flags, char *dst,
                     size_t cap)
{
	char info[8];
	info_of(flags, info);
	path_of(st, user, "cur", NULL, dst, cap);
	size_t l = strlen(dst);
	snprintf(dst + l, cap - l, "/%s:2,%s", name, info);
}

int mstore_set_flags(struct mstore *st, int user, struct ms_msg *m, unsigned flags)
{
	if (flags == m->flags)
		return 0;
	char from[768], to[768];
	cur_path(st, user, m->name, m->flags, from, sizeof(from));
	cur_path(st, user, m->name, flags, to, sizeof(to));
	if (rename(from, to))
		return -errno;
	m->flags = flags;
	return 0;
}

int mstore_remove(struct mstore *st, int user, const struct ms_msg *m)
{
	char p[768];
	cur_path(st, user, m->name, m->flags, p, sizeof(p));
	return unlink(p) ? -errno : 0;
}

int mstore_read(struct mstore *st, int user, const struct ms_msg *m, char **buf, size_t *len)
{
	char p[768];
	cur_path(st, user, m->name, m->flags, p, sizeof(p));
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat sb;
	if (fstat(fd, &sb)) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	size_t n = (size_t)sb.st_size, got = 0;
	char *b = malloc(n ? n : 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = got;
	return 0;
}
