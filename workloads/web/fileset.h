/* workloads/web/fileset.h: the web VM's static file set, defined by arithmetic alone so that the
 * server (`vcons-web --load` writes it under --data) and any client (which recomputes it in
 * memory to validate answers) agree byte for byte without sharing files.
 *
 * Static files /static/fNNNNN.bin: file i has a Zipf size (1 MiB / (i+1), at least 1 KiB, plus up
 * to 1/8 deterministic jitter, at most 1 MiB). Images /images/iNNN.png: 1..32 KiB, PNG signature.
 * Content is a xorshift byte stream seeded by (kind, index). Checksums are 64-bit FNV-1a.
 * The manifest (--data/manifest.tsv) lists "path<TAB>size<TAB>fnv1a64-hex<TAB>content-type". */
#ifndef WORKLOADS_WEB_FILESET_H
#define WORKLOADS_WEB_FILESET_H
#include <stddef.h>
#include <stdint.h>

#define FILESET_MIN_BYTES     1024u
#define FILESET_MAX_BYTES     (1024u * 1024u)
#define FILESET_DEFAULT_FILES 1000
#define FILESET_IMAGES        32

enum fileset_kind { FILESET_STATIC, FILESET_IMAGE };

struct fileset_entry {
	enum fileset_kind kind;
	int index;
	char path[32]; /* URL path, also the file's path under --data (without the leading '/') */
	size_t size;
	uint64_t fnv;
	const char *content_type;
};

uint64_t fnv1a64(const void *p, size_t n);
uint64_t fnv1a64_add(uint64_t h, const void *p, size_t n); /* continues a hash; start FNV_BASIS */
#define FNV_BASIS 0xcbf29ce484222325ULL

size_t fileset_size(enum fileset_kind kind, int index);
/* Writes the file's size bytes of content into buf. */
void fileset_content(enum fileset_kind kind, int index, unsigned char *buf, size_t size);
/* Fills e (path, size, checksum...); computing the checksum generates the content (scratch holds
 * at least FILESET_MAX_BYTES). */
void fileset_entry(enum fileset_kind kind, int index, unsigned char *scratch,
                   struct fileset_entry *e);
/* Number of entries of a set with `files` static files; entry k = static k, then images. */
int fileset_count(int files);
void fileset_nth(int files, int k, unsigned char *scratch, struct fileset_entry *e);

/* Writes every file and the manifest under dir (creating dir/static, dir/images); 0 or -1 with
 * errno set. Files are written to a temporary name, fsynced and renamed (atomic). */
int fileset_write(const char *dir, int files);

#endif
