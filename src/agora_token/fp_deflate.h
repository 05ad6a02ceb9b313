/* fp_deflate: zlib's level-6 deflate, re-implemented for small one-shot inputs.
 *
 * Contract. For every input of at most FPD_MAX_INPUT bytes, fpd_compress writes exactly the bytes
 * zlib's compress2(dest, &len, src, n, 6) writes, i.e. deflateInit2(level 6, Z_DEFLATED,
 * windowBits 15, memLevel 8, Z_DEFAULT_STRATEGY) followed by one deflate(Z_FINISH) call with the
 * whole input and room enough for the whole output: the 78 9C header, one final block (stored,
 * fixed or dynamic Huffman, chosen as zlib chooses) and the big-endian Adler-32. That is what
 * Python's zlib.compress(data) gives with the reference zlib (1.2.x/1.3.x of madler/zlib): other
 * implementations (zlib-ng, patched forks) differ, which is why the kernel compares this function
 * with the interpreter's zlib at import before it uses it.
 *
 * Inputs above FPD_MAX_INPUT are refused (FPD_TOO_LONG): the caller deflates them with zlib. The
 * limit keeps every input in one block (zlib ends a block after 16,383 symbols at memLevel 8) and
 * far from the 32 KB window (nothing ever slides out of it).
 *
 * Thread safety: the function is reentrant across threads. Each thread keeps a 64 KB hash table
 * (thread-local storage) whose entries each call numbers past the previous call's, so that it
 * needs no clearing between calls; where the compiler offers no thread-local storage, or the
 * kernel is built with FP_NO_THREAD_STATE, the table lives on the stack and is cleared on every
 * call.
 */
#ifndef AGORA_TOKEN_FP_DEFLATE_H
#define AGORA_TOKEN_FP_DEFLATE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FPD_MAX_INPUT 2048

/* Room the output always fits in, for an input of n <= FPD_MAX_INPUT bytes: 2 header bytes, a
   stored block (5 + n), 4 bytes of Adler-32. */
#define FPD_BOUND(n) ((size_t)(n) + 11)

#define FPD_OK 0          /* *outlen bytes written to out */
#define FPD_TOO_LONG 1    /* n > FPD_MAX_INPUT: nothing written, use zlib */
#define FPD_NO_ROOM 2     /* cap < FPD_BOUND(n): nothing written */

int fpd_compress(const unsigned char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen);

/* Diagnostics for tests and tools: how the last fpd_compress call on this thread decided its block
   (a bit set: FPD_PATH_*), or 0 where there is no thread-local storage. */
#define FPD_PATH_BOUND 1    /* the cheap lower bound on the dynamic block settled it without trees */
#define FPD_PATH_TREES 2    /* the three Huffman trees were built */
#define FPD_PATH_STORED 4   /* the block is stored */
#define FPD_PATH_FIXED 8    /* the block uses the fixed code */
#define FPD_PATH_DYNAMIC 16 /* the block carries its own code */
#define FPD_PATH_SHAPE 32   /* the lower bound from the trees' shape settled it without zlib's heap */
int fpd_last_path(void);

#ifdef __cplusplus
}
#endif

#endif
