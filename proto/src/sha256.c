/*
 * SHA-256 (FIPS 180-4): the streaming hasher behind wire_sha256 and
 * wire_sha256_init/update/final, and the portable compression function.
 * Each block goes to the CPU's SHA extensions when it has them
 * (sha256_ni.c), to sha256_compress_c otherwise; the choice is made once.
 * mbedTLS stays as the independent reference (wire_sha256_portable) that
 * the tests compare every path with.
 */
#include <stdatomic.h>
#include <string.h>

#include "hansa/assert.h"
#include "hansa/wire.h"
#include "sha256_impl.h"

/* Round constants (FIPS 180-4 §4.2.2); 16-byte aligned for the SHA-NI
 * code's aligned loads. */
const uint32_t sha256_k[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

void sha256_compress_c(uint32_t state[8], const uint8_t *data, size_t n)
{
    for (; n > 0; n--, data += 64) {
        uint32_t w[64];
        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)data[4 * i] << 24 | (uint32_t)data[4 * i + 1] << 16 |
                   (uint32_t)data[4 * i + 2] << 8 | (uint32_t)data[4 * i + 3];
        for (int i = 16; i < 64; i++) {
            uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int i = 0; i < 64; i++) {
            uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                          sha256_k[i] + w[i];
            uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

/* 0: not asked yet, 1: SHA extensions, 2: portable. Threads that race on
 * the first call all find the same answer. */
static atomic_int sha_impl;

bool wire_sha256_accelerated(void)
{
    int impl = atomic_load_explicit(&sha_impl, memory_order_relaxed);
    if (impl == 0) {
        impl = sha256_ni_available() ? 1 : 2;
        atomic_store_explicit(&sha_impl, impl, memory_order_relaxed);
    }
    return impl == 1;
}

static void compress(uint32_t state[8], const uint8_t *data, size_t n)
{
    if (n == 0)
        return;
    if (wire_sha256_accelerated())
        sha256_compress_ni(state, data, n);
    else
        sha256_compress_c(state, data, n);
}

void wire_sha256_init(struct wire_sha256_ctx *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->state, iv, sizeof iv);
    c->total_bytes = 0;
    c->buf_len = 0;
}

void wire_sha256_update(struct wire_sha256_ctx *c, const void *data, size_t len)
{
    HANSA_ASSERT(c->buf_len < 64);
    const uint8_t *p = data;
    c->total_bytes += len;
    if (c->buf_len > 0) {
        size_t take = 64 - c->buf_len < len ? 64 - c->buf_len : len;
        memcpy(c->buf + c->buf_len, p, take);
        c->buf_len += take;
        p += take;
        len -= take;
        if (c->buf_len < 64)
            return;
        compress(c->state, c->buf, 1);
        c->buf_len = 0;
    }
    compress(c->state, p, len / 64);
    p += len / 64 * 64;
    len %= 64;
    memcpy(c->buf, p, len);
    c->buf_len = len;
}

void wire_sha256_final(struct wire_sha256_ctx *c, uint8_t out[WIRE_HASH_BYTES])
{
    /* 0x80, zeros, then the length in bits: one or two blocks. */
    uint8_t last[128] = {0};
    memcpy(last, c->buf, c->buf_len);
    last[c->buf_len] = 0x80;
    size_t blocks = c->buf_len + 1 + 8 <= 64 ? 1 : 2;
    uint64_t bits = c->total_bytes * 8u;
    for (int i = 0; i < 8; i++)
        last[blocks * 64 - 1 - (size_t)i] = (uint8_t)(bits >> (8 * i));
    compress(c->state, last, blocks);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->state[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->state[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->state[i];
    }
}

void wire_sha256(const void *data, size_t len, uint8_t out[WIRE_HASH_BYTES])
{
    struct wire_sha256_ctx c;
    wire_sha256_init(&c);
    wire_sha256_update(&c, data, len);
    wire_sha256_final(&c, out);
}
