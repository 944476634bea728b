/*
 * JSON <-> protocol messages, driven by protobuf-c's descriptors, so every
 * message of hansa.proto (documents, records, pages, alerts) converts
 * without code of its own. The mapping is documented in hansa.h; in short:
 * field names of hansa.proto, field-number order, bytes as lower-case hex,
 * enums by value name without their enum's common prefix, 64-bit integers
 * as JSON integers (a uint64 above INT64_MAX as a decimal string), repeated
 * fields as arrays, messages as objects, of a oneof only its set member.
 *
 * Reading builds the message in memory protobuf-c's default allocator owns
 * (malloc), so hansa_free (protobuf_c_message_free_unpacked) frees it, also
 * half-built after an error: every pointer is stored in the message as soon
 * as it is allocated. Errors name the field's path ("items[0].unit").
 *
 * Invariants: nesting is bounded (JSON_DEPTH_MAX; hansa.proto has no
 * recursive message, schema rule 2, so real documents stay far below); a
 * string written never contains invalid UTF-8 (jansson refuses it, so it is
 * repaired first) and a string read never contains a NUL byte.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "internal.h"

#define JSON_DEPTH_MAX 32
#define JSON_PATH_MAX  256

/* ---- message -> JSON ---- */

static json_t *message_to_json(const ProtobufCMessage *m, int depth);

/* Decode one UTF-8 sequence at s; its length, or 0 when invalid (overlong,
 * surrogate, above U+10FFFF, truncated). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    uint32_t cp = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* s with each invalid byte replaced by U+FFFD (caller frees). */
static char *utf8_repair(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(3 * len + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len((const unsigned char *)s + i);
        if (n == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    return out;
}

static json_t *string_json(const char *s)
{
    json_t *j = json_string(s != NULL ? s : "");
    if (j != NULL)
        return j;
    char *fixed = utf8_repair(s);
    j = fixed != NULL ? json_string(fixed) : NULL;
    free(fixed);
    return j;
}

static json_t *bytes_json(const ProtobufCBinaryData *b)
{
    char *hex = malloc(2 * b->len + 1);
    if (hex == NULL)
        return NULL;
    if (b->len > 0)
        wire_hex_encode(b->data, b->len, hex);
    else
        hex[0] = '\0';
    json_t *j = json_string(hex);
    free(hex);
    return j;
}

static json_t *u64_json(uint64_t v)
{
    if (v <= INT64_MAX)
        return json_integer((json_int_t)v);
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRIu64, v);
    return json_string(digits);
}

static json_t *enum_json(const ProtobufCEnumDescriptor *d, int v)
{
    const char *name = sdk_enum_short_name(d, v);
    return name != NULL ? json_string(name) : json_integer(v);
}

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 0; /* not in hansa.proto (integers only) */
    }
    return 0;
}

/* One value of field f at p; NULL on memory failure or an unsupported type. */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return u64_json(*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM:
        return enum_json(f->descriptor, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING:
        return string_json(*(char *const *)p);
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_json(p);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        return sub != NULL ? message_to_json(sub, depth + 1) : json_null();
    }
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return NULL;
    }
    return NULL;
}

static json_t *repeated_json(const ProtobufCFieldDescriptor *f, const char *base, int depth)
{
    size_t n = *(const size_t *)(base + f->quantifier_offset);
    const char *arr = *(char *const *)(base + f->offset);
    size_t size = elem_size(f->type);
    json_t *a = json_array();
    if (a == NULL || size == 0) {
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(a, value_json(f, arr + i * size, depth)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Whether field f of the message at base is written. */
static bool field_present(const ProtobufCFieldDescriptor *f, const char *base)
{
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED)
        return *(void *const *)(base + f->offset) != NULL;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING)
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
    return true;
}

static json_t *message_to_json(const ProtobufCMessage *m, int depth)
{
    if (depth > JSON_DEPTH_MAX)
        return NULL;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    json_t *obj = json_object();
    for (unsigned i = 0; obj != NULL && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!field_present(f, base))
            continue;
        json_t *v = f->label == PROTOBUF_C_LABEL_REPEATED ? repeated_json(f, base, depth)
                                                          : value_json(f, base + f->offset, depth);
        if (v == NULL || json_object_set_new(obj, f->name, v) != 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

static bool descriptor_ok(const ProtobufCMessageDescriptor *d)
{
    return d != NULL && d->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC;
}

char *hansa_json_from_message(const void *protobuf_message, bool pretty)
{
    const ProtobufCMessage *m = protobuf_message;
    if (m == NULL || !descriptor_ok(m->descriptor))
        return NULL;
    json_t *root = message_to_json(m, 0);
    if (root == NULL)
        return NULL;
    char *text = json_dumps(root, JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT));
    json_decref(root);
    return text;
}

/* ---- JSON -> message ---- */

struct reader {
    hansa_error *err;
};

static hansa_code parse_message(struct reader *r, json_t *obj, const ProtobufCMessageDescriptor *d,
                                ProtobufCMessage **out, const char *path, int depth);

__attribute__((format(printf, 3, 4))) static hansa_code bad(struct reader *r, const char *path,
                                                            const char *fmt, ...)
{
    char why[HANSA_MESSAGE_MAX - JSON_PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return sdk_fail(r->err, HANSA_CODE_INVALID_ARGUMENT, "%s%s%s", path, path[0] ? ": " : "", why);
}

/* A decimal string of digits (and a leading '-' when negative is true). */
static bool decimal_string(const char *s, bool negative)
{
    if (*s == '-' && negative)
        s++;
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static bool json_i64(json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    const char *s = json_string_value(v);
    if (s == NULL || !decimal_string(s, true))
        return false;
    errno = 0;
    long long x = strtoll(s, NULL, 10);
    *out = x;
    return errno == 0;
}

static bool json_u64(json_t *v, uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        *out = (uint64_t)x;
        return x >= 0;
    }
    const char *s = json_string_value(v);
    if (s == NULL || !decimal_string(s, false))
        return false;
    errno = 0;
    unsigned long long x = strtoull(s, NULL, 10);
    *out = x;
    return errno == 0;
}

static hansa_code parse_enum(struct reader *r, const ProtobufCEnumDescriptor *d, json_t *v,
                             int *out, const char *path)
{
    int64_t n;
    if (json_i64(v, &n)) {
        if (n < INT32_MIN || n > INT32_MAX)
            return bad(r, path, "%" PRId64 " is out of range for %s", n, d->name);
        *out = (int)n;
        return HANSA_CODE_OK;
    }
    const char *name = json_string_value(v);
    if (name == NULL)
        return bad(r, path, "expected a %s name", d->name);
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(d, name);
    size_t plen = sdk_enum_prefix_len(d);
    char full[128];
    if (ev == NULL && plen + strlen(name) < sizeof full) {
        memcpy(full, d->values[0].name, plen);
        strcpy(full + plen, name);
        ev = protobuf_c_enum_descriptor_get_value_by_name(d, full);
    }
    if (ev == NULL)
        return bad(r, path, "\"%s\" is not a %s", name, d->name);
    *out = ev->value;
    return HANSA_CODE_OK;
}

static hansa_code parse_bytes(struct reader *r, json_t *v, ProtobufCBinaryData *out,
                              const char *path)
{
    const char *hex = json_string_value(v);
    size_t n = hex != NULL ? json_string_length(v) : 0;
    if (hex == NULL || n % 2 != 0)
        return bad(r, path, "expected bytes as an even number of hex digits");
    if (n == 0)
        return HANSA_CODE_OK;
    uint8_t *buf = malloc(n / 2);
    if (buf == NULL)
        return sdk_fail(r->err, HANSA_CODE_NOMEM, "out of memory");
    size_t len = 0;
    const char *end = NULL;
    if (sodium_hex2bin(buf, n / 2, hex, n, NULL, &len, &end) != 0 || end != hex + n) {
        free(buf);
        return bad(r, path, "expected bytes as hex digits");
    }
    *out = (ProtobufCBinaryData){len, buf};
    return HANSA_CODE_OK;
}

static hansa_code parse_string(struct reader *r, json_t *v, char **out, const char *path)
{
    const char *s = json_string_value(v);
    if (s == NULL)
        return bad(r, path, "expected a string");
    if (strlen(s) != json_string_length(v))
        return bad(r, path, "a string may not contain a NUL character");
    char *copy = strdup(s);
    if (copy == NULL)
        return sdk_fail(r->err, HANSA_CODE_NOMEM, "out of memory");
    *out = copy;
    return HANSA_CODE_OK;
}

static hansa_code parse_integer(struct reader *r, const ProtobufCFieldDescriptor *f, json_t *v,
                                void *dst, const char *path)
{
    int64_t i;
    uint64_t u;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (!json_i64(v, &i) || i < INT32_MIN || i > INT32_MAX)
            return bad(r, path, "expected a 32-bit integer");
        *(int32_t *)dst = (int32_t)i;
        return HANSA_CODE_OK;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (!json_u64(v, &u) || u > UINT32_MAX)
            return bad(r, path, "expected an integer from 0 to 4294967295");
        *(uint32_t *)dst = (uint32_t)u;
        return HANSA_CODE_OK;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (!json_i64(v, &i))
            return bad(r, path, "expected a 64-bit integer");
        *(int64_t *)dst = i;
        return HANSA_CODE_OK;
    default:
        if (!json_u64(v, &u))
            return bad(r, path, "expected an integer from 0 to 18446744073709551615");
        *(uint64_t *)dst = u;
        return HANSA_CODE_OK;
    }
}

/* One value of field f from v into dst (the field or an array element). */
static hansa_code parse_value(struct reader *r, const ProtobufCFieldDescriptor *f, json_t *v,
                              void *dst, const char *path, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return parse_integer(r, f, v, dst, path);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return bad(r, path, "expected true or false");
        *(protobuf_c_boolean *)dst = json_is_true(v);
        return HANSA_CODE_OK;
    case PROTOBUF_C_TYPE_ENUM:
        return parse_enum(r, f->descriptor, v, dst, path);
    case PROTOBUF_C_TYPE_STRING:
        return parse_string(r, v, dst, path);
    case PROTOBUF_C_TYPE_BYTES:
        return parse_bytes(r, v, dst, path);
    case PROTOBUF_C_TYPE_MESSAGE:
        return parse_message(r, v, f->descriptor, dst, path, depth + 1);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        break;
    }
    return bad(r, path, "floating-point fields are not part of the protocol");
}

static hansa_code parse_repeated(struct reader *r, const ProtobufCFieldDescriptor *f, json_t *v,
                                 char *base, const char *path, int depth)
{
    if (!json_is_array(v))
        return bad(r, path, "expected an array");
    size_t n = json_array_size(v), size = elem_size(f->type);
    if (size == 0)
        return bad(r, path, "floating-point fields are not part of the protocol");
    char *arr = n > 0 ? calloc(n, size) : NULL;
    if (n > 0 && arr == NULL)
        return sdk_fail(r->err, HANSA_CODE_NOMEM, "out of memory");
    /* Stored at once: a half-filled array is freed with the message. */
    *(size_t *)(base + f->quantifier_offset) = n;
    *(char **)(base + f->offset) = arr;
    for (size_t i = 0; i < n; i++) {
        char sub[JSON_PATH_MAX];
        if (snprintf(sub, sizeof sub, "%s[%zu]", path, i) >= (int)sizeof sub)
            return bad(r, path, "nested too deep");
        hansa_code code = parse_value(r, f, json_array_get(v, i), arr + i * size, sub, depth);
        if (code != HANSA_CODE_OK)
            return code;
    }
    return HANSA_CODE_OK;
}

static hansa_code parse_field(struct reader *r, const ProtobufCMessageDescriptor *d, char *base,
                              const char *key, json_t *v, const char *path, int depth)
{
    char sub[JSON_PATH_MAX];
    if (snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", key) >= (int)sizeof sub)
        return bad(r, path, "field name too long: \"%.32s...\"", key);
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
    if (f == NULL)
        return bad(r, sub, "unknown field \"%s\" in %s", key, d->name);
    if (json_is_null(v))
        return HANSA_CODE_OK;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = (uint32_t *)(base + f->quantifier_offset);
        if (*which != 0 && *which != f->id)
            return bad(r, sub, "another member of the same oneof is set already");
        *which = f->id;
    } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
               f->type != PROTOBUF_C_TYPE_MESSAGE) {
        *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return parse_repeated(r, f, v, base, sub, depth);
    return parse_value(r, f, v, base + f->offset, sub, depth);
}

static hansa_code parse_message(struct reader *r, json_t *obj, const ProtobufCMessageDescriptor *d,
                                ProtobufCMessage **out, const char *path, int depth)
{
    if (depth > JSON_DEPTH_MAX)
        return bad(r, path, "nested more than %d levels deep", JSON_DEPTH_MAX);
    if (!json_is_object(obj))
        return bad(r, path, "expected an object (%s)", d->name);
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    if (m == NULL)
        return sdk_fail(r->err, HANSA_CODE_NOMEM, "out of memory");
    d->message_init(m);
    *out = m; /* stored at once: freed with its parent on an error */
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        hansa_code code = parse_field(r, d, (char *)m, key, v, path, depth);
        if (code != HANSA_CODE_OK)
            return code;
    }
    return HANSA_CODE_OK;
}

hansa_code hansa_json_to_message(const char *json, const ProtobufCMessageDescriptor *d, void **out,
                                 hansa_error *err)
{
    if (json == NULL || out == NULL || !descriptor_ok(d))
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "hansa_json_to_message: text, message descriptor and out needed");
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "JSON line %d, column %d: %s", jerr.line,
                        jerr.column, jerr.text);
    struct reader r = {.err = err};
    ProtobufCMessage *m = NULL;
    hansa_code code = parse_message(&r, root, d, &m, "", 0);
    json_decref(root);
    if (code != HANSA_CODE_OK) {
        hansa_free(m);
        return code;
    }
    *out = m;
    return sdk_ok(err);
}
