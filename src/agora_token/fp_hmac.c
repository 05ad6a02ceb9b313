/* fp_hmac.c: HMAC-SHA256 on SHA-256 (see fp_hmac.h): hand-rolled so that the SHA-256 path has no
   allocation and no EVP dispatch, which is most of the cost of a short MAC. */
#include "fp_hmac.h"

#include <string.h>

#include <openssl/crypto.h>

#define FP_BLOCK 64  /* SHA-256's block size: the length of the padded key */

/* The padded key: the key itself, or its digest when longer than a block, zero-filled. */
#ifdef FP_EVP
static fp_status fp_block_key(const unsigned char *key, size_t keylen, unsigned char k[FP_BLOCK]) {
    unsigned int dlen = 0;
    memset(k, 0, FP_BLOCK);
    if (keylen > FP_BLOCK) return EVP_Digest(key, keylen, k, &dlen, EVP_sha256(), NULL) ? FP_OK : FP_ECRYPTO;
    if (keylen) memcpy(k, key, keylen);
    return FP_OK;
}
#else
static fp_status fp_block_key(const unsigned char *key, size_t keylen, unsigned char k[FP_BLOCK]) {
    memset(k, 0, FP_BLOCK);
    if (keylen > FP_BLOCK) SHA256(key, keylen, k);
    else if (keylen) memcpy(k, key, keylen);
    return FP_OK;
}
#endif

#ifdef FP_EVP
static void fp_hmac_free(fp_hmac *h) {
    EVP_MD_CTX_free(h->inner);
    EVP_MD_CTX_free(h->outer);
    h->inner = h->outer = NULL;
}

fp_status fp_hmac_init(fp_hmac *h, const unsigned char *key, size_t keylen) {
    unsigned char k[FP_BLOCK], pad[FP_BLOCK];
    fp_status st;
    int i, ok;
    h->inner = EVP_MD_CTX_new();
    h->outer = EVP_MD_CTX_new();
    if (h->inner == NULL || h->outer == NULL) { fp_hmac_free(h); return FP_ENOMEM; }
    st = fp_block_key(key, keylen, k);
    if (st != FP_OK) { fp_hmac_free(h); return st; }
    for (i = 0; i < FP_BLOCK; i++) pad[i] = k[i] ^ 0x36;
    ok = EVP_DigestInit_ex(h->inner, EVP_sha256(), NULL) && EVP_DigestUpdate(h->inner, pad, FP_BLOCK);
    for (i = 0; i < FP_BLOCK; i++) pad[i] = k[i] ^ 0x5c;
    ok = ok && EVP_DigestInit_ex(h->outer, EVP_sha256(), NULL) && EVP_DigestUpdate(h->outer, pad, FP_BLOCK);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    if (!ok) { fp_hmac_free(h); return FP_ECRYPTO; }
    return FP_OK;
}

fp_status fp_hmac_update(fp_hmac *h, const void *data, size_t len) {
    return (len == 0 || EVP_DigestUpdate(h->inner, data, len)) ? FP_OK : FP_ECRYPTO;
}

fp_status fp_hmac_final(fp_hmac *h, unsigned char out[32]) {
    unsigned char ih[32];
    unsigned int n = 0;
    int ok = EVP_DigestFinal_ex(h->inner, ih, &n) && EVP_DigestUpdate(h->outer, ih, sizeof ih)
             && EVP_DigestFinal_ex(h->outer, out, &n);
    OPENSSL_cleanse(ih, sizeof ih);
    fp_hmac_free(h);
    return ok ? FP_OK : FP_ECRYPTO;
}

const char *fp_hmac_path(void) { return "evp"; }
#else
fp_status fp_hmac_init(fp_hmac *h, const unsigned char *key, size_t keylen) {
    unsigned char k[FP_BLOCK], pad[FP_BLOCK];
    int i;
    fp_block_key(key, keylen, k);
    for (i = 0; i < FP_BLOCK; i++) pad[i] = k[i] ^ 0x36;
    SHA256_Init(&h->inner);
    SHA256_Update(&h->inner, pad, FP_BLOCK);
    for (i = 0; i < FP_BLOCK; i++) pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&h->outer);
    SHA256_Update(&h->outer, pad, FP_BLOCK);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    return FP_OK;
}

fp_status fp_hmac_update(fp_hmac *h, const void *data, size_t len) {
    if (len) SHA256_Update(&h->inner, data, len);
    return FP_OK;
}

fp_status fp_hmac_final(fp_hmac *h, unsigned char out[32]) {
    unsigned char ih[32];
    SHA256_Final(ih, &h->inner);
    SHA256_Update(&h->outer, ih, sizeof ih);
    SHA256_Final(out, &h->outer);
    OPENSSL_cleanse(ih, sizeof ih);
    OPENSSL_cleanse(h, sizeof *h);
    return FP_OK;
}

const char *fp_hmac_path(void) { return "sha256"; }
#endif

fp_status fp_hmac1(const unsigned char *key, size_t keylen, const unsigned char *msg, size_t len,
                   unsigned char out[32]) {
    fp_hmac h;
    fp_status st = fp_hmac_init(&h, key, keylen);
    if (st != FP_OK) return st;
    st = fp_hmac_update(&h, msg, len);
    if (st != FP_OK) { (void)fp_hmac_final(&h, out); return st; }  /* final frees the context */
    return fp_hmac_final(&h, out);
}
