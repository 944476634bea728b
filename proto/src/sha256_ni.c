/*
 * The SHA-256 compression function with the x86 SHA extensions (SHA-NI),
 * used by wire_sha256 and the streaming hasher when the CPU has them
 * (sha256.c has the portable one).
 *
 * Why: every validator hashes each transaction's bytes several times (tx
 * id at admission and in blocks, Merkle leaves, the state root over every
 * write), and mbedTLS 2.28 and libsodium 1.0.18 hash in software. SHA-256
 * was 3.7 % of the validators' CPU in the benchmark (BENCHMARKS.md).
 *
 * The hash is a consensus value: the output must equal the portable code's
 * bit for bit on every input. tests/unit/test_hash.c checks both
 * compression functions, the one-shot and the streaming hash against the
 * FIPS 180 vectors and against mbedTLS on inputs of every length from 0 to
 * 1,100 bytes (all padding cases), on random data and random splits.
 *
 * The compression function follows the usual SHA-NI schedule (Intel's
 * "SHA extensions" white paper): state as ABEF/CDGH, four rounds per
 * _mm_sha256rnds2_epu32 pair, the message schedule by sha256msg1/msg2.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hansa/assert.h"
#include "sha256_impl.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <cpuid.h>
#include <immintrin.h>

#define NI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

NI_TARGET void sha256_compress_ni(uint32_t state[8], const uint8_t *data, size_t n)
{
    /* Big-endian 32-bit words from the message bytes. */
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)&state[0]);    /* DCBA */
    __m128i state1 = _mm_loadu_si128((const __m128i *)&state[4]); /* HGFE */
    tmp = _mm_shuffle_epi32(tmp, 0xB1);                           /* CDAB */
    state1 = _mm_shuffle_epi32(state1, 0x1B);                     /* EFGH */
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);             /* ABEF */
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);                  /* CDGH */

    for (; n > 0; n--, data += 64) {
        __m128i abef = state0, cdgh = state1;
        __m128i w[4];
        for (int i = 0; i < 4; i++)
            w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * i)), bswap);
        for (int g = 0; g < 16; g++) {
            __m128i cur = w[g & 3];
            if (g >= 4) {
                /* w[g] from w[g-4], w[g-3], w[g-2], w[g-1] (held in w[g & 3]
                 * and the next three slots, oldest first). */
                __m128i w4 = w[g & 3], w3 = w[(g + 1) & 3], w2 = w[(g + 2) & 3],
                        w1 = w[(g + 3) & 3];
                __m128i x = _mm_add_epi32(_mm_sha256msg1_epu32(w4, w3), _mm_alignr_epi8(w1, w2, 4));
                cur = _mm_sha256msg2_epu32(x, w1);
                w[g & 3] = cur;
            }
            __m128i msg = _mm_add_epi32(cur, _mm_load_si128((const __m128i *)&sha256_k[4 * g]));
            state1 = _mm_sha256rnds2_epu32(state1, state0, msg);
            msg = _mm_shuffle_epi32(msg, 0x0E);
            state0 = _mm_sha256rnds2_epu32(state0, state1, msg);
        }
        state0 = _mm_add_epi32(state0, abef);
        state1 = _mm_add_epi32(state1, cdgh);
    }

    tmp = _mm_shuffle_epi32(state0, 0x1B);       /* FEBA */
    state1 = _mm_shuffle_epi32(state1, 0xB1);    /* DCHG */
    state0 = _mm_blend_epi16(tmp, state1, 0xF0); /* DCBA */
    state1 = _mm_alignr_epi8(state1, tmp, 8);    /* ABEF -> HGFE */
    _mm_storeu_si128((__m128i *)&state[0], state0);
    _mm_storeu_si128((__m128i *)&state[4], state1);
}

bool sha256_ni_available(void)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid_max(0, NULL) < 7)
        return false;
    __cpuid(1, a, b, c, d);
    bool sse41 = (c & bit_SSE4_1) != 0, ssse3 = (c & bit_SSSE3) != 0;
    __cpuid_count(7, 0, a, b, c, d);
    bool sha = (b & (1u << 29)) != 0; /* CPUID.(EAX=7,ECX=0):EBX.SHA[bit 29] */
    return sse41 && ssse3 && sha;
}

#else

bool sha256_ni_available(void)
{
    return false;
}

void sha256_compress_ni(uint32_t state[8], const uint8_t *data, size_t n)
{
    (void)state;
    (void)data;
    (void)n;
    HANSA_ASSERT(!"no SHA extensions in this build");
}

#endif
