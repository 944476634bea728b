/*
 * Identity commitments (DOMAIN.md, "Personal data").
 *
 * The same person must give the same commitment whoever typed the value, on
 * every node and client, for ever: normalization and the HMAC input are part
 * of the protocol. tests/vectors/identity.txt (from gen_vectors.py, which
 * derives normalization from Unicode properties rather than identity.c's
 * tables) pins them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "hansa/wire.h"
#include "vectors.h"

static void init(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
}

TestSuite(identity, .init = init);

static const uint8_t key_a[WIRE_IDENTITY_KEY_BYTES] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};

static enum wire_identity_kind kind_from_name(const char *name)
{
    for (int k = WIRE_IDENTITY_NAME; k <= WIRE_IDENTITY_DOCUMENT; k++) {
        const char *n = wire_identity_kind_name((enum wire_identity_kind)k);
        if (n != NULL && strcmp(n, name) == 0)
            return (enum wire_identity_kind)k;
    }
    cr_assert_fail("unknown identity kind '%s' in identity.txt", name);
    return WIRE_IDENTITY_NAME;
}

static char *hex_text(const struct vec_file *f, const struct vec_record *r, const char *key)
{
    size_t len = 0;
    uint8_t *b = vec_hex_alloc(f, r, key, &len);
    char *s = realloc(b, len + 1);
    cr_assert(s != NULL);
    s[len] = '\0';
    return s;
}

static hansa_err norm(enum wire_identity_kind kind, const char *value, char *out, size_t out_len)
{
    return wire_identity_normalize(kind, value, out, out_len);
}

static void expect_einval(enum wire_identity_kind kind, const char *value, const char *why)
{
    char out[HANSA_IDENTITY_VALUE_BYTES_MAX + 1];
    uint8_t c[WIRE_HASH_BYTES];
    cr_assert_eq(norm(kind, value, out, sizeof out), HANSA_EINVAL, "%s: normalize accepted it",
                 why);
    cr_assert_eq(wire_identity_commit(key_a, kind, value, c), HANSA_EINVAL,
                 "%s: commit accepted it", why);
}

/* ---- known answers --------------------------------------------------------------------------- */

Test(identity, vectors_normalize_and_commit_exactly)
{
    struct vec_file f;
    vec_open(&f, "identity.txt", 10);
    for (size_t i = 0; i < f.n_records; i++) {
        const struct vec_record *r = &f.records[i];
        uint8_t key[WIRE_IDENTITY_KEY_BYTES], want[WIRE_HASH_BYTES], got[WIRE_HASH_BYTES];
        vec_hex_exact(&f, r, "key", key, sizeof key);
        vec_hex_exact(&f, r, "commitment", want, sizeof want);
        enum wire_identity_kind kind = kind_from_name(vec_str(&f, r, "kind"));
        char *input = hex_text(&f, r, "input_hex");
        char *normalized = hex_text(&f, r, "normalized_hex");

        char out[HANSA_IDENTITY_VALUE_BYTES_MAX + 1];
        cr_assert_eq(norm(kind, input, out, sizeof out), HANSA_OK, "line %u", r->line);
        cr_assert_str_eq(out, normalized, "normalization of the record at line %u", r->line);
        cr_assert_eq(wire_identity_commit(key, kind, input, got), HANSA_OK);
        cr_assert_arr_eq(got, want, sizeof want, "commitment of the record at line %u", r->line);
        free(input);
        free(normalized);
    }
    vec_close(&f);
}

Test(identity, commitment_is_hmac_sha256_of_tag_kind_and_normalized_value)
{
    /* Pin the HMAC input layout with libsodium directly. */
    uint8_t got[WIRE_HASH_BYTES], want[WIRE_HASH_BYTES];
    cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_EMAIL, " Li.Na@Example.COM ", got),
                 HANSA_OK);
    static const char msg[] = "hansa/identity/v1\0email\0li.na@example.com";
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key_a, sizeof key_a);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)msg, sizeof msg - 1);
    crypto_auth_hmacsha256_final(&st, want);
    cr_assert_arr_eq(got, want, sizeof want);
}

Test(identity, kind_names_are_fixed_protocol_strings)
{
    /* They are hashed into every commitment. */
    cr_assert_str_eq(wire_identity_kind_name(WIRE_IDENTITY_NAME), "name");
    cr_assert_str_eq(wire_identity_kind_name(WIRE_IDENTITY_PHONE), "phone");
    cr_assert_str_eq(wire_identity_kind_name(WIRE_IDENTITY_ADDRESS), "address");
    cr_assert_str_eq(wire_identity_kind_name(WIRE_IDENTITY_EMAIL), "email");
    cr_assert_str_eq(wire_identity_kind_name(WIRE_IDENTITY_DOCUMENT), "document");
    cr_assert_null(wire_identity_kind_name((enum wire_identity_kind)99));
}

Test(identity, phone_forms_of_one_number_give_one_commitment)
{
    const char *forms[] = {"+86 138-0013-8000", "00 86 (138) 0013 8000", "+8613800138000",
                           "0086-138-0013-8000",
                           "\xef\xbc\x8b\xef\xbc\x98\xef\xbc\x96 138.0013.8000"};
    uint8_t first[WIRE_HASH_BYTES], c[WIRE_HASH_BYTES];
    cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_PHONE, forms[0], first), HANSA_OK);
    for (size_t i = 1; i < sizeof forms / sizeof forms[0]; i++) {
        cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_PHONE, forms[i], c), HANSA_OK,
                     "'%s'", forms[i]);
        cr_assert_arr_eq(c, first, sizeof c, "'%s'", forms[i]);
    }
    cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_PHONE, "+86 138-0013-8001", c),
                 HANSA_OK);
    cr_assert_arr_neq(c, first, sizeof c, "another number");
}

Test(identity, greek_final_sigma_folds_to_sigma_and_sharp_s_stays)
{
    char out[64];
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, "\xce\x9f\xce\x94\xce\xa5\xce\xa3", out, sizeof out),
                 HANSA_OK); /* ΟΔΥΣ */
    char out2[64];
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, "\xce\xbf\xce\xb4\xcf\x85\xcf\x82", out2, sizeof out2),
                 HANSA_OK); /* οδυς, final sigma */
    cr_assert_str_eq(out, out2);
    cr_assert_str_eq(out, "\xce\xbf\xce\xb4\xcf\x85\xcf\x83"); /* οδυσ */
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, "STRASSE", out, sizeof out), HANSA_OK);
    cr_assert_eq(norm(WIRE_IDENTITY_NAME,
                      "Stra\xc3\x9f"
                      "e",
                      out2, sizeof out2),
                 HANSA_OK);
    cr_assert_str_neq(out, out2, "simple folding keeps sharp s: not 'strasse'");
}

Test(identity, whitespace_of_every_kind_collapses_to_one_ascii_space)
{
    /* TAB, NBSP, EN QUAD, THIN SPACE, NARROW NBSP, IDEOGRAPHIC SPACE. */
    char out[64];
    cr_assert_eq(norm(WIRE_IDENTITY_ADDRESS,
                      "\t1\xc2\xa0\xe2\x80\x80"
                      "2\xe2\x80\x89\xe2\x80\xaf"
                      "3\xe3\x80\x80\xe3\x80\x80",
                      out, sizeof out),
                 HANSA_OK);
    cr_assert_str_eq(out, "1 2 3");
}

Test(identity, document_numbers_drop_spaces_and_hyphens_only)
{
    char out[64];
    cr_assert_eq(norm(WIRE_IDENTITY_DOCUMENT, " G-123 456-78.9 ", out, sizeof out), HANSA_OK);
    cr_assert_str_eq(out, "g12345678.9");
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, " G-123 456 ", out, sizeof out), HANSA_OK);
    cr_assert_str_eq(out, "g-123 456", "names keep hyphens and spaces");
}

/* ---- refusals -------------------------------------------------------------------------------- */

Test(identity, invalid_utf8_is_einval)
{
    expect_einval(WIRE_IDENTITY_NAME, "a\xc0\xaf", "overlong '/' (C0 AF)");
    expect_einval(WIRE_IDENTITY_NAME, "\xe0\x80\xaf", "overlong 3-byte '/'");
    expect_einval(WIRE_IDENTITY_NAME, "\xf0\x80\x80\xaf", "overlong 4-byte '/'");
    expect_einval(WIRE_IDENTITY_NAME, "ab\x80", "lone continuation byte");
    expect_einval(WIRE_IDENTITY_NAME, "\x80", "continuation byte first");
    expect_einval(WIRE_IDENTITY_NAME, "abc\xe4\xb8", "truncated 3-byte sequence at the end");
    expect_einval(WIRE_IDENTITY_NAME, "\xe4\xb8z", "truncated 3-byte sequence in the middle");
    expect_einval(WIRE_IDENTITY_NAME, "\xed\xa0\x80", "surrogate U+D800 (ED A0 80)");
    expect_einval(WIRE_IDENTITY_NAME, "\xed\xbf\xbf", "surrogate U+DFFF");
    expect_einval(WIRE_IDENTITY_NAME, "\xf4\x90\x80\x80", "above U+10FFFF");
    expect_einval(WIRE_IDENTITY_NAME, "\xff", "byte FF");
    expect_einval(WIRE_IDENTITY_NAME, "\xf8\x88\x80\x80\x80", "5-byte form");
    /* The same code points, well formed, are fine. */
    char out[16];
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, "a/\xe4\xb8\x80\xf0\x9f\x98\x80", out, sizeof out),
                 HANSA_OK);
}

Test(identity, control_characters_are_einval)
{
    expect_einval(WIRE_IDENTITY_NAME, "a\x01z", "U+0001");
    expect_einval(WIRE_IDENTITY_NAME, "a\x1b[31mz", "ESC");
    expect_einval(WIRE_IDENTITY_NAME, "a\x7fz", "DEL");
    expect_einval(WIRE_IDENTITY_NAME, "a\xc2\x81z", "C1 control U+0081");
    expect_einval(WIRE_IDENTITY_NAME, "a\xc2\x9fz", "C1 control U+009F");
    expect_einval(WIRE_IDENTITY_NAME, "a\x1f z", "unit separator U+001F");
}

Test(identity, empty_or_all_space_is_einval)
{
    expect_einval(WIRE_IDENTITY_NAME, "", "empty");
    expect_einval(WIRE_IDENTITY_NAME, "   ", "ASCII spaces");
    expect_einval(WIRE_IDENTITY_ADDRESS, "\xe3\x80\x80\xe3\x80\x80", "ideographic spaces");
    expect_einval(WIRE_IDENTITY_EMAIL, "\t\r\n \xc2\xa0", "mixed whitespace");
    expect_einval(WIRE_IDENTITY_DOCUMENT, " - -- ", "a document of hyphens only");
}

Test(identity, phone_without_plus_or_00_is_einval)
{
    expect_einval(WIRE_IDENTITY_PHONE, "138-0013-8000", "national form");
    expect_einval(WIRE_IDENTITY_PHONE, "86 138 0013 8000", "no prefix");
    expect_einval(WIRE_IDENTITY_PHONE, "0 86 138 0013 8000", "a single 0");
    expect_einval(WIRE_IDENTITY_PHONE, "(+86) 138 0013 8000", "'+' not first");
}

Test(identity, phone_with_letters_or_other_symbols_is_einval)
{
    expect_einval(WIRE_IDENTITY_PHONE, "+86 138 CALL 8000", "letters");
    expect_einval(WIRE_IDENTITY_PHONE, "+86 138x0013x8000", "x separators");
    expect_einval(WIRE_IDENTITY_PHONE, "+86 138 0013 8000 ext 12", "extension");
    expect_einval(WIRE_IDENTITY_PHONE, "+86/138/0013/8000", "slashes");
    expect_einval(WIRE_IDENTITY_PHONE, "++86 138 0013 8000", "double plus");
    expect_einval(WIRE_IDENTITY_PHONE, "+86 \xd9\xa1\xd9\xa2\xd9\xa3 0013 8000",
                  "Arabic-Indic digits");
}

Test(identity, phone_length_is_8_to_15_digits)
{
    char out[64];
    expect_einval(WIRE_IDENTITY_PHONE, "+1234567", "7 digits");
    cr_assert_eq(norm(WIRE_IDENTITY_PHONE, "+12345678", out, sizeof out), HANSA_OK, "8 digits");
    cr_assert_str_eq(out, "12345678");
    cr_assert_eq(norm(WIRE_IDENTITY_PHONE, "+123456789012345", out, sizeof out), HANSA_OK,
                 "15 digits");
    cr_assert_str_eq(out, "123456789012345");
    expect_einval(WIRE_IDENTITY_PHONE, "+1234567890123456", "16 digits");
    expect_einval(WIRE_IDENTITY_PHONE, "+", "no digits");
    expect_einval(WIRE_IDENTITY_PHONE, "00", "no digits after 00");
    expect_einval(WIRE_IDENTITY_PHONE, "+0 86 138 0013 8000", "country code starting with 0");
    expect_einval(WIRE_IDENTITY_PHONE, "000 86 138 0013 8000", "00 then 0");
}

Test(identity, input_over_the_value_limit_is_etoolarge)
{
    char *big = malloc(HANSA_IDENTITY_VALUE_BYTES_MAX + 2);
    cr_assert(big != NULL);
    memset(big, 'a', HANSA_IDENTITY_VALUE_BYTES_MAX + 1);
    big[HANSA_IDENTITY_VALUE_BYTES_MAX + 1] = '\0';
    uint8_t c[WIRE_HASH_BYTES];
    char *out = malloc(2 * HANSA_IDENTITY_VALUE_BYTES_MAX);
    cr_assert(out != NULL);
    cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_ADDRESS, big, c), HANSA_ETOOLARGE);
    cr_assert_eq(norm(WIRE_IDENTITY_ADDRESS, big, out, 2 * HANSA_IDENTITY_VALUE_BYTES_MAX),
                 HANSA_ETOOLARGE);
    /* Exactly at the limit is fine, for commit and normalize. */
    big[HANSA_IDENTITY_VALUE_BYTES_MAX] = '\0';
    cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_ADDRESS, big, c), HANSA_OK);
    cr_assert_eq(norm(WIRE_IDENTITY_ADDRESS, big, out, 2 * HANSA_IDENTITY_VALUE_BYTES_MAX),
                 HANSA_OK);
    cr_assert_eq(strlen(out), HANSA_IDENTITY_VALUE_BYTES_MAX);
    free(out);
    free(big);
}

Test(identity, limit_counts_bytes_of_the_input_not_of_the_result)
{
    /* 342 ideographic spaces (1,026 bytes) around one letter normalize to
     * "x", but the input is over the limit. */
    size_t n = 342;
    char *big = malloc(3 * n + 2);
    cr_assert(big != NULL);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(big + o, "\xe3\x80\x80", 3);
        o += 3;
        if (i == n / 2)
            big[o++] = 'x';
    }
    big[o] = '\0';
    cr_assert_gt(strlen(big), HANSA_IDENTITY_VALUE_BYTES_MAX);
    uint8_t c[WIRE_HASH_BYTES];
    cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_NAME, big, c), HANSA_ETOOLARGE);
    free(big);
}

Test(identity, output_buffer_too_small_is_etoolarge)
{
    char out[4];
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, "abcdef", out, sizeof out), HANSA_ETOOLARGE);
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, "abc", out, sizeof out), HANSA_OK);
    cr_assert_str_eq(out, "abc");
}

Test(identity, unknown_kind_or_null_value_is_einval)
{
    char out[16];
    uint8_t c[WIRE_HASH_BYTES];
    cr_assert_eq(norm((enum wire_identity_kind)99, "abc", out, sizeof out), HANSA_EINVAL);
    cr_assert_eq(wire_identity_commit(key_a, (enum wire_identity_kind)99, "abc", c), HANSA_EINVAL);
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, NULL, out, sizeof out), HANSA_EINVAL);
}

/* ---- separation ------------------------------------------------------------------------------ */

Test(identity, different_kinds_give_different_commitments_for_the_same_text)
{
    /* "x1234567" normalizes to itself for every kind but phone. */
    const enum wire_identity_kind kinds[] = {WIRE_IDENTITY_NAME, WIRE_IDENTITY_ADDRESS,
                                             WIRE_IDENTITY_EMAIL, WIRE_IDENTITY_DOCUMENT};
    uint8_t c[4][WIRE_HASH_BYTES];
    for (size_t i = 0; i < 4; i++) {
        char out[32];
        cr_assert_eq(norm(kinds[i], "x1234567", out, sizeof out), HANSA_OK);
        cr_assert_str_eq(out, "x1234567");
        cr_assert_eq(wire_identity_commit(key_a, kinds[i], "x1234567", c[i]), HANSA_OK);
        for (size_t j = 0; j < i; j++)
            cr_assert_arr_neq(c[i], c[j], WIRE_HASH_BYTES, "kinds %d and %d collide", kinds[i],
                              kinds[j]);
    }
    /* And a phone against a name with the same normalized digits. */
    uint8_t phone[WIRE_HASH_BYTES], name[WIRE_HASH_BYTES];
    cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_PHONE, "+8613800138000", phone),
                 HANSA_OK);
    cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_NAME, "8613800138000", name), HANSA_OK);
    cr_assert_arr_neq(phone, name, WIRE_HASH_BYTES);
}

Test(identity, different_keys_give_different_commitments)
{
    uint8_t key_b[WIRE_IDENTITY_KEY_BYTES];
    memcpy(key_b, key_a, sizeof key_b);
    key_b[31] ^= 0x80;
    uint8_t a[WIRE_HASH_BYTES], b[WIRE_HASH_BYTES], a2[WIRE_HASH_BYTES];
    cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_NAME, "Zhang San", a), HANSA_OK);
    cr_assert_eq(wire_identity_commit(key_b, WIRE_IDENTITY_NAME, "Zhang San", b), HANSA_OK);
    cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_NAME, "Zhang San", a2), HANSA_OK);
    cr_assert_arr_neq(a, b, WIRE_HASH_BYTES);
    cr_assert_arr_eq(a, a2, WIRE_HASH_BYTES, "deterministic under one key");
}

/* ---- no partial output after errors; folding of extended Greek and Cyrillic ---- */

/* After any error, out holds the empty string, never a partial result. */
Test(identity, out_is_an_empty_string_after_every_error)
{
    const char *bad[] = {"abcdefghijklmnop", "ab\xff", "ab\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[8];
        memset(out, 'X', sizeof out);
        cr_assert_neq(norm(WIRE_IDENTITY_NAME, bad[i], out, sizeof out), HANSA_OK);
        cr_assert_eq(out[0], '\0', "input #%zu left '%.8s' in out", i, out);
    }
}

/*
 * Greek capitals with tonos and Cyrillic letters past U+042F fold like their
 * small letters, so the same name gives the same commitment whatever the
 * case (a consensus rule: commitments are compared on the ledger).
 */
Test(identity, greek_capitals_with_tonos_fold_like_their_small_letters)
{
    char upper[32], lower[32];
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, "\xce\x86\xce\xbd\xce\xbd\xce\xb1", upper, sizeof upper),
                 HANSA_OK); /* Άννα */
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, "\xce\xac\xce\xbd\xce\xbd\xce\xb1", lower, sizeof lower),
                 HANSA_OK); /* άννα */
    cr_assert_str_eq(upper, lower);
}

Test(identity, cyrillic_letters_after_u042f_fold_like_their_small_letters)
{
    char upper[32], lower[32];
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, "\xd2\x90\xd2\x9a", upper, sizeof upper),
                 HANSA_OK); /* Ґ Қ (U+0490, U+049A) */
    cr_assert_eq(norm(WIRE_IDENTITY_NAME, "\xd2\x91\xd2\x9b", lower, sizeof lower),
                 HANSA_OK); /* ґ қ */
    cr_assert_str_eq(upper, lower);
}

/* ---- every code point: tests/vectors/casefold.txt
 * ------------------------------------------------ */

/* UTF-8 of code point cp into out (test-side, independent of identity.c). */
static size_t put_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The next code point of valid UTF-8 (the generator writes only that). */
static uint32_t next_utf8(const uint8_t *s, size_t *i)
{
    uint8_t c = s[*i];
    size_t n = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    uint32_t cp = n == 0 ? c : (uint32_t)(c & (0x3F >> n));
    for (size_t k = 1; k <= n; k++)
        cp = (cp << 6) | (s[*i + k] & 0x3Fu);
    *i += n + 1;
    return cp;
}

#define CP_COUNT   0x110000u
#define CP_DROPPED 0xFFFFFFFFu
#define CP_SPACE   0xFFFFFFFEu
#define CP_REFUSED 0xFFFFFFFDu

/* want[cp]: the code point cp normalizes to, or one of the CP_ marks. */
static uint32_t *expected_per_code_point(void)
{
    uint32_t *want = malloc(CP_COUNT * sizeof *want);
    cr_assert(want != NULL);
    for (uint32_t cp = 0; cp < CP_COUNT; cp++)
        want[cp] = (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) ? CP_REFUSED : cp;
    struct vec_file f;
    vec_open(&f, "casefold.txt", 3);
    size_t folds = 0;
    for (size_t r = 0; r < f.n_records; r++) {
        const struct vec_record *rec = &f.records[r];
        const char *kind = vec_str(&f, rec, "kind");
        if (strcmp(kind, "fold") != 0) {
            uint32_t mark = strcmp(kind, "space") == 0 ? CP_SPACE : CP_DROPPED;
            cr_assert(mark == CP_SPACE || strcmp(kind, "invisible") == 0, "kind %s", kind);
            size_t n = 0, i = 0;
            uint8_t *chars = vec_hex_alloc(&f, rec, "chars_hex", &n);
            while (i < n)
                want[next_utf8(chars, &i)] = mark;
            free(chars);
            continue;
        }
        size_t n_from = 0, n_to = 0, i = 0, j = 0;
        uint8_t *from = vec_hex_alloc(&f, rec, "from_hex", &n_from);
        uint8_t *to = vec_hex_alloc(&f, rec, "to_hex", &n_to);
        while (i < n_from && j < n_to) {
            uint32_t a = next_utf8(from, &i);
            want[a] = next_utf8(to, &j);
            folds++;
        }
        cr_assert(i == n_from && j == n_to, "casefold.txt:%u: from and to differ in length",
                  rec->line);
        free(from);
        free(to);
    }
    cr_assert_gt(folds, 1400, "casefold.txt holds every fold (%zu)", folds);
    vec_close(&f);
    return want;
}

Test(identity, every_code_point_normalizes_exactly_as_the_python_reference)
{
    /* Each code point between two letters: dropped, collapsed to a space,
     * refused, folded, or kept, exactly as gen_vectors.py says. This pins
     * the whole case fold and the invisible and space sets, not samples. */
    uint32_t *want = expected_per_code_point();
    size_t checked = 0;
    for (uint32_t cp = 1; cp < CP_COUNT; cp++) { /* NUL ends a C string */
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        char in[8] = "a", expect[8] = "a", out[16];
        size_t k = 1 + put_utf8(cp, in + 1);
        in[k++] = 'b';
        in[k] = '\0';
        hansa_err rv = norm(WIRE_IDENTITY_NAME, in, out, sizeof out);
        if (want[cp] == CP_REFUSED) {
            cr_assert_eq(rv, HANSA_EINVAL, "U+%04X is a control character", cp);
            continue;
        }
        size_t e = 1;
        if (want[cp] == CP_SPACE)
            expect[e++] = ' ';
        else if (want[cp] != CP_DROPPED)
            e += put_utf8(want[cp], expect + e);
        expect[e++] = 'b';
        expect[e] = '\0';
        cr_assert_eq(rv, HANSA_OK, "U+%04X", cp);
        cr_assert_str_eq(out, expect, "U+%04X", cp);
        checked++;
    }
    cr_assert_gt(checked, 1000000);
    free(want);
}

Test(identity, values_whose_fold_grows_still_commit_at_the_input_limit)
{
    /* U+023A (2 bytes) folds to U+2C65 (3 bytes): a value of the maximum
     * size made of it normalizes to half as much again, and must still give a
     * commitment (the buffer is sized for it). */
    size_t n = HANSA_IDENTITY_VALUE_BYTES_MAX / 2;
    char *big = malloc(2 * n + 1);
    cr_assert(big != NULL);
    for (size_t i = 0; i < n; i++)
        memcpy(big + 2 * i, "\xc8\xba", 2);
    big[2 * n] = '\0';
    uint8_t c[WIRE_HASH_BYTES];
    cr_assert_eq(wire_identity_commit(key_a, WIRE_IDENTITY_NAME, big, c), HANSA_OK);
    free(big);
}
