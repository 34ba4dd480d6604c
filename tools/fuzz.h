/* tools/fuzz.h: what every vcons fuzz target includes. A target defines LLVMFuzzerTestOneInput
 * (and, if it needs one-time setup, LLVMFuzzerInitialize) and nothing else: `make fuzz` links it
 * with libFuzzer, `make test` with tools/fuzz_replay.c, which feeds it every file of its corpus.
 *
 * Contract for a target: it must not leak, crash, hang or write outside its fuzz_scratch_dir() for
 * any input; it
 * frees what it allocates per input, so ASan's leak check at exit means something. It aborts
 * (fuzz_assert) when the code under test breaks a promise its header makes, not only on crashes. */
#ifndef VCONS_FUZZ_H
#define VCONS_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The folder of the target's seed and regression inputs (the Makefile passes FUZZ_CORPUS). */
#ifdef FUZZ_CORPUS
const char fuzz__corpus[] = FUZZ_CORPUS;
#endif

/* A fresh folder build/tmp/NAME.XXXXXX for the target's scratch files, removed with everything in
 * it when the process exits. Relative to the repository's top, where `make test` and `make fuzz`
 * run the targets (tools/fuzz.c); exits with one line if it cannot be made. */
const char *fuzz_scratch_dir(const char *name);

/* A broken contract: one line naming it, then abort() so libFuzzer keeps the input. */
#define fuzz_assert(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: fuzz_assert(%s) failed\n", __FILE__, __LINE__,     \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
