/* workloads/web/fileset.c: the deterministic static file set (see fileset.h). */
#include "workloads/web/fileset.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t fnv1a64_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t fnv1a64(const void *p, size_t n)
{
	return fnv1a64_add(FNV_BASIS, p, n);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

size_t fileset_size(enum fileset_kind kind, int index)
{
	uint64_t h = mix64(((uint64_t)kind << 32) ^ (uint64_t)index ^ 0x5eedULL);
	if (kind == FILESET_IMAGE)
		return 1024u + (size_t)(h % (31u * 1024u));
	size_t base = FILESET_MAX_BYTES / (size_t)(index + 1);
	if (base < FILESET_MIN_BYTES)
		base = FILESET_MIN_BYTES;
	size_t s = base + (size_t)(h % (base / 8 + 1));
	return s > FILESET_MAX_BYTES ? FILESET_MAX_BYTES : s;
}

void fileset_content(enum fileset_kind kind, int index, unsigned char *buf, size_t size)
{
	uint64_t x = mix64(((uint64_t)kind << 40) ^ (uint64_t)index ^ 0xc0ffeeULL) | 1;
	size_t i = 0;
	while (i < size) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		for (int k = 0; k < 8 && i < size; k++, i++)
			buf[i] = (unsigned char)(x >> (8 * k));
	}
	static const unsigned char png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	if (kind == FILESET_IMAGE)
		memcpy(buf, png, size < 8 ? size : 8);
}

void fileset_entry(enum fileset_kind kind, int index, unsigned char *scratch,
                   struct fileset_entry *e)
{
	e->kind = kind;
	e->index = index;
	e->size = fileset_size(kind, index);
	if (kind == FILESET_IMAGE) {
		snprintf(e->path, sizeof(e->path), "/images/i%03d.png", index);
		e->content_type = "image/png";
	} else {
		snprintf(e->path, sizeof(e->path), "/static/f%05d.bin", index);
		e->content_type = "application/octet-stream";
	}
	fileset_content(kind, index, scratch, e->size);
	e->fnv = fnv1a64(scratch, e->size);
}

int fileset_count(int files)
{
	return files + FILESET_IMAGES;
}

void fileset_nth(int files, int k, unsigned char *scratch, struct fileset_entry *e)
{
	if (k < files)
		fileset_entry(FILESET_STATIC, k, scratch, e);
	else
		fileset_entry(FILESET_IMAGE, k - files, scratch, e);
}

/* Writes n bytes to dir/rel atomically (temporary file, fsync, rename). */
static int write_atomic(const char *dir, const char *rel, const void *p, size_t n)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			errno = w < 0 ? e : EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		return -1;
	return rename(tmp, path);
}

int fileset_write(const char *dir, int files)
{
	char sub[4096];
	const char *subs[] = { "static", "images" };
	for (int i = 0; i < 2; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
		if (mkdir(sub, 0755) < 0 && errno != EEXIST)
			return -1;
	}
	unsigned char *scratch = malloc(FILESET_MAX_BYTES);
	size_t mcap = 128 * (size_t)fileset_count(files) + 64, mlen = 0;
	char *manifest = malloc(mcap);
	if (!scratch || !manifest) {
		free(scratch);
		free(manifest);
		errno = ENOMEM;
		return -1;
	}
	int rc = 0;
	for (int k = 0; k < fileset_count(files) && rc == 0; k++) {
		struct fileset_entry e;
		fileset_nth(files, k, scratch, &e);
		rc = write_atomic(dir, e.path + 1, scratch, e.size);
		mlen += (size_t)snprintf(manifest + mlen, mcap - mlen, "%s\t%zu\t%016llx\t%s\n",
		                         e.path, e.size, (unsigned long long)e.fnv, e.content_type);
	}
	if (rc == 0)
		rc = write_atomic(dir, "manifest.tsv", manifest, mlen);
	free(scratch);
	free(manifest);
	return rc;
}
