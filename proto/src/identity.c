/*
 * Identity commitments (DOMAIN.md, "Personal data").
 *
 * Buyers, payers and consignees never appear on the ledger in clear: each is
 * HMAC-SHA256 under the consortium identity key over
 *     "hansa/identity/v1" 0x00 kind 0x00 normalized-value
 * The same person must give the same commitment on every order, whoever
 * typed the value, so normalization is part of the protocol and pinned by
 * known-answer vectors. It is deliberately simple and table-free:
 *
 *   1. decode UTF-8 strictly (overlongs, surrogates, > U+10FFFF refused);
 *      control characters other than whitespace are refused;
 *   2. fullwidth forms U+FF01..U+FF5E become ASCII (Chinese input methods
 *      produce "ＡＢＣ１２３" as readily as "ABC123");
 *   3. whitespace (ASCII, NBSP, U+2000..U+200A, U+3000 ideographic space,
 *      ...) is trimmed at both ends and collapsed inside to one ASCII space;
 *   4. simple case folding for ASCII, Latin-1, Latin Extended-A, the Greek
 *      letters (with tonos; not the archaic letters and symbols from U+03D0)
 *      and Cyrillic up to U+052F; scripts without case, such as Han, are
 *      unchanged. Zero-width and bidi formatting characters are dropped.
 *      No Unicode normalization (NFC): precomposed "Ä" and "A" + U+0308
 *      differ, so clients must send precomposed text (as every common
 *      input method does);
 *   5. per kind: phones keep only the digits of their international form
 *      (must start with '+' or "00"; 8-15 digits, E.164); documents drop
 *      spaces and hyphens.
 */
#include <string.h>

#include <sodium.h>

#include "hansa/assert.h"
#include "hansa/wire.h"

const char *wire_identity_kind_name(enum wire_identity_kind kind)
{
    switch (kind) {
    case WIRE_IDENTITY_NAME:
        return "name";
    case WIRE_IDENTITY_PHONE:
        return "phone";
    case WIRE_IDENTITY_ADDRESS:
        return "address";
    case WIRE_IDENTITY_EMAIL:
        return "email";
    case WIRE_IDENTITY_DOCUMENT:
        return "document";
    }
    return NULL;
}

/* Decode one code point at s[*i]; returns -1 for invalid UTF-8. */
static long utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    long cp, min;
    size_t n;
    if (c < 0x80) {
        (*i)++;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        cp = c & 0x1F, n = 1, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        cp = c & 0x0F, n = 2, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        cp = c & 0x07, n = 3, min = 0x10000;
    } else {
        return -1;
    }
    if (*i + n >= len) /* truncated sequence */
        return -1;
    for (size_t k = 1; k <= n; k++) {
        unsigned char cc = s[*i + k];
        if ((cc & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *i += n + 1;
    return cp;
}

static size_t utf8_put(long cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    } else if (cp < 0x10000) {
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

static bool is_space(long cp)
{
    return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

/* Zero-width and bidirectional formatting characters: invisible, so two
 * values that look the same must not differ by them. Dropped. */
static bool is_invisible(long cp)
{
    return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF ||
           cp == 0xAD;
}

static bool is_control(long cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

static long fold(long cp)
{
    if (cp >= 0xFF01 && cp <= 0xFF5E) /* fullwidth ASCII */
        cp -= 0xFEE0;
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) /* Latin-1 capitals */
        return cp + 32;
    if ((cp >= 0x100 && cp <= 0x12F) || (cp >= 0x132 && cp <= 0x137) ||
        (cp >= 0x14A && cp <= 0x177)) /* Latin Extended-A, even = capital */
        return (cp % 2 == 0) ? cp + 1 : cp;
    if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) /* odd = capital */
        return (cp % 2 == 1) ? cp + 1 : cp;
    if (cp == 0x178) /* Y with diaeresis */
        return 0xFF;
    if (cp == 0x17F) /* long s */
        return 's';
    if (cp == 0xB5) /* micro sign folds to Greek mu */
        return 0x3BC;
    if (cp == 0x386) /* Greek capitals with tonos */
        return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A)
        return cp + 37;
    if (cp == 0x38C)
        return 0x3CC;
    if (cp == 0x38E || cp == 0x38F)
        return cp + 63;
    if ((cp >= 0x391 && cp <= 0x3A1) || (cp >= 0x3A3 && cp <= 0x3AB)) /* Greek */
        return cp + 32;
    if (cp == 0x3C2) /* final sigma folds to sigma */
        return 0x3C3;
    if (cp >= 0x410 && cp <= 0x42F) /* Cyrillic */
        return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F)
        return cp + 80;
    if ((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48A && cp <= 0x4BF) ||
        (cp >= 0x4D0 && cp <= 0x52F)) /* Cyrillic extensions, even = capital */
        return (cp % 2 == 0) ? cp + 1 : cp;
    if (cp == 0x4C0) /* palochka */
        return 0x4CF;
    if (cp >= 0x4C1 && cp <= 0x4CE) /* odd = capital */
        return (cp % 2 == 1) ? cp + 1 : cp;
    return cp;
}

/* Steps 1-4 into out; returns HANSA_OK and the length in *n. */
static hansa_err normalize_text(const char *value, char *out, size_t out_len, size_t *n)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t len = strlen(value), i = 0, o = 0;
    bool pending_space = false;
    while (i < len) {
        long cp = utf8_next(s, len, &i);
        if (cp < 0)
            return HANSA_EINVAL;
        if (is_invisible(cp))
            continue;
        if (is_space(cp)) {
            pending_space = o > 0; /* leading space is dropped */
            continue;
        }
        if (is_control(cp))
            return HANSA_EINVAL;
        char enc[4];
        size_t k = utf8_put(fold(cp), enc);
        if (o + pending_space + k + 1 > out_len)
            return HANSA_ETOOLARGE;
        if (pending_space)
            out[o++] = ' ';
        pending_space = false;
        memcpy(out + o, enc, k);
        o += k;
    }
    out[o] = '\0';
    *n = o;
    return o > 0 ? HANSA_OK : HANSA_EINVAL;
}

/* E.164 digits of an international number: "+86 (138) 0013-8000" -> "8613800138000". */
static hansa_err normalize_phone(char *text)
{
    const char *p = text;
    if (*p == '+')
        p++;
    else if (p[0] == '0' && p[1] == '0')
        p += 2;
    else
        return HANSA_EINVAL;
    size_t o = 0;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9')
            text[o++] = *p;
        else if (!strchr(" -().", *p))
            return HANSA_EINVAL;
    }
    text[o] = '\0';
    return (o >= 8 && o <= 15 && text[0] != '0') ? HANSA_OK : HANSA_EINVAL;
}

static void drop_chars(char *text, const char *drop)
{
    size_t o = 0;
    for (const char *p = text; *p; p++)
        if (!strchr(drop, *p))
            text[o++] = *p;
    text[o] = '\0';
}

hansa_err wire_identity_normalize(enum wire_identity_kind kind, const char *value, char *out,
                                  size_t out_len)
{
    HANSA_ASSERT(out != NULL && out_len > 0);
    out[0] = '\0';
    if (value == NULL || wire_identity_kind_name(kind) == NULL)
        return HANSA_EINVAL;
    if (strlen(value) > HANSA_IDENTITY_VALUE_BYTES_MAX)
        return HANSA_ETOOLARGE;
    size_t n = 0;
    hansa_err rv = normalize_text(value, out, out_len, &n);
    if (rv != HANSA_OK) {
        out[0] = '\0';
        return rv;
    }
    if (kind == WIRE_IDENTITY_PHONE)
        rv = normalize_phone(out);
    else if (kind == WIRE_IDENTITY_DOCUMENT)
        drop_chars(out, " -");
    if (rv == HANSA_OK && out[0] == '\0')
        rv = HANSA_EINVAL;
    if (rv != HANSA_OK)
        out[0] = '\0';
    return rv;
}

hansa_err wire_identity_commit(const uint8_t key[WIRE_IDENTITY_KEY_BYTES],
                               enum wire_identity_kind kind, const char *value,
                               uint8_t commitment[WIRE_HASH_BYTES])
{
    /* Folding maps every code point to one of the same UTF-8 length, and the
     * fullwidth mapping shrinks, so the output is never longer than the input. */
    char norm[HANSA_IDENTITY_VALUE_BYTES_MAX + 1];
    hansa_err rv = wire_identity_normalize(kind, value, norm, sizeof norm);
    if (rv != HANSA_OK)
        return rv;
    const char *kind_name = wire_identity_kind_name(kind);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, WIRE_IDENTITY_KEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)WIRE_TAG_IDENTITY,
                                  sizeof WIRE_TAG_IDENTITY); /* includes the 0x00 */
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)kind_name, strlen(kind_name) + 1);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)norm, strlen(norm));
    crypto_auth_hmacsha256_final(&st, commitment);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(norm, sizeof norm);
    return HANSA_OK;
}
