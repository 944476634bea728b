/* SHA-256 compression functions behind wire_sha256 (hash.c, sha256.c,
 * sha256_ni.c). Internal to hansa_wire; the tests include it to check each
 * against the portable reference. */
#ifndef HANSA_WIRE_SHA256_IMPL_H
#define HANSA_WIRE_SHA256_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The 64 round constants, shared by both compression functions. */
extern const uint32_t sha256_k[64];

/* Compress n 64-byte blocks into state (a..h, host order). */
void sha256_compress_c(uint32_t state[8], const uint8_t *data, size_t n);
/* The same with the SHA extensions; only when sha256_ni_available(). */
void sha256_compress_ni(uint32_t state[8], const uint8_t *data, size_t n);
/* True if this CPU (and build) can run sha256_compress_ni. */
bool sha256_ni_available(void);

#endif
