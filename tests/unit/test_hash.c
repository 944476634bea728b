/*
 * SHA-256, tx ids, block hashes and the RFC 6962 Merkle tree hash.
 *
 * The roots in tests/vectors/merkle.txt come from the recursive definition of
 * RFC 6962 §2.1 in gen_vectors.py; the library uses an incremental builder.
 * This file also carries its own recursive C version of the definition, to
 * compare against the builder for every size up to a few hundred leaves.
 * Merkle roots are consensus data (a block header's tx_root): a change here
 * forks the chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "hansa/wire.h"
#include "sha256_impl.h"
#include "vectors.h"

static void init(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
}

TestSuite(hash, .init = init);
TestSuite(merkle, .init = init);

static void leaf_of_index(uint64_t i, uint8_t out[WIRE_HASH_BYTES])
{
    uint8_t be[8];
    for (int k = 0; k < 8; k++)
        be[k] = (uint8_t)(i >> (56 - 8 * k));
    wire_sha256(be, sizeof be, out);
}

static uint8_t *leaves_alloc(size_t n)
{
    uint8_t *leaves = malloc(n ? n * WIRE_HASH_BYTES : 1);
    cr_assert(leaves != NULL);
    for (size_t i = 0; i < n; i++)
        leaf_of_index(i, leaves + i * WIRE_HASH_BYTES);
    return leaves;
}

/* RFC 6962 §2.1 written as the recursion it is, independent of the builder. */
static void reference_mth(const uint8_t *leaves, size_t n, uint8_t out[WIRE_HASH_BYTES])
{
    if (n == 0) {
        wire_sha256("", 0, out);
        return;
    }
    if (n == 1) {
        uint8_t buf[1 + WIRE_HASH_BYTES] = {0x00};
        memcpy(buf + 1, leaves, WIRE_HASH_BYTES);
        wire_sha256(buf, sizeof buf, out);
        return;
    }
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    uint8_t buf[1 + 2 * WIRE_HASH_BYTES] = {0x01};
    reference_mth(leaves, k, buf + 1);
    reference_mth(leaves + k * WIRE_HASH_BYTES, n - k, buf + 1 + WIRE_HASH_BYTES);
    wire_sha256(buf, sizeof buf, out);
}

/* hash gives the FIPS 180 vectors' digests (tests/vectors/sha256.txt). */
static void expect_fips180(void (*hash)(const void *, size_t, uint8_t *), const char *name)
{
    struct vec_file f;
    vec_open(&f, "sha256.txt", 3);
    for (size_t i = 0; i < f.n_records; i++) {
        size_t len = 0;
        uint8_t *in = vec_hex_alloc(&f, &f.records[i], "input_hex", &len);
        uint8_t want[WIRE_HASH_BYTES], got[WIRE_HASH_BYTES];
        vec_hex_exact(&f, &f.records[i], "sha256", want, sizeof want);
        hash(in, len, got);
        cr_assert_arr_eq(got, want, sizeof want, "%s, sha256.txt record %zu", name, i);
        free(in);
    }
    vec_close(&f);
}

Test(hash, sha256_matches_fips180_vectors)
{
    expect_fips180(wire_sha256, "wire_sha256");
}

Test(hash, portable_sha256_matches_fips180_vectors_too)
{
    expect_fips180(wire_sha256_portable, "wire_sha256_portable");
}

/* xorshift32: a fixed, reproducible stream of numbers. */
static uint32_t next_u32(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static uint8_t *stream_bytes(size_t n, uint32_t *x)
{
    uint8_t *buf = malloc(n);
    cr_assert_not_null(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)next_u32(x);
    return buf;
}

static void hash_with(void (*compress)(uint32_t *, const uint8_t *, size_t), const uint8_t *p,
                      size_t len, uint8_t out[WIRE_HASH_BYTES])
{
    /* The streaming hasher with one compression function forced: the
     * padding is the context's, the blocks go to compress. */
    uint32_t st[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    compress(st, p, len / 64);
    uint8_t last[128] = {0};
    size_t rest = len % 64, blocks = rest + 9 <= 64 ? 1 : 2;
    memcpy(last, p + len / 64 * 64, rest);
    last[rest] = 0x80;
    for (int i = 0; i < 8; i++)
        last[blocks * 64 - 1 - (size_t)i] = (uint8_t)(((uint64_t)len * 8) >> (8 * i));
    compress(st, last, blocks);
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 4; k++)
            out[4 * i + k] = (uint8_t)(st[i] >> (24 - 8 * k));
}

/* The hash is a consensus value: every path (the CPU's SHA extensions, the
 * portable C code, one-shot and streaming) must give the bytes of an
 * independent implementation, mbedTLS's, on every input. Every length to
 * 1,100 covers each padding case (one or two final blocks) many times over,
 * at many alignments; then random sizes to 64 KiB. */
Test(hash, every_sha256_path_equals_the_reference_on_every_length)
{
    cr_log_info("SHA extensions %s on this CPU",
                wire_sha256_accelerated() ? "in use" : "not available (portable only)");
    enum { MAX = 65536 + 64 };
    uint32_t x = 2463534242u;
    uint8_t *buf = stream_bytes(MAX, &x);
    uint8_t want[WIRE_HASH_BYTES], got[WIRE_HASH_BYTES];
    for (size_t k = 0; k < 1100 + 200; k++) {
        uint32_t r = next_u32(&x);
        size_t len = k <= 1100 ? k : r % 65536, off = k <= 1100 ? k % 61 : (r >> 16) % 64;
        const uint8_t *p = buf + off;
        wire_sha256_portable(p, len, want);
        wire_sha256(p, len, got);
        cr_assert_arr_eq(got, want, sizeof got, "wire_sha256, length %zu at offset %zu", len, off);
        hash_with(sha256_compress_c, p, len, got);
        cr_assert_arr_eq(got, want, sizeof got, "portable C, length %zu", len);
        if (sha256_ni_available()) {
            hash_with(sha256_compress_ni, p, len, got);
            cr_assert_arr_eq(got, want, sizeof got, "SHA extensions, length %zu", len);
        }
    }
    free(buf);
}

Test(hash, streaming_sha256_equals_one_shot_however_the_input_is_split)
{
    enum { LEN = 5000 };
    uint32_t x = 88172645u;
    uint8_t *buf = stream_bytes(LEN, &x);
    uint8_t want[WIRE_HASH_BYTES], got[WIRE_HASH_BYTES];
    for (int trial = 0; trial < 300; trial++) {
        size_t len = (size_t)trial * 16 % LEN;
        wire_sha256_portable(buf, len, want);
        struct wire_sha256_ctx c;
        wire_sha256_init(&c);
        size_t at = 0;
        while (at < len) {
            /* tiny and block-crossing pieces */
            size_t piece = next_u32(&x) % (trial % 3 == 0 ? 7 : 150);
            if (piece > len - at)
                piece = len - at;
            wire_sha256_update(&c, buf + at, piece);
            at += piece;
        }
        wire_sha256_final(&c, got);
        cr_assert_arr_eq(got, want, sizeof got, "trial %d, length %zu", trial, len);
    }
    free(buf);
}

Test(hash, tx_id_and_block_hash_are_sha256_of_the_exact_bytes)
{
    struct vec_file f;
    vec_open(&f, "sha256.txt", 1);
    size_t len = 0;
    uint8_t *in = vec_hex_alloc(&f, &f.records[0], "input_hex", &len);
    uint8_t want[WIRE_HASH_BYTES], id[WIRE_HASH_BYTES], bh[WIRE_HASH_BYTES];
    vec_hex_exact(&f, &f.records[0], "sha256", want, sizeof want);
    wire_tx_id(in, len, id);
    wire_block_hash(in, len, bh);
    cr_assert_arr_eq(id, want, sizeof want);
    cr_assert_arr_eq(bh, want, sizeof want);
    free(in);
    vec_close(&f);
}

Test(merkle, roots_of_0_1_2_3_and_1000_leaves_match_rfc6962_vectors)
{
    struct vec_file f;
    vec_open(&f, "merkle.txt", 5);
    bool seen[1001] = {false};
    for (size_t i = 0; i < f.n_records; i++) {
        size_t n = (size_t)vec_uint(&f, &f.records[i], "leaves");
        cr_assert(n <= 1000);
        uint8_t want[WIRE_HASH_BYTES], got[WIRE_HASH_BYTES];
        vec_hex_exact(&f, &f.records[i], "root", want, sizeof want);
        uint8_t *leaves = leaves_alloc(n);
        wire_merkle_root(leaves, n, got);
        cr_assert_arr_eq(got, want, sizeof want, "root of %zu leaves", n);
        free(leaves);
        seen[n] = true;
    }
    cr_assert(seen[0] && seen[1] && seen[2] && seen[3] && seen[1000],
              "merkle.txt must cover 0, 1, 2, 3 and 1000 leaves");
    vec_close(&f);
}

Test(merkle, empty_tree_is_sha256_of_nothing)
{
    static const uint8_t sha256_empty[WIRE_HASH_BYTES] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
        0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
        0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    uint8_t root[WIRE_HASH_BYTES];
    struct wire_merkle m;
    wire_merkle_init(&m);
    wire_merkle_final(&m, root);
    cr_assert_arr_eq(root, sha256_empty, sizeof root);
}

Test(merkle, single_leaf_is_hashed_with_the_leaf_prefix_not_returned_as_is)
{
    uint8_t leaf[WIRE_HASH_BYTES], root[WIRE_HASH_BYTES], want[WIRE_HASH_BYTES];
    leaf_of_index(0, leaf);
    wire_merkle_root(leaf, 1, root);
    uint8_t buf[1 + WIRE_HASH_BYTES] = {0x00};
    memcpy(buf + 1, leaf, WIRE_HASH_BYTES);
    wire_sha256(buf, sizeof buf, want);
    cr_assert_arr_eq(root, want, sizeof root);
    cr_assert_arr_neq(root, leaf, sizeof root);
}

Test(merkle, incremental_builder_equals_reference_recursion_for_every_size_to_300)
{
    enum { N = 300 };
    uint8_t *leaves = leaves_alloc(N);
    struct wire_merkle m;
    wire_merkle_init(&m);
    for (size_t n = 0; n <= N; n++) {
        uint8_t inc[WIRE_HASH_BYTES], one_shot[WIRE_HASH_BYTES], ref[WIRE_HASH_BYTES];
        /* final() is const: the builder keeps going after it. */
        wire_merkle_final(&m, inc);
        wire_merkle_root(leaves, n, one_shot);
        reference_mth(leaves, n, ref);
        cr_assert_arr_eq(inc, ref, WIRE_HASH_BYTES, "incremental root of %zu leaves", n);
        cr_assert_arr_eq(one_shot, ref, WIRE_HASH_BYTES, "one-shot root of %zu leaves", n);
        cr_assert_eq(m.count, (uint64_t)n);
        if (n < N)
            wire_merkle_add(&m, leaves + n * WIRE_HASH_BYTES);
    }
    free(leaves);
}

Test(merkle, three_leaves_differ_from_four_with_the_last_duplicated)
{
    /* Bitcoin's tree pads an odd level by duplicating its last node, so
     * [a,b,c] and [a,b,c,c] share a root (CVE-2012-2459). RFC 6962 does not. */
    uint8_t leaves[4 * WIRE_HASH_BYTES];
    for (uint64_t i = 0; i < 3; i++)
        leaf_of_index(i, leaves + i * WIRE_HASH_BYTES);
    memcpy(leaves + 3 * WIRE_HASH_BYTES, leaves + 2 * WIRE_HASH_BYTES, WIRE_HASH_BYTES);
    uint8_t r3[WIRE_HASH_BYTES], r4[WIRE_HASH_BYTES];
    wire_merkle_root(leaves, 3, r3);
    wire_merkle_root(leaves, 4, r4);
    cr_assert_arr_neq(r3, r4, WIRE_HASH_BYTES);

    /* The same for a longer odd tail: 5 vs 6 with the fifth repeated. */
    uint8_t l6[6 * WIRE_HASH_BYTES];
    for (uint64_t i = 0; i < 5; i++)
        leaf_of_index(i, l6 + i * WIRE_HASH_BYTES);
    memcpy(l6 + 5 * WIRE_HASH_BYTES, l6 + 4 * WIRE_HASH_BYTES, WIRE_HASH_BYTES);
    uint8_t r5[WIRE_HASH_BYTES], r6[WIRE_HASH_BYTES];
    wire_merkle_root(l6, 5, r5);
    wire_merkle_root(l6, 6, r6);
    cr_assert_arr_neq(r5, r6, WIRE_HASH_BYTES);
}

Test(merkle, root_depends_on_leaf_order)
{
    uint8_t leaves[2 * WIRE_HASH_BYTES], swapped[2 * WIRE_HASH_BYTES];
    leaf_of_index(0, leaves);
    leaf_of_index(1, leaves + WIRE_HASH_BYTES);
    memcpy(swapped, leaves + WIRE_HASH_BYTES, WIRE_HASH_BYTES);
    memcpy(swapped + WIRE_HASH_BYTES, leaves, WIRE_HASH_BYTES);
    uint8_t a[WIRE_HASH_BYTES], b[WIRE_HASH_BYTES];
    wire_merkle_root(leaves, 2, a);
    wire_merkle_root(swapped, 2, b);
    cr_assert_arr_neq(a, b, WIRE_HASH_BYTES);
}

Test(merkle, interior_nodes_carry_the_0x01_prefix)
{
    /* Domain separation (0x00 leaf, 0x01 node) is what keeps an interior node
     * from posing as a leaf: the root of [a, b] is SHA-256(0x01 || A || B),
     * never the bare SHA-256(A || B). */
    uint8_t leaves[2 * WIRE_HASH_BYTES];
    leaf_of_index(0, leaves);
    leaf_of_index(1, leaves + WIRE_HASH_BYTES);
    uint8_t root2[WIRE_HASH_BYTES], la[WIRE_HASH_BYTES], lb[WIRE_HASH_BYTES];
    wire_merkle_root(leaves, 2, root2);
    wire_merkle_root(leaves, 1, la);
    wire_merkle_root(leaves + WIRE_HASH_BYTES, 1, lb);
    /* Without prefixes the node would be SHA-256(la || lb). */
    uint8_t cat[2 * WIRE_HASH_BYTES], unprefixed[WIRE_HASH_BYTES];
    memcpy(cat, la, WIRE_HASH_BYTES);
    memcpy(cat + WIRE_HASH_BYTES, lb, WIRE_HASH_BYTES);
    wire_sha256(cat, sizeof cat, unprefixed);
    cr_assert_arr_neq(root2, unprefixed, WIRE_HASH_BYTES);
    uint8_t prefixed_in[1 + 2 * WIRE_HASH_BYTES] = {0x01}, prefixed[WIRE_HASH_BYTES];
    memcpy(prefixed_in + 1, cat, sizeof cat);
    wire_sha256(prefixed_in, sizeof prefixed_in, prefixed);
    cr_assert_arr_eq(root2, prefixed, WIRE_HASH_BYTES);
}

/* ---- block headers: tests/vectors/block.txt
 * ------------------------------------------------------ */

/* block.txt (gen_vectors.py: its own proto3 encoder and schema table) fixes
 * the encoded BlockHeader for given fields and its block hash, and the
 * encoded Block carrying the second header. A BlockHeader field renumbered in
 * hansa.proto, or a change to how the block hash is taken, fails here. */

TestSuite(block, .init = init);

/* Encode msg (caller frees) and compare it with the record's hex key. */
static uint8_t *encode_and_compare(const struct vec_file *f, const struct vec_record *r,
                                   const ProtobufCMessage *msg, const char *key, size_t *len)
{
    uint8_t *got = NULL;
    cr_assert_eq(wire_encode(msg, HANSA_BLOCK_BYTES_MAX, &got, len), HANSA_OK);
    size_t want_len = 0;
    uint8_t *want = vec_hex_alloc(f, r, key, &want_len);
    cr_assert_eq(*len, want_len, "block.txt:%u: %s length", r->line, key);
    cr_assert_arr_eq(got, want, want_len, "block.txt:%u: %s bytes", r->line, key);
    free(want);
    return got;
}

Test(block, header_fields_encode_to_the_vector_bytes_and_block_hash)
{
    struct vec_file f;
    vec_open(&f, "block.txt", 2);
    for (size_t i = 0; i < f.n_records; i++) {
        const struct vec_record *r = &f.records[i];
        struct vec_arena arena = {0};
        const Hansa__BlockHeader *h = (const Hansa__BlockHeader *)vec_build(
            &arena, &f, r, &hansa__block_header__descriptor, "header.", NULL);
        size_t len = 0;
        uint8_t *enc = encode_and_compare(&f, r, &h->base, "encoded", &len);
        uint8_t want[WIRE_HASH_BYTES], got[WIRE_HASH_BYTES];
        vec_hex_exact(&f, r, "block_hash", want, sizeof want);
        wire_block_hash(enc, len, got);
        cr_assert_arr_eq(got, want, sizeof want, "block.txt:%u: block hash", r->line);

        /* The canonical decoder takes the bytes and gives the fields back. */
        Hansa__BlockHeader *back = NULL;
        cr_assert_eq(wire_block_header_decode(enc, len, &back), HANSA_OK);
        cr_assert_eq(back->height, h->height);
        cr_assert_eq(back->time_ms, h->time_ms);
        cr_assert_str_eq(back->proposer, h->proposer);
        wire_free(back);

        if (vec_find(r, "block.header") != NULL) {
            const Hansa__Block *b = (const Hansa__Block *)vec_build(
                &arena, &f, r, &hansa__block__descriptor, "block.", NULL);
            cr_assert_eq(b->header.len, len);
            cr_assert_arr_eq(b->header.data, enc, len, "the block carries this header");
            size_t block_len = 0;
            uint8_t *block = encode_and_compare(&f, r, &b->base, "block_encoded", &block_len);
            Hansa__Block *bb = NULL;
            cr_assert_eq(wire_block_decode(block, block_len, &bb), HANSA_OK);
            cr_assert_eq(bb->n_txs, b->n_txs);
            wire_free(bb);
            free(block);
        }
        free(enc);
        vec_arena_free(&arena);
    }
    vec_close(&f);
}

Test(block, vector_headers_link_by_hash_and_carry_the_merkle_root_of_their_txs)
{
    struct vec_file f;
    vec_open(&f, "block.txt", 2);
    const struct vec_record *first = &f.records[0], *second = &f.records[1];
    uint8_t h1[WIRE_HASH_BYTES], prev[WIRE_HASH_BYTES], root[WIRE_HASH_BYTES];
    vec_hex_exact(&f, first, "block_hash", h1, sizeof h1);
    vec_hex_exact(&f, second, "header.prev_block_hash", prev, sizeof prev);
    cr_assert_arr_eq(prev, h1, sizeof h1);

    /* Height 1 has no transactions: the empty tree. */
    uint8_t want[WIRE_HASH_BYTES];
    vec_hex_exact(&f, first, "header.tx_root", want, sizeof want);
    wire_merkle_root(NULL, 0, root);
    cr_assert_arr_eq(root, want, sizeof want);

    /* Height 2: the root over the ids of the transactions its block carries. */
    uint8_t ids[2 * WIRE_HASH_BYTES];
    for (size_t i = 0; i < 2; i++) {
        char key[32];
        snprintf(key, sizeof key, "block.txs.%zu", i);
        size_t len = 0;
        uint8_t *tx = vec_hex_alloc(&f, second, key, &len);
        wire_tx_id(tx, len, ids + i * WIRE_HASH_BYTES);
        free(tx);
    }
    vec_hex_exact(&f, second, "header.tx_root", want, sizeof want);
    wire_merkle_root(ids, 2, root);
    cr_assert_arr_eq(root, want, sizeof want);
    vec_close(&f);
}
