/*
 * Values on the command line and on the screen: amounts in major units,
 * quantities, points in time, cursors, enum names, hex, ids and order
 * lines. Pure functions (no IO, no clock except cli_now_ms).
 *
 * Amounts are typed the way people write them ("150.00" CNY) and stored as
 * the protocol stores them (15000 minor units). The conversion is exact
 * integer arithmetic driven by the currency's ISO 4217 exponent; text with
 * more decimals than the currency has is refused rather than rounded, so
 * the ledger never receives an amount the user did not type.
 *
 * Times are ISO-8601 in UTC on output; on input a zone offset is honoured
 * and a time without one is UTC. Calendar arithmetic is done by hand
 * (days_from_civil) because timegm is not POSIX.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"

#define AMOUNT_MAX_MINOR   1000000000000000LL /* hansa.proto schema rule 4 */
#define QUANTITY_MILLI_MAX 1000000000000ULL   /* OrderItem.quantity_milli */
#define MS_PER_DAY         86400000ULL

/* ---- currencies and amounts ---- */

int cli_currency_exponent(const char *currency)
{
    /* ISO 4217 currencies whose minor unit is not 1/100. */
    static const char zero[][4] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
                                   "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"};
    static const char three[][4] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
    static const char four[][4] = {"CLF", "UYW"};
    if (currency == NULL)
        return 2;
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        if (strcmp(currency, zero[i]) == 0)
            return 0;
    for (size_t i = 0; i < sizeof three / sizeof three[0]; i++)
        if (strcmp(currency, three[i]) == 0)
            return 3;
    for (size_t i = 0; i < sizeof four / sizeof four[0]; i++)
        if (strcmp(currency, four[i]) == 0)
            return 4;
    return 2;
}

static int64_t pow10_i64(int e)
{
    int64_t p = 1;
    for (int i = 0; i < e; i++)
        p *= 10;
    return p;
}

/* Digits of a decimal "I[.F]" with at most max_frac fraction digits, scaled
 * by 10^scale: the shared core of amounts and quantities. */
static bool parse_decimal(const char *text, int scale, uint64_t max, uint64_t *out, char *why,
                          size_t why_len)
{
    if (text == NULL || !isdigit((unsigned char)text[0])) {
        snprintf(why, why_len, "'%s' is not a number (write it like 150 or 150.00)",
                 text != NULL ? text : "");
        return false;
    }
    uint64_t v = 0;
    const char *p = text;
    for (; isdigit((unsigned char)*p); p++) {
        if (v > (max / 10) + 1) {
            snprintf(why, why_len, "'%s' is too large", text);
            return false;
        }
        v = v * 10 + (uint64_t)(*p - '0');
    }
    int frac = 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) {
            snprintf(why, why_len, "'%s': digits expected after the decimal point", text);
            return false;
        }
        for (; isdigit((unsigned char)*p); p++, frac++) {
            if (frac >= scale && *p == '0')
                continue; /* "150.000" CNY is 150.00: trailing zeros change nothing */
            if (frac >= scale) {
                snprintf(why, why_len, "'%s' has more than %d decimal%s", text, scale,
                         scale == 1 ? "" : "s");
                return false;
            }
            if (v > (max / 10) + 1) {
                snprintf(why, why_len, "'%s' is too large", text);
                return false;
            }
            v = v * 10 + (uint64_t)(*p - '0');
        }
    }
    if (*p != '\0') {
        snprintf(why, why_len, "'%s' is not a number (write it like 150 or 150.00)", text);
        return false;
    }
    for (; frac < scale; frac++) {
        if (v > max / 10 + 1) {
            snprintf(why, why_len, "'%s' is too large", text);
            return false;
        }
        v *= 10;
    }
    if (v > max) {
        snprintf(why, why_len, "'%s' is too large", text);
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_amount(const char *text, const char *currency, int64_t *minor, char *why,
                      size_t why_len)
{
    int e = cli_currency_exponent(currency);
    uint64_t v = 0;
    char inner[160];
    if (!parse_decimal(text, e, (uint64_t)AMOUNT_MAX_MINOR, &v, inner, sizeof inner)) {
        if (strstr(inner, "decimal") != NULL && currency != NULL)
            snprintf(why, why_len, "%s (%s has %d)", inner, currency, e);
        else
            snprintf(why, why_len, "%s", inner);
        return false;
    }
    *minor = (int64_t)v;
    return true;
}

void cli_format_major(int64_t minor, const char *currency, char *out, size_t out_len)
{
    int e = cli_currency_exponent(currency);
    int64_t p = pow10_i64(e);
    const char *sign = minor < 0 ? "-" : "";
    uint64_t m = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    if (e == 0)
        snprintf(out, out_len, "%s%llu", sign, (unsigned long long)m);
    else
        snprintf(out, out_len, "%s%llu.%0*llu", sign, (unsigned long long)(m / (uint64_t)p), e,
                 (unsigned long long)(m % (uint64_t)p));
}

void cli_format_amount(int64_t minor, const char *currency, char *out, size_t out_len)
{
    char num[CLI_VALUE_TEXT_MAX];
    cli_format_major(minor, currency, num, sizeof num);
    if (currency != NULL && currency[0] != '\0')
        snprintf(out, out_len, "%s %s", num, currency);
    else
        snprintf(out, out_len, "%s", num);
}

bool cli_parse_quantity(const char *text, uint64_t *milli)
{
    char why[128];
    uint64_t v = 0;
    if (!parse_decimal(text, 3, QUANTITY_MILLI_MAX, &v, why, sizeof why) || v == 0)
        return false;
    *milli = v;
    return true;
}

void cli_format_quantity(uint64_t milli, char *out, size_t out_len)
{
    if (milli % 1000 == 0) {
        snprintf(out, out_len, "%llu", (unsigned long long)(milli / 1000));
        return;
    }
    char frac[8];
    snprintf(frac, sizeof frac, "%03llu", (unsigned long long)(milli % 1000));
    for (int i = 2; i > 0 && frac[i] == '0'; i--)
        frac[i] = '\0';
    snprintf(out, out_len, "%llu.%s", (unsigned long long)(milli / 1000), frac);
}

/* ---- time ---- */

uint64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n digits at *p into *v; advances p. */
static bool digits(const char **p, int n, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        *v = *v * 10 + (unsigned)((*p)[i] - '0');
    }
    *p += n;
    return true;
}

/* "YYYY-MM-DD[(T| )HH:MM[:SS[.f…]]][Z|±HH:MM]" -> ms since the epoch. */
static bool parse_iso(const char *text, uint64_t *ms)
{
    const char *p = text;
    unsigned y, mo, d, h = 0, mi = 0, s = 0, frac_ms = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return false;
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (mo == 2 && leap((int64_t)y) ? 1u : 0u))
        return false;
    int64_t offset_min = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || h > 23 || mi > 59)
            return false;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &s) || s > 59)
                return false;
            if (*p == '.') {
                p++;
                int n = 0;
                for (; isdigit((unsigned char)*p); p++, n++)
                    if (n < 3)
                        frac_ms = frac_ms * 10 + (unsigned)(*p - '0');
                if (n == 0)
                    return false;
                for (; n < 3; n++)
                    frac_ms *= 10;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1;
            unsigned oh, om;
            if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 14 || om > 59)
                return false;
            offset_min = sign * (int64_t)(oh * 60 + om);
        }
    }
    if (*p != '\0')
        return false;
    int64_t secs = days_from_civil((int64_t)y, mo, d) * 86400 + (int64_t)h * 3600 +
                   (int64_t)mi * 60 + (int64_t)s - offset_min * 60;
    if (secs < 0)
        return false;
    *ms = (uint64_t)secs * 1000u + frac_ms;
    return true;
}

bool cli_parse_time(const char *text, uint64_t now_ms, uint64_t *ms, char *why, size_t why_len)
{
    if (text == NULL || text[0] == '\0') {
        snprintf(why, why_len, "a time is needed");
        return false;
    }
    if (strcasecmp(text, "now") == 0) {
        *ms = now_ms;
        return true;
    }
    if (text[0] == '@') {
        uint64_t v;
        if (cli_parse_u64(text + 1, UINT64_MAX / 2, &v)) {
            *ms = v;
            return true;
        }
    } else if (text[0] == '+' || text[0] == '-') {
        uint64_t n = 0;
        const char *p = text + 1;
        size_t nd = 0;
        for (; isdigit((unsigned char)*p) && nd < 9; p++, nd++)
            n = n * 10 + (uint64_t)(*p - '0');
        uint64_t unit = 0;
        switch (*p) {
        case 'd':
            unit = MS_PER_DAY;
            break;
        case 'h':
            unit = 3600000u;
            break;
        case 'm':
            unit = 60000u;
            break;
        case 's':
            unit = 1000u;
            break;
        default:
            break;
        }
        if (nd > 0 && unit != 0 && p[1] == '\0') {
            uint64_t delta = n * unit;
            if (text[0] == '+') {
                *ms = now_ms + delta;
                return true;
            }
            if (delta <= now_ms) {
                *ms = now_ms - delta;
                return true;
            }
        }
    } else if (parse_iso(text, ms)) {
        return true;
    }
    snprintf(why, why_len,
             "'%s' is not a time (write 2026-03-31, 2026-03-31T10:00:00Z, now, +90d, +12h, "
             "-30m or @<ms since the epoch>)",
             text);
    return false;
}

void cli_format_time(uint64_t ms, char *out, size_t out_len)
{
    if (ms == 0) {
        snprintf(out, out_len, "-");
        return;
    }
    time_t secs = (time_t)(ms / 1000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(out, out_len, "@%llu", (unsigned long long)ms);
        return;
    }
    snprintf(out, out_len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000u));
}

/* ---- numbers, cursors, enums, hex, ids ---- */

bool cli_parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return false;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return false;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool cli_parse_cursor(const char *text, hansa_cursor *out)
{
    if (text == NULL)
        return false;
    const char *colon = strchr(text, ':');
    if (colon == NULL || colon == text || (size_t)(colon - text) >= 24)
        return false;
    char h[24];
    memcpy(h, text, (size_t)(colon - text));
    h[colon - text] = '\0';
    uint64_t height, ordinal;
    if (!cli_parse_u64(h, UINT64_MAX, &height) || !cli_parse_u64(colon + 1, UINT32_MAX, &ordinal))
        return false;
    out->height = height;
    out->ordinal = (uint32_t)ordinal;
    return true;
}

/* Length of the prefix all of d's value names share, cut after its last
 * '_' ("SEVERITY_" for SEVERITY_*). */
static size_t enum_prefix_len(const ProtobufCEnumDescriptor *d)
{
    if (d->n_values == 0)
        return 0;
    const char *first = d->values[0].name;
    size_t n = strlen(first);
    for (unsigned i = 1; i < d->n_values; i++) {
        size_t k = 0;
        while (k < n && d->values[i].name[k] == first[k])
            k++;
        n = k;
    }
    while (n > 0 && first[n - 1] != '_')
        n--;
    return n;
}

/* a equals b ignoring case, with '-' in a matching '_' in b. */
static bool name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = *a == '-' ? '_' : (char)toupper((unsigned char)*a);
        if (ca != *b)
            return false;
    }
    return *a == '\0' && *b == '\0';
}

bool cli_parse_enum(const ProtobufCEnumDescriptor *d, const char *text, int *out)
{
    if (text == NULL)
        return false;
    size_t pre = enum_prefix_len(d);
    for (unsigned i = 0; i < d->n_values; i++) {
        const ProtobufCEnumValue *v = &d->values[i];
        if (v->value == 0)
            continue;
        if (name_eq(text, v->name + pre) || name_eq(text, v->name)) {
            *out = v->value;
            return true;
        }
    }
    return false;
}

const char *cli_enum_name(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t buf_len)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    if (v != NULL)
        return v->name + enum_prefix_len(d);
    snprintf(buf, buf_len, "%d", value);
    return buf;
}

void cli_enum_list(const ProtobufCEnumDescriptor *d, char *out, size_t out_len)
{
    size_t pre = enum_prefix_len(d), o = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < d->n_values && o < out_len; i++) {
        if (d->values[i].value == 0)
            continue;
        int n = snprintf(out + o, out_len - o, "%s%s", o > 0 ? ", " : "", d->values[i].name + pre);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

void cli_hex(const uint8_t *data, size_t n, char *out)
{
    static const char digits_hex[] = "0123456789abcdef";
    if (n == 0) {
        strcpy(out, "-");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits_hex[data[i] >> 4];
        out[2 * i + 1] = digits_hex[data[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool cli_unhex(const char *text, uint8_t *out, size_t n)
{
    if (text == NULL || strlen(text) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

bool cli_id_valid(const char *text)
{
    size_t n = text != NULL ? strlen(text) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (!isalnum((unsigned char)c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

/* ---- order lines ---- */

/* Split "k=v,k=v" (with "\," escapes) into buf as "k\0v\0k\0v\0"; returns
 * the number of pairs, or -1 when a part has no '='. */
static int item_pairs(const char *spec, char *buf, size_t buf_len, const char **keys,
                      const char **vals, int max)
{
    size_t o = 0;
    int n = 0;
    const char *p = spec;
    while (*p) {
        if (n == max)
            return -1;
        keys[n] = buf + o;
        vals[n] = NULL;
        for (; *p && *p != ','; p++) {
            if (o + 2 >= buf_len)
                return -1;
            if (*p == '\\' && (p[1] == ',' || p[1] == '\\'))
                p++;
            else if (*p == '=' && vals[n] == NULL) {
                buf[o++] = '\0';
                vals[n] = buf + o;
                continue;
            }
            buf[o++] = *p;
        }
        buf[o++] = '\0';
        if (vals[n] == NULL)
            return -1;
        n++;
        if (*p == ',')
            p++;
    }
    return n;
}

static bool key_is(const char *k, const char *const *names)
{
    for (; *names; names++)
        if (name_eq(k, *names))
            return true;
    return false;
}

static const char *const item_hs[] = {"HS", "HS_CODE", NULL};
static const char *const item_name[] = {"NAME", "DESC", "ITEM", "ITEM_NAME", NULL};
static const char *const item_qty[] = {"QTY", "QUANTITY", NULL};
static const char *const item_unit[] = {"UNIT", NULL};
static const char *const item_price[] = {"PRICE", "UNIT_PRICE", NULL};
static const char *const item_total[] = {"TOTAL", "LINE_TOTAL", NULL};
static const char *const item_line[] = {"LINE", "LINE_NO", NULL};

/* The text of each key=value pair in its field of out (qty, price and
 * total stay text: their meaning needs the currency). */
struct item_text {
    const char *qty, *price, *total;
};

static bool item_fields(const char **keys, const char **vals, int n, struct cli_item *out,
                        struct item_text *tx, char *why, size_t why_len)
{
    for (int i = 0; i < n; i++) {
        const char *k = keys[i], *v = vals[i];
        if (key_is(k, item_hs)) {
            out->hs_code = v;
        } else if (key_is(k, item_name)) {
            out->name = v;
        } else if (key_is(k, item_qty)) {
            tx->qty = v;
        } else if (key_is(k, item_unit)) {
            out->unit = v;
        } else if (key_is(k, item_price)) {
            tx->price = v;
        } else if (key_is(k, item_total)) {
            tx->total = v;
        } else if (key_is(k, item_line)) {
            uint64_t l;
            if (!cli_parse_u64(v, 9999, &l) || l == 0) {
                snprintf(why, why_len, "item: line=%s is not a line number 1-9999", v);
                return false;
            }
            out->line_no = (uint32_t)l;
        } else {
            snprintf(why, why_len,
                     "item: unknown key '%s' (keys: hs, name, qty, unit, price, total, line)", k);
            return false;
        }
    }
    return true;
}

bool cli_parse_item(const char *spec, const char *currency, uint32_t default_line_no,
                    struct cli_item *out, char *buf, size_t buf_len, char *why, size_t why_len)
{
    const char *keys[16], *vals[16];
    int n = item_pairs(spec, buf, buf_len, keys, vals, 16);
    if (n <= 0) {
        snprintf(why, why_len, "item '%s': expected key=value pairs separated by commas", spec);
        return false;
    }
    memset(out, 0, sizeof *out);
    out->line_no = default_line_no;
    struct item_text tx = {NULL, NULL, NULL};
    if (!item_fields(keys, vals, n, out, &tx, why, why_len))
        return false;
    const char *missing = out->hs_code == NULL ? "hs"
                          : out->name == NULL  ? "name"
                          : tx.qty == NULL     ? "qty"
                          : out->unit == NULL  ? "unit"
                          : tx.price == NULL   ? "price"
                                               : NULL;
    if (missing != NULL) {
        snprintf(why, why_len, "item '%s': %s= is missing", spec, missing);
        return false;
    }
    if (!cli_parse_quantity(tx.qty, &out->quantity_milli)) {
        snprintf(why, why_len, "item: qty=%s is not a quantity above 0 with at most 3 decimals",
                 tx.qty);
        return false;
    }
    char inner[160];
    if (!cli_parse_amount(tx.price, currency, &out->unit_price_minor, inner, sizeof inner)) {
        snprintf(why, why_len, "item: price=%s", inner);
        return false;
    }
    if (tx.total != NULL) {
        if (cli_parse_amount(tx.total, currency, &out->line_total_minor, inner, sizeof inner))
            return true;
        snprintf(why, why_len, "item: total=%s", inner);
        return false;
    }
    /* quantity × unit price = line total × 1,000 exactly (OrderItem). */
    unsigned __int128 product =
        (unsigned __int128)out->quantity_milli * (unsigned __int128)out->unit_price_minor;
    if (product % 1000 != 0 || product / 1000 > (unsigned __int128)AMOUNT_MAX_MINOR) {
        snprintf(why, why_len,
                 "item: qty %s × price %s is not a whole amount in %s; give total= as well", tx.qty,
                 tx.price, currency != NULL ? currency : "the currency");
        return false;
    }
    out->line_total_minor = (int64_t)(product / 1000);
    return true;
}
