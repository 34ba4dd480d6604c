/* model/result.h: result files (schema vcons-result/1, results/SCHEMA.md) on disk. A result is
 * written atomically: to a temporary file in the same directory, fsynced, renamed over the final
 * name and the directory fsynced, so a killed run leaves either the previous file or the complete
 * new one, never half of one. */
#ifndef MODEL_RESULT_H
#define MODEL_RESULT_H
#include <jansson.h>
#include <stddef.h>

#define RESULT_SCHEMA "vcons-result/1"

/* 0, or -1 with a one-line reason. */
int result__write(const char *path, const json_t *result, char *err, size_t errlen);
/* A result file, checked to be a JSON object of this schema; NULL with a reason naming the file. */
json_t *result__load(const char *path, char *err, size_t errlen);
/* Copies a file (a VM's log into the result directory); 0 or -1 with a reason. */
int result__copy_file(const char *from, const char *to, char *err, size_t errlen);

#endif
