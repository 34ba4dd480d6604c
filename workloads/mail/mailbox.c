/* workloads/mail/mailbox.c: a user's folders (see mailstore.h): the names they may have, the
 * Maildir++ directories behind them (Maildir/.<name>/, "." separating levels), which exist (listed
 * at open, indexed when first used), CREATE, DELETE, RENAME, LIST, STATUS and the subscriptions
 * file. Folder names are client input that becomes a path component: mstore_box_name is the only
 * way in, and what it lets through has no "/" and no empty level, so never "." or "..". */

#include "lib/fs.h"
#include "workloads/mail/mailproto.h"
#include "workloads/mail/mailstore_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* created for every user at provisioning, with their RFC 6154 attributes */
static const struct {
	const char *name;
	unsigned attr;
} special[] = {
	{ "Sent", MS_ATTR_SENT }, { "Drafts", MS_ATTR_DRAFTS },   { "Trash", MS_ATTR_TRASH },
	{ "Junk", MS_ATTR_JUNK }, { "Archive", MS_ATTR_ARCHIVE },
};
#define NSPECIAL (sizeof(special) / sizeof(special[0]))
#define DELETED  "..deleted." /* a deleted folder's directory until it is removed: no valid name */

int mstore_box_name(const char *name, char *canon)
{
	size_t n = strlen(name);
	if (n == 0 || n > MS_NAME_MAX || name[0] == '.' || name[n - 1] == '.' || strstr(name, ".."))
		return -EINVAL;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || strchr("/\\*%", *p))
			return -EINVAL;
	memcpy(canon, name, n + 1);
	if (strncasecmp(name, "INBOX", 5) == 0 && (name[5] == 0 || name[5] == '.'))
		memcpy(canon, "INBOX", 5);
	return 0;
}

struct ms_box *ms_box_named(struct ms_user *u, const char *name)
{
	for (size_t i = 0; i < u->nbox; i++)
		if (strcmp(u->box[i].name, name) == 0)
			return &u->box[i];
	return NULL;
}

/* A folder name that is a level below parent ("a.b" and "a.b.c" below "a"). */
static bool below(const char *name, const char *parent)
{
	size_t n = strlen(parent);
	return strncmp(name, parent, n) == 0 && name[n] == '.';
}

static bool has_children(const struct ms_user *u, const char *name)
{
	for (size_t i = 0; i < u->nbox; i++)
		if (below(u->box[i].name, name))
			return true;
	return false;
}

static int box_add(struct ms_user *u, const char *name)
{
	if (u->nbox >= MS_BOXES)
		return -ENOSPC;
	if (u->nbox == u->boxcap) {
		size_t nc = u->boxcap * 2;
		struct ms_box *nb = realloc(u->box, nc * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		u->box = nb;
		u->boxcap = nc;
	}
	struct ms_box *b = &u->box[u->nbox++];
	memset(b, 0, sizeof(*b));
	b->id = u->next_box_id++;
	b->changes = 1;
	snprintf(b->name, sizeof(b->name), "%s", name);
	return 0;
}

/* A new UIDVALIDITY: the time in seconds, but above every one this store gave before. */
static uint32_t new_validity(struct mstore *st)
{
	uint32_t now = (uint32_t)(time(NULL) & 0x7fffffff);
	uint32_t last = atomic_load(&st->last_validity), v;
	do
		v = now > last ? now : last + 1;
	while (!atomic_compare_exchange_weak(&st->last_validity, &last, v));
	return v;
}

int ms_box_make(struct mstore *st, int user, const char *name, bool sync)
{
	static const char *const subs[] = { NULL, "tmp", "new", "cur" };
	struct ms_box tmp = { .id = MS_INBOX + 1 };
	char p[MS_PATH], text[32];
	snprintf(tmp.name, sizeof(tmp.name), "%s", name);
	for (int k = 0; k < 4; k++) {
		ms_path(st, user, &tmp, subs[k], NULL, p, sizeof(p));
		if (mkdir(p, 0700) && errno != EEXIST)
			return -errno;
	}
	ms_path(st, user, &tmp, NULL, "vcons-uidvalidity", p, sizeof(p));
	int rc = 0;
	if (ms_read_number(p) == 0) {
		snprintf(text, sizeof(text), "%u\n", new_validity(st));
		rc = ms_write_file(p, text, sync);
	}
	if (!sync) /* provisioning, before the workers start: a CREATE never writes the flag */
		st->unsynced = true;
	if (!rc && sync) { /* the folder's entries, then its own name in the Maildir */
		ms_path(st, user, &tmp, NULL, NULL, p, sizeof(p));
		rc = ms_fsync_path(p);
		ms_path(st, user, NULL, NULL, NULL, p, sizeof(p));
		if (!rc)
			rc = ms_fsync_path(p);
	}
	return rc;
}

static bool is_dir(const char *dir, const struct dirent *e)
{
	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	char p[MS_PATH + 300];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int ms_boxes_open(struct mstore *st, int user)
{
	struct ms_user *u = &st->u[user];
	char dir[MS_PATH], canon[MS_NAME_MAX + 1], p[MS_PATH + 300];
	ms_path(st, user, NULL, NULL, NULL, dir, sizeof(dir));
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		if (e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !is_dir(dir, e))
			continue;
		if (!strncmp(e->d_name, DELETED, strlen(DELETED))) { /* a DELETE cut short */
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			fs_rmtree(p, false);
			continue;
		}
		/* ".INBOX" would be INBOX twice; other non-canonical names are not ours */
		if (mstore_box_name(e->d_name + 1, canon) == 0 && !strcmp(canon, e->d_name + 1) &&
		    strcmp(canon, "INBOX") != 0)
			rc = box_add(u, canon);
	}
	closedir(d);
	for (size_t k = 0; !rc && k < NSPECIAL; k++)
		if (!ms_box_named(u, special[k].name)) {
			rc = ms_box_make(st, user, special[k].name, false); /* mstore_open syncs */
			if (!rc)
				rc = box_add(u, special[k].name);
		}
	return rc;
}

int mstore_box_find(struct mstore *st, int user, const char *name, uint32_t *box)
{
	char canon[MS_NAME_MAX + 1];
	if (mstore_box_name(name, canon))
		return -EINVAL;
	pthread_mutex_lock(&st->u[user].lock);
	struct ms_box *b = ms_box_named(&st->u[user], canon);
	if (b)
		*box = b->id;
	pthread_mutex_unlock(&st->u[user].lock);
	return b ? 0 : -ENOENT;
}

/* Creates canon and its missing parent levels. Caller holds the lock. */
static int create_locked(struct mstore *st, int user, const char *canon)
{
	struct ms_user *u = &st->u[user];
	if (ms_box_named(u, canon))
		return -EEXIST;
	char level[MS_NAME_MAX + 1];
	for (const char *dot = canon;; dot++) {
		dot = strchr(dot, '.');
		size_t n = dot ? (size_t)(dot - canon) : strlen(canon);
		memcpy(level, canon, n);
		level[n] = 0;
		if (!ms_box_named(u, level)) {
			if (u->nbox >= MS_BOXES)
				return -ENOSPC;
			int rc = ms_box_make(st, user, level, true);
			if (!rc)
				rc = box_add(u, level);
			if (rc)
				return rc;
		}
		if (!dot)
			return 0;
	}
}

int mstore_box_create(struct mstore *st, int user, const char *name)
{
	char canon[MS_NAME_MAX + 1];
	if (mstore_box_name(name, canon))
		return -EINVAL;
	pthread_mutex_lock(&st->u[user].lock);
	int rc = create_locked(st, user, canon);
	pthread_mutex_unlock(&st->u[user].lock);
	return rc;
}

/* Hides the folder's directory under a name no folder can have (one rename: the DELETE is then
 * done as far as a crash is concerned), then removes it. Caller holds the lock. */
static int delete_locked(struct mstore *st, int user, struct ms_box *b)
{
	struct ms_user *u = &st->u[user];
	char from[MS_PATH], to[MS_PATH], name[64];
	ms_path(st, user, b, NULL, NULL, from, sizeof(from));
	snprintf(name, sizeof(name), DELETED "%016llx", (unsigned long long)ms_rand(st));
	ms_path(st, user, NULL, NULL, name, to, sizeof(to));
	if (rename(from, to))
		return -errno;
	ms_box_changed(u, b); /* its watchers find it gone */
	ms_box_free(b);
	*b = u->box[--u->nbox];
	ms_path(st, user, NULL, NULL, NULL, from, sizeof(from));
	int rc = ms_fsync_path(from);
	fs_rmtree(to, false);
	return rc;
}

int mstore_box_delete(struct mstore *st, int user, const char *name)
{
	char canon[MS_NAME_MAX + 1];
	if (mstore_box_name(name, canon))
		return -EINVAL;
	if (!strcmp(canon, "INBOX"))
		return -EPERM;
	struct ms_user *u = &st->u[user];
	pthread_mutex_lock(&u->lock);
	struct ms_box *b = ms_box_named(u, canon);
	int rc = !b ? -ENOENT : has_children(u, canon) ? -ENOTEMPTY : delete_locked(st, user, b);
	pthread_mutex_unlock(&u->lock);
	return rc;
}

/* Renames folder from and every level below it to their names under to. Caller holds the lock. */
static int rename_locked(struct mstore *st, int user, const char *from, const char *to)
{
	struct ms_user *u = &st->u[user];
	char a[MS_PATH], b[MS_PATH], name[MS_NAME_MAX + 1];
	size_t fl = strlen(from), tl = strlen(to);
	for (size_t i = 0; i < u->nbox; i++) /* every new name must fit and be free */
		if (!strcmp(u->box[i].name, from) || below(u->box[i].name, from)) {
			if (strlen(u->box[i].name) - fl + tl > MS_NAME_MAX)
				return -EINVAL;
			snprintf(name, sizeof(name), "%s%s", to, u->box[i].name + fl);
			if (ms_box_named(u, name))
				return -EEXIST;
		}
	int rc = 0;
	for (size_t i = 0; !rc && i < u->nbox; i++) {
		struct ms_box *x = &u->box[i];
		if (strcmp(x->name, from) != 0 && !below(x->name, from))
			continue;
		ms_path(st, user, x, NULL, NULL, a, sizeof(a));
		snprintf(name, sizeof(name), "%s%s", to, x->name + fl);
		snprintf(x->name, sizeof(x->name), "%s", name);
		ms_path(st, user, x, NULL, NULL, b, sizeof(b));
		rc = rename(a, b) ? -errno : 0;
	}
	ms_path(st, user, NULL, NULL, NULL, a, sizeof(a));
	int src = ms_fsync_path(a);
	if (!rc && strchr(to, '.')) { /* the new name's missing parents */
		memcpy(name, to, tl + 1);
		*strrchr(name, '.') = 0;
		rc = create_locked(st, user, name);
		if (rc == -EEXIST)
			rc = 0;
	}
	return rc ? rc : src;
}

int mstore_box_rename(struct mstore *st, int user, const char *from, const char *to)
{
	char f[MS_NAME_MAX + 1], t[MS_NAME_MAX + 1];
	if (mstore_box_name(from, f) || mstore_box_name(to, t) || below(t, f))
		return -EINVAL;
	struct ms_user *u = &st->u[user];
	pthread_mutex_lock(&u->lock);
	int rc;
	if (!ms_box_named(u, f))
		rc = -ENOENT;
	else if (ms_box_named(u, t) || !strcmp(t, "INBOX"))
		rc = -EEXIST;
	else if (!strcmp(f, "INBOX")) {
		rc = create_locked(st, user, t);
		struct ms_box *dst = ms_box_named(u, t);
		if (!rc && dst)
			rc = ms_move_all(st, user, dst->id);
	} else
		rc = rename_locked(st, user, f, t);
	pthread_mutex_unlock(&u->lock);
	return rc;
}

static int cmp_info(const void *a, const void *b)
{
	const struct ms_boxinfo *x = a, *y = b;
	return strcmp(x->name, y->name);
}

int mstore_box_list(struct mstore *st, int user, struct ms_boxinfo **out, size_t *n)
{
	struct ms_user *u = &st->u[user];
	pthread_mutex_lock(&u->lock);
	struct ms_boxinfo *l = calloc(u->nbox, sizeof(*l));
	if (!l) {
		pthread_mutex_unlock(&u->lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < u->nbox; i++) {
		snprintf(l[i].name, sizeof(l[i].name), "%s", u->box[i].name);
		l[i].attrs = has_children(u, l[i].name) ? MS_ATTR_CHILDREN : 0;
		for (size_t k = 0; k < NSPECIAL; k++)
			if (!strcmp(l[i].name, special[k].name))
				l[i].attrs |= special[k].attr;
	}
	*n = u->nbox;
	pthread_mutex_unlock(&u->lock);
	if (*n > 2)
		qsort(l + 1, *n - 1, sizeof(*l), cmp_info); /* INBOX stays first */
	*out = l;
	return 0;
}

int mstore_status(struct mstore *st, int user, uint32_t box, struct ms_status *out)
{
	int rc;
	pthread_mutex_lock(&st->u[user].lock);
	struct ms_box *b = ms_box_get(st, user, box, &rc);
	if (b) {
		*out = (struct ms_status){ .messages = (uint32_t)b->n,
			                   .uidnext = b->next_uid,
			                   .uidvalidity = b->uidvalidity };
		for (size_t i = 0; i < b->n; i++)
			out->unseen += !(b->idx[i].m.flags & MP_FLAG_SEEN);
	}
	pthread_mutex_unlock(&st->u[user].lock);
	return rc;
}

/* ---- subscriptions: Maildir/subscriptions, one name a line ---- */

static int subs_add(struct ms_user *u, const char *name)
{
	for (size_t i = 0; i < u->nsubs; i++)
		if (!strcmp(u->subs[i], name))
			return 0;
	char **ns = realloc(u->subs, (u->nsubs + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	u->subs = ns;
	u->subs[u->nsubs] = strdup(name);
	if (!u->subs[u->nsubs])
		return -ENOMEM;
	u->nsubs++;
	return 0;
}

static void subs_free(struct ms_user *u)
{
	for (size_t i = 0; i < u->nsubs; i++)
		free(u->subs[i]);
	free(u->subs);
	u->subs = NULL;
	u->nsubs = 0;
}

/* Reads the file once (a user without one has the defaults). Caller holds the lock. */
static int subs_load(struct mstore *st, int user)
{
	struct ms_user *u = &st->u[user];
	if (u->subs)
		return 0;
	char p[MS_PATH], line[MS_NAME_MAX + 8], canon[MS_NAME_MAX + 1];
	u->subs = calloc(1, sizeof(*u->subs));
	if (!u->subs)
		return -ENOMEM;
	u->nsubs = 0; /* subs NULL: none loaded; its calloc'ed NULL entry is never read */
	ms_path(st, user, NULL, NULL, "subscriptions", p, sizeof(p));
	FILE *f = fopen(p, "r");
	int rc = 0;
	if (!f) {
		rc = subs_add(u, "INBOX");
		for (size_t k = 0; !rc && k < NSPECIAL; k++)
			rc = subs_add(u, special[k].name);
		return rc;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (mstore_box_name(line, canon) == 0)
			rc = subs_add(u, canon);
	}
	(void)fclose(f); /* read only: nothing to lose */
	return rc;
}

static int subs_save(struct mstore *st, int user)
{
	struct ms_user *u = &st->u[user];
	size_t len = 1;
	for (size_t i = 0; i < u->nsubs; i++)
		len += strlen(u->subs[i]) + 1;
	char *text = malloc(len), p[MS_PATH];
	if (!text)
		return -ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < u->nsubs; i++)
		o += (size_t)sprintf(text + o, "%s\n", u->subs[i]);
	text[o] = 0;
	ms_path(st, user, NULL, NULL, "subscriptions", p, sizeof(p));
	int rc = ms_write_file(p, text, true);
	free(text);
	ms_path(st, user, NULL, NULL, NULL, p, sizeof(p));
	return rc ? rc : ms_fsync_path(p);
}

int mstore_subscribe(struct mstore *st, int user, const char *name, bool on)
{
	char canon[MS_NAME_MAX + 1];
	if (mstore_box_name(name, canon))
		return -EINVAL;
	struct ms_user *u = &st->u[user];
	pthread_mutex_lock(&u->lock);
	int rc = subs_load(st, user);
	if (!rc && on) {
		rc = subs_add(u, canon);
	} else if (!rc) {
		rc = -ENOENT;
		for (size_t i = 0; i < u->nsubs; i++)
			if (!strcmp(u->subs[i], canon)) {
				free(u->subs[i]);
				u->subs[i] = u->subs[--u->nsubs];
				rc = 0;
				break;
			}
	}
	if (!rc)
		rc = subs_save(st, user);
	pthread_mutex_unlock(&u->lock);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mstore_subs(struct mstore *st, int user, char ***out, size_t *n)
{
	struct ms_user *u = &st->u[user];
	pthread_mutex_lock(&u->lock);
	int rc = subs_load(st, user);
	size_t len = 0;
	for (size_t i = 0; !rc && i < u->nsubs; i++)
		len += sizeof(char *) + strlen(u->subs[i]) + 1;
	char **l = rc ? NULL : malloc(len + 1);
	if (!rc && l) {
		char *text = (char *)(l + u->nsubs);
		for (size_t i = 0; i < u->nsubs; i++) {
			l[i] = text;
			text += sprintf(text, "%s", u->subs[i]) + 1;
		}
		*n = u->nsubs;
		*out = l;
	} else if (!rc) {
		rc = -ENOMEM;
	}
	pthread_mutex_unlock(&u->lock);
	if (!rc && *n > 1)
		qsort(*out, *n, sizeof(char *), cmp_str);
	return rc;
}

void ms_subs_free(struct ms_user *u)
{
	subs_free(u);
}
