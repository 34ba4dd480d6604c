/* lib/fs.h: the file-system chores several programs and tests share: removing a directory tree
 * and making a private temporary directory.
 *
 * Contract: fs_rmtree() removes path and everything below it without following symbolic links
 * (keep_top: everything below it, the directory itself stays); 0, or -1 with errno from the first
 * entry that could not be removed (it goes on with the others). fs_tmpdir() makes a new directory
 * "$TMPDIR/NAME.XXXXXX" (TMPDIR unset or empty: /tmp), mode 0700, and writes its path to dst: 0, or
 * -1 with errno (ENAMETOOLONG when it does not fit). Nothing is printed. */
#ifndef LIB_FS_H
#define LIB_FS_H
#include <stdbool.h>
#include <stddef.h>

int fs_rmtree(const char *path, bool keep_top);
int fs_tmpdir(char *dst, size_t len, const char *name);

#endif
