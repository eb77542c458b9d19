/* sha256.h - SHA-256 (FIPS 180-4), incremental and one-shot, for checking downloaded and bundled files. */
#ifndef HEARTH_SHA256_H
#define HEARTH_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t n_bytes; /* message length so far */
    uint8_t buf[64];  /* a partial block */
    size_t n_buf;
} hk_sha256_ctx;

void hk_sha256_init(hk_sha256_ctx *s);
void hk_sha256_update(hk_sha256_ctx *s, const void *data, size_t len);
void hk_sha256_final(hk_sha256_ctx *s, uint8_t digest[32]); /* s must be re-initialised to be reused */

/* One shot: digest of data[0..len). */
void hk_sha256(const void *data, size_t len, uint8_t digest[32]);
/* Lower-case hex of a digest, NUL-terminated (65 bytes). */
void hk_sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
