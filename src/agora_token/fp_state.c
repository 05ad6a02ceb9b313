/* fp_state.c: per-thread kernel state and salts (see fp_state.h). */
/* syscall(), O_CLOEXEC and arc4random_buf() under any -std (Python.h would define these too). */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE 1
#elif defined(__APPLE__) && !defined(_DARWIN_C_SOURCE)
#define _DARWIN_C_SOURCE 1
#endif
#include "fp_state.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#if defined(FP_NO_THREAD_STATE)
#elif !defined(_WIN32)
#include <pthread.h>
#define FP_PTHREAD 1
#else
#define WIN32_LEAN_AND_MEAN 1  /* no wincrypt.h, whose X509_NAME & co. clash with OpenSSL's names */
#include <windows.h>
#define FP_FLS 1
#endif

/* ---------------------------------------------------------------- OS randomness */
/* Salt bytes come straight from the kernel: OpenSSL's RAND keeps a process-wide lock, and a fork()
   taken while another thread held it (e.g. in that thread's exit cleanup) left the child blocked
   forever in its first RAND_bytes. getrandom/arc4random have no such lock. */
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#define FP_ARC4RANDOM 1
#endif
#if !defined(_WIN32) && !defined(FP_ARC4RANDOM)
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
/* Every Unix has /dev/urandom: for Linux without getrandom(2) and for the Unixes not named below. */
static int fp_urandom_file(unsigned char *buf, size_t n) {
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    while (n > 0) {
        ssize_t r = read(fd, buf, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { close(fd); return -1; }
        buf += r; n -= (size_t)r;
    }
    close(fd);
    return 0;
}
#endif

#if defined(__linux__)
#include <sys/syscall.h>
static int fp_os_random(unsigned char *buf, size_t n) {
    while (n > 0) {
        /* the raw syscall: manylinux2014's glibc 2.17 has no getrandom() wrapper */
        long r = syscall(SYS_getrandom, buf, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOSYS) return fp_urandom_file(buf, n);
            return -1;
        }
        buf += r; n -= (size_t)r;
    }
    return 0;
}
#elif defined(FP_ARC4RANDOM)
static int fp_os_random(unsigned char *buf, size_t n) { arc4random_buf(buf, n); return 0; }
#elif defined(_WIN32)  /* no fork, so OpenSSL's generator is safe */
static int fp_os_random(unsigned char *buf, size_t n) { return RAND_bytes(buf, (int)n) == 1 ? 0 : -1; }
#else  /* another Unix (Solaris, AIX, Cygwin...): it forks, so not RAND_bytes */
static int fp_os_random(unsigned char *buf, size_t n) { return fp_urandom_file(buf, n); }
#endif

/* ---------------------------------------------------------------- the state's life */
#if defined(FP_PTHREAD) || defined(FP_FLS)
static fp_tls *fp_tls_new(void) {
    fp_tls *t = (fp_tls *)calloc(1, sizeof *t);
    if (t != NULL) t->salt_pos = sizeof t->salt;  /* empty */
    return t;
}

static void fp_tls_free(void *p) {
    fp_tls *t = (fp_tls *)p;
    if (t == NULL) return;
    if (t->def_ready) deflateEnd(&t->def);
    if (t->inf_ready) inflateEnd(&t->inf);
    OPENSSL_cleanse(t->salt, sizeof t->salt);
#ifdef FP_HMAC_COPYABLE
    OPENSSL_cleanse(&t->keys, sizeof t->keys);
#endif
    free(t);
}
#endif

#if defined(FP_PTHREAD)
static pthread_key_t fp_key;
static pthread_once_t fp_once = PTHREAD_ONCE_INIT;
static int fp_key_ok = 0;
/* Bumped in the child of every fork(): buffered salt randomness of an older generation is
   discarded, so a child never repeats the salts its parent is about to use. */
static volatile unsigned long fp_fork_gen = 0;

static void fp_atfork_child(void) { fp_fork_gen++; }

static void fp_init_once(void) {
    fp_key_ok = pthread_key_create(&fp_key, fp_tls_free) == 0;
    (void)pthread_atfork(NULL, NULL, fp_atfork_child);
}

fp_tls *fp_tls_get(void) {
    fp_tls *t;
    if (pthread_once(&fp_once, fp_init_once) != 0 || !fp_key_ok) return NULL;
    t = (fp_tls *)pthread_getspecific(fp_key);
    if (t == NULL) {
        t = fp_tls_new();
        if (t == NULL) return NULL;
        t->salt_gen = fp_fork_gen;
        if (pthread_setspecific(fp_key, t) != 0) { free(t); return NULL; }
    }
    return t;
}

static unsigned long fp_generation(void) { return fp_fork_gen; }

#elif defined(FP_FLS)
static DWORD fp_slot = FLS_OUT_OF_INDEXES;
static INIT_ONCE fp_once = INIT_ONCE_STATIC_INIT;

/* Windows calls this with the slot's value when a thread or fiber ends (never with NULL). */
static void NTAPI fp_fls_free(PVOID p) { fp_tls_free(p); }

static BOOL CALLBACK fp_init_once(PINIT_ONCE once, PVOID param, PVOID *context) {
    (void)once; (void)param; (void)context;
    fp_slot = FlsAlloc(fp_fls_free);
    return TRUE;  /* a failed FlsAlloc leaves FLS_OUT_OF_INDEXES: no state, per-call streams */
}

fp_tls *fp_tls_get(void) {
    fp_tls *t;
    if (!InitOnceExecuteOnce(&fp_once, fp_init_once, NULL, NULL) || fp_slot == FLS_OUT_OF_INDEXES) return NULL;
    t = (fp_tls *)FlsGetValue(fp_slot);
    if (t == NULL) {
        t = fp_tls_new();
        if (t == NULL) return NULL;
        if (!FlsSetValue(fp_slot, t)) { free(t); return NULL; }
    }
    return t;
}

static unsigned long fp_generation(void) { return 0; }  /* no fork */

#else
fp_tls *fp_tls_get(void) { return NULL; }
static unsigned long fp_generation(void) { return 0; }
#endif

/* ---------------------------------------------------------------- salts */
/* Uniform in 1..99999999: 32-bit draws below the largest multiple of 99999999 (no modulo bias). */
fp_status fp_random_salt(uint32_t *out) {
    const uint32_t limit = (uint32_t)(((uint64_t)1 << 32) / FP_SALT_MAX * FP_SALT_MAX);
    fp_tls *t = fp_tls_get();
    for (;;) {
        uint32_t v;
        if (t != NULL) {
            unsigned long gen = fp_generation();
            if (t->salt_gen != gen || t->salt_pos + 4 > sizeof t->salt) {
                if (fp_os_random(t->salt, sizeof t->salt) != 0) return FP_ERANDOM;
                t->salt_pos = 0;
                t->salt_gen = gen;
            }
            memcpy(&v, t->salt + t->salt_pos, 4);
            memset(t->salt + t->salt_pos, 0, 4);
            t->salt_pos += 4;
        } else if (fp_os_random((unsigned char *)&v, 4) != 0) {
            return FP_ERANDOM;
        }
        if (v < limit) { *out = v % FP_SALT_MAX + 1; return FP_OK; }
    }
}
