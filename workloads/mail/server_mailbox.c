/* workloads/mail/server_mailbox.c: the IMAP commands on folders (the store's mailbox.c and
 * mailbox_copy.c do the work): SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
 * LIST and LSUB (wildcards, RFC 6154 special-use attributes), STATUS, APPEND (RFC 4315
 * APPENDUID), COPY and MOVE (RFC 6851, COPYUID) and their UID forms, UID EXPUNGE, NAMESPACE and
 * ENABLE (RFC 5161: nothing to enable). Folder names use "." between levels. */
#include "workloads/mail/imap_sess.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool is(const char *tok, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(tok, w, n) == 0;
}

/* A store error as a tagged NO with the RFC 5530 response code that fits. */
static void fail(struct conn *c, const char *tag, const char *cmd, int rc)
{
	static const struct {
		int rc;
		const char *code, *why;
	} err[] = {
		{ -EEXIST, "ALREADYEXISTS", "the mailbox exists" },
		{ -ENOENT, "NONEXISTENT", "no such mailbox" },
		{ -EINVAL, "CANNOT", "invalid mailbox name" },
		{ -ENOTEMPTY, "CANNOT", "the mailbox has sub-mailboxes" },
		{ -EPERM, "CANNOT", "INBOX cannot be deleted" },
		{ -ENOSPC, "LIMIT", "too many mailboxes" },
	};
	size_t k = 0;
	while (k < sizeof(err) / sizeof(err[0]) && err[k].rc != rc)
		k++;
	if (k == sizeof(err) / sizeof(err[0]))
		buf_printf(&c->out, "%s NO [SERVERBUG] %s: the store failed\r\n", tag, cmd);
	else
		buf_printf(&c->out, "%s NO [%s] %s: %s\r\n", tag, err[k].code, cmd, err[k].why);
}

/* A mailbox name as an IMAP quoted string. */
static void put_name(struct conn *c, const char *name)
{
	buf_put(&c->out, "\"", 1);
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_put(&c->out, "\\", 1);
		buf_put(&c->out, p, 1);
	}
	buf_put(&c->out, "\"", 1);
}

static bool mailbox_arg(struct mp_imap_cur *cur, char *box, size_t cap)
{
	return mp_imap_astring(cur, box, cap) >= 0;
}

/* Resolves a mailbox argument; replies NO itself when it does not resolve. */
static bool find_box(struct conn *c, const char *tag, const char *cmd, const char *name,
                     uint32_t *box)
{
	int rc = mstore_box_find(c->st, c->imap->user, name, box);
	if (rc == -ENOENT &&
	    (!strcmp(cmd, "APPEND") || !strcmp(cmd, "COPY") || !strcmp(cmd, "MOVE")))
		buf_printf(&c->out, "%s NO [TRYCREATE] %s: no such mailbox\r\n", tag, cmd);
	else if (rc)
		fail(c, tag, cmd, rc);
	return rc == 0;
}

static void do_select(struct conn *c, const char *tag, const char *name, bool readonly)
{
	struct imap_sess *s = c->imap;
	const char *cmd = readonly ? "EXAMINE" : "SELECT";
	s->state = IS_AUTH;
	s->v.n = 0;
	uint32_t box;
	if (!find_box(c, tag, cmd, name, &box))
		return;
	mstore_view_reset(&s->v, box);
	/* the one command that reads the directories: what changed behind the store's back (a file
	 * removed or put there by hand) is seen from here on; NOOP and FETCH use the index */
	if (mstore_sync(c->st, s->user, box) ||
	    mstore_view_sync(c->st, s->user, &s->v, true, NULL, NULL))
		return imap_reply(c, tag, "NO [SERVERBUG] cannot read the mailbox");
	s->readonly = readonly;
	s->state = IS_SELECTED;
	buf_printf(&c->out,
	           "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
	           "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] flags\r\n"
	           "* %zu EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY %u] UIDs valid\r\n"
	           "* OK [UIDNEXT %u] predicted next UID\r\n"
	           "%s OK [%s] %s completed\r\n",
	           s->v.n, mstore_uidvalidity(c->st, s->user, box), s->v.uidnext, tag,
	           readonly ? "READ-ONLY" : "READ-WRITE", cmd);
}

/* LIST wildcards: '*' matches anything, '%' anything but the hierarchy delimiter. Dynamic
 * programming over the name (one row per pattern byte), so a hostile pattern such as "*%*%*%...x"
 * costs len(pattern) * len(name) steps, not an exponential backtrack. */
static bool wild(const char *pat, const char *name)
{
	size_t n = strlen(name);
	bool row[MS_NAME_MAX + 2],
	    next[MS_NAME_MAX + 2]; /* row[j]: pattern so far matches name[0..j) */
	if (n > MS_NAME_MAX)
		return false;
	memset(row, 0, sizeof(row));
	row[0] = true;
	for (; *pat; pat++) {
		memset(next, 0, sizeof(next));
		for (size_t j = 0; j <= n; j++) {
			if (*pat == '*' || *pat == '%') /* the wildcard matches name[j0..j) */
				next[j] = row[j] || (j > 0 && next[j - 1] &&
				                     (*pat == '*' || name[j - 1] != '.'));
			else
				next[j] = j > 0 && row[j - 1] && name[j - 1] == *pat;
		}
		memcpy(row, next, sizeof(row));
	}
	return row[n];
}

static void attrs(struct conn *c, unsigned a)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ MS_ATTR_SENT, " \\Sent" },       { MS_ATTR_DRAFTS, " \\Drafts" },
		{ MS_ATTR_TRASH, " \\Trash" },     { MS_ATTR_JUNK, " \\Junk" },
		{ MS_ATTR_ARCHIVE, " \\Archive" },
	};
	buf_printf(&c->out, "(%s", a & MS_ATTR_CHILDREN ? "\\HasChildren" : "\\HasNoChildren");
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (a & names[k].bit)
			buf_printf(&c->out, "%s", names[k].name);
	buf_printf(&c->out, ")");
}

static void do_list(struct conn *c, const char *tag, struct mp_imap_cur *cur, bool lsub)
{
	const char *cmd = lsub ? "LSUB" : "LIST";
	char ref[MS_NAME_MAX + 1], pat[2 * MS_NAME_MAX + 2];
	if (mp_imap_astring(cur, ref, sizeof(ref)) < 0 || !mp_imap_sp(cur) ||
	    mp_imap_list_mailbox(cur, pat, sizeof(pat) - strlen(ref)) < 0 || !mp_imap_at_end(cur))
		return (void)buf_printf(&c->out, "%s BAD %s: syntax: %s reference pattern\r\n", tag,
		                        cmd, cmd);
	if (pat[0] == 0) {
		buf_printf(&c->out, "* %s (\\Noselect) \".\" \"\"\r\n", cmd);
		return (void)buf_printf(&c->out, "%s OK %s completed\r\n", tag, cmd);
	}
	memmove(pat + strlen(ref), pat, strlen(pat) + 1);
	memcpy(pat, ref, strlen(ref));
	if (!strncasecmp(pat, "INBOX", 5) && (pat[5] == 0 || pat[5] == '.'))
		memcpy(pat, "INBOX", 5);
	int rc;
	if (lsub) {
		char **subs;
		size_t n;
		rc = mstore_subs(c->st, c->imap->user, &subs, &n);
		for (size_t i = 0; !rc && i < n; i++)
			if (wild(pat, subs[i])) {
				buf_printf(&c->out, "* LSUB () \".\" ");
				put_name(c, subs[i]);
				buf_printf(&c->out, "\r\n");
			}
		if (!rc)
			free(subs);
	} else {
		struct ms_boxinfo *l;
		size_t n;
		rc = mstore_box_list(c->st, c->imap->user, &l, &n);
		for (size_t i = 0; !rc && i < n; i++)
			if (wild(pat, l[i].name)) {
				buf_printf(&c->out, "* LIST ");
				attrs(c, l[i].attrs);
				buf_printf(&c->out, " \".\" ");
				put_name(c, l[i].name);
				buf_printf(&c->out, "\r\n");
			}
		if (!rc)
			free(l);
	}
	if (rc)
		return fail(c, tag, cmd, rc);
	buf_printf(&c->out, "%s OK %s completed\r\n", tag, cmd);
}

static void do_status(struct conn *c, const char *tag, struct mp_imap_cur *cur)
{
	char name[MS_NAME_MAX + 2];
	uint32_t box;
	struct ms_status st;
	if (!mailbox_arg(cur, name, sizeof(name)) || !mp_imap_sp(cur) || cur->p >= cur->end ||
	    *cur->p++ != '(')
		return imap_reply(c, tag, "BAD STATUS: syntax: STATUS mailbox (items)");
	const char *items = cur->p;
	for (;;) { /* check the items before answering anything */
		const char *w;
		size_t wn = mp_imap_atom(cur, &w);
		if (!is(w, wn, "MESSAGES") && !is(w, wn, "RECENT") && !is(w, wn, "UIDNEXT") &&
		    !is(w, wn, "UIDVALIDITY") && !is(w, wn, "UNSEEN"))
			return imap_reply(c, tag, "BAD STATUS: unknown or unsupported item");
		if (cur->p < cur->end && *cur->p == ')' && cur->p + 1 == cur->end)
			break;
		if (!mp_imap_sp(cur))
			return imap_reply(c, tag, "BAD STATUS: syntax: STATUS mailbox (items)");
	}
	if (!find_box(c, tag, "STATUS", name, &box))
		return;
	int rc = mstore_status(c->st, c->imap->user, box, &st);
	if (rc)
		return fail(c, tag, "STATUS", rc);
	buf_printf(&c->out, "* STATUS ");
	put_name(c, name);
	buf_printf(&c->out, " (");
	cur->p = items;
	for (const char *sp = "";; sp = " ") {
		const char *w;
		size_t wn = mp_imap_atom(cur, &w);
		uint32_t v = is(w, wn, "MESSAGES")      ? st.messages
		             : is(w, wn, "UIDNEXT")     ? st.uidnext
		             : is(w, wn, "UIDVALIDITY") ? st.uidvalidity
		             : is(w, wn, "UNSEEN")      ? st.unseen
		                                        : 0;
		buf_printf(&c->out, "%s%.*s %u", sp, (int)wn, w, v);
		if (!mp_imap_sp(cur))
			break;
	}
	buf_printf(&c->out, ")\r\n%s OK STATUS completed\r\n", tag);
}

uint64_t imap_literal_max(const struct conn *c, const struct buf *cmd)
{
	struct mp_imap_cur cur;
	const char *t, *w;
	mp_imap_cur_init(&cur, cmd->p ? cmd->p + cmd->off : "", buf_pending(cmd));
	if (c->imap->state == IS_NOAUTH || mp_imap_tag(&cur, &t) == 0 || !mp_imap_sp(&cur))
		return 0;
	size_t wn = mp_imap_atom(&cur, &w);
	if (!is(w, wn, "APPEND"))
		return 0;
	return c->cfg && c->cfg->max_size ? c->cfg->max_size : MP_IMAP_LITERAL_MAX;
}

static void do_append(struct conn *c, const char *tag, struct mp_imap_cur *cur)
{
	struct imap_sess *s = c->imap;
	char name[MS_NAME_MAX + 2];
	unsigned flags = 0;
	int64_t t = (int64_t)time(NULL);
	const char *msg;
	size_t len;
	if (!mailbox_arg(cur, name, sizeof(name)) || !mp_imap_sp(cur))
		return imap_reply(c, tag,
		                  "BAD APPEND: syntax: APPEND mailbox [flags] [date] literal");
	if (cur->p < cur->end && *cur->p == '(' &&
	    (!mp_imap_flag_list(cur, &flags) || !mp_imap_sp(cur)))
		return imap_reply(c, tag, "BAD APPEND: invalid flag list");
	if (cur->p < cur->end && *cur->p == '"' && (!mp_imap_datetime(cur, &t) || !mp_imap_sp(cur)))
		return imap_reply(c, tag, "BAD APPEND: invalid date-time");
	if (!mp_imap_literal_arg(cur, UINT64_MAX, &msg, &len) || !mp_imap_at_end(cur))
		return imap_reply(c, tag,
		                  "BAD APPEND: the message must be one literal (no CATENATE)");
	uint32_t box, uid;
	if (!find_box(c, tag, "APPEND", name, &box))
		return;
	int rc = mstore_append(c->st, s->user, box, msg, len, flags, t, &uid);
	if (rc)
		return fail(c, tag, "APPEND", rc);
	if (s->state == IS_SELECTED && s->v.box == box)
		imap_sync(c, true); /* RFC 3501 6.3.11: EXISTS at once */
	buf_printf(&c->out, "%s OK [APPENDUID %u %u] APPEND completed\r\n", tag,
	           mstore_uidvalidity(c->st, s->user, box), uid);
}

/* A sorted UID list as a sequence set ("3:5,9"). */
static void put_uids(struct conn *c, const struct ms_msg *m, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && m[j + 1].uid == m[j].uid + 1)
			j++;
		buf_printf(&c->out, i ? ",%u" : "%u", m[i].uid);
		if (j > i)
			buf_printf(&c->out, ":%u", m[j].uid);
		i = j + 1;
	}
}

static void do_copy(struct conn *c, const char *tag, struct mp_imap_cur *cur, bool uid, bool move)
{
	struct imap_sess *s = c->imap;
	const char *cmd = move ? "MOVE" : "COPY";
	struct mp_seqset set;
	char name[MS_NAME_MAX + 2];
	if (!mp_seqset_parse(cur, &set) || !mp_imap_sp(cur) ||
	    !mailbox_arg(cur, name, sizeof(name)) || !mp_imap_at_end(cur))
		return (void)buf_printf(&c->out, "%s BAD %s: syntax: %s set mailbox\r\n", tag, cmd,
		                        cmd);
	if (!uid)
		for (unsigned k = 0; k < set.n; k++)
			if (set.r[k].lo > s->v.n || set.r[k].hi > s->v.n)
				return (void)buf_printf(&c->out, "%s BAD %s: no such message\r\n",
				                        tag, cmd);
	if (move && s->readonly)
		return imap_reply(c, tag, "NO MOVE: mailbox is read-only");
	uint32_t box, first = 0;
	if (!find_box(c, tag, cmd, name, &box))
		return;
	if (box == s->v.box)
		return (void)buf_printf(&c->out, "%s NO [CANNOT] %s: into the same mailbox\r\n",
		                        tag, cmd);
	struct ms_msg *m = malloc((s->v.n ? s->v.n : 1) * sizeof(*m));
	size_t n = 0, done;
	if (!m)
		return fail(c, tag, cmd, -ENOMEM);
	for (size_t i = 0; i < s->v.n; i++)
		if (imap_match(s, &set, i, uid))
			m[n++] = s->v.msgs[i];
	int rc = mstore_copy(c->st, s->user, m, n, box, move, &first, &done);
	if (rc) {
		free(m);
		return fail(c, tag, cmd, rc);
	}
	bool uidplus = done && done == n; /* else some vanished meanwhile: no COPYUID */
	if (uidplus) {
		buf_printf(&c->out, "%s OK [COPYUID %u ", move ? "*" : tag,
		           mstore_uidvalidity(c->st, s->user, box));
		put_uids(c, m, n);
		buf_printf(&c->out, n > 1 ? " %u:%u] " : " %u] ", first, first + (uint32_t)n - 1);
		buf_printf(&c->out, move ? "moved\r\n" : "COPY completed\r\n");
	}
	if (move) /* the moved messages (m, in view order) leave the view: EXPUNGE, highest first */
		for (size_t i = s->v.n, j = n; i-- > 0 && j > 0;) {
			if (s->v.msgs[i].uid != m[j - 1].uid)
				continue;
			j--;
			memmove(s->v.msgs + i, s->v.msgs + i + 1,
			        (s->v.n - i - 1) * sizeof(*s->v.msgs));
			s->v.n--;
			buf_printf(&c->out, "* %zu EXPUNGE\r\n", i + 1);
		}
	free(m);
	if (move || !uidplus)
		buf_printf(&c->out, "%s OK %s completed\r\n", tag, cmd);
}

static void do_names(struct conn *c, const char *tag, const char *cmd, struct mp_imap_cur *cur)
{
	char a[MS_NAME_MAX + 2], b[MS_NAME_MAX + 2];
	bool two = !strcmp(cmd, "RENAME");
	if (!mailbox_arg(cur, a, sizeof(a)) ||
	    (two && (!mp_imap_sp(cur) || !mailbox_arg(cur, b, sizeof(b)))) || !mp_imap_at_end(cur))
		return (void)buf_printf(&c->out, "%s BAD %s: syntax: %s mailbox%s\r\n", tag, cmd,
		                        cmd, two ? " newname" : "");
	int u = c->imap->user, rc;
	if (!strcmp(cmd, "CREATE")) {
		size_t n = strlen(a);
		if (n > 1 && a[n - 1] == '.') /* "a." names the folder a that will have children */
			a[n - 1] = 0;
		rc = mstore_box_create(c->st, u, a);
	} else if (!strcmp(cmd, "DELETE")) {
		rc = mstore_box_delete(c->st, u, a);
	} else if (two) {
		rc = mstore_box_rename(c->st, u, a, b);
	} else {
		rc = mstore_subscribe(c->st, u, a, !strcmp(cmd, "SUBSCRIBE"));
	}
	if (rc)
		return fail(c, tag, cmd, rc);
	buf_printf(&c->out, "%s OK %s completed\r\n", tag, cmd);
}

bool imap_mailbox_cmd(struct conn *c, const char *tag, const char *w, size_t wn, bool uid,
                      bool args, struct mp_imap_cur *cur)
{
	static const char *const names[] = { "CREATE", "DELETE", "RENAME", "SUBSCRIBE",
		                             "UNSUBSCRIBE" };
	struct imap_sess *s = c->imap;
	bool sel = is(w, wn, "SELECT") || is(w, wn, "EXAMINE"), list = is(w, wn, "LIST"),
	     lsub = is(w, wn, "LSUB"), copy = is(w, wn, "COPY"), move = is(w, wn, "MOVE");
	bool uexp = uid && is(w, wn, "EXPUNGE"), ns = is(w, wn, "NAMESPACE"),
	     en = is(w, wn, "ENABLE"), status = is(w, wn, "STATUS"), app = is(w, wn, "APPEND");
	const char *name = NULL;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (is(w, wn, names[k]))
			name = names[k];
	if (!sel && !list && !lsub && !copy && !move && !uexp && !ns && !en && !status && !app &&
	    !name)
		return false;
	if (s->state == IS_NOAUTH)
		imap_reply(c, tag, "BAD log in first");
	else if ((copy || move || uexp) && s->state != IS_SELECTED)
		imap_reply(c, tag, "BAD select a mailbox first");
	else if (ns || en) {
		if (ns && args)
			return imap_reply(c, tag, "BAD NAMESPACE takes no arguments"), true;
		if (en && !args)
			return imap_reply(c, tag, "BAD ENABLE needs capability names"), true;
		/* nothing this server has needs enabling (no CONDSTORE, no UTF8=ACCEPT) */
		buf_printf(&c->out,
		           ns ? "* NAMESPACE ((\"\" \".\")) NIL NIL\r\n" : "* ENABLED\r\n");
		buf_printf(&c->out, "%s OK %s completed\r\n", tag, ns ? "NAMESPACE" : "ENABLE");
	} else if (!args)
		buf_printf(&c->out, "%s BAD %.*s needs arguments\r\n", tag, (int)wn, w);
	else if (sel) {
		char box[MS_NAME_MAX + 2];
		if (!mailbox_arg(cur, box, sizeof(box)) || !mp_imap_at_end(cur))
			imap_reply(c, tag, "BAD SELECT: syntax: SELECT mailbox");
		else
			do_select(c, tag, box, is(w, wn, "EXAMINE"));
	} else if (list || lsub)
		do_list(c, tag, cur, lsub);
	else if (status)
		do_status(c, tag, cur);
	else if (app)
		do_append(c, tag, cur);
	else if (copy || move)
		do_copy(c, tag, cur, uid, move);
	else if (uexp) {
		struct mp_seqset set;
		if (!mp_seqset_parse(cur, &set) || !mp_imap_at_end(cur))
			imap_reply(c, tag, "BAD UID EXPUNGE: syntax: UID EXPUNGE uid-set");
		else if (s->readonly)
			imap_reply(c, tag, "NO mailbox is read-only");
		else if (imap_expunge(c, false, &set))
			imap_reply(c, tag, "OK UID EXPUNGE completed");
		else
			imap_reply(c, tag, "NO [SERVERBUG] some messages stay: the store failed");
	} else
		do_names(c, tag, name, cur);
	return true;
}
