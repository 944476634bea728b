/*
 * Vector file reader for the unit tests (see vectors.h). Hex is decoded here,
 * not with wire_hex_decode, so that a bug in the library's hex cannot hide a
 * bug elsewhere.
 */
#include "vectors.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#ifndef HANSA_VECTORS_DIR
#error "HANSA_VECTORS_DIR must be defined by the build (tests/CMakeLists.txt)"
#endif

/* The largest vector file is a few KiB; this bounds the read. */
#define VEC_FILE_BYTES_MAX (1u << 20)

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    cr_assert(fp != NULL, "cannot open vector file %s", path);
    char *buf = malloc(VEC_FILE_BYTES_MAX + 1);
    cr_assert(buf != NULL);
    size_t n = fread(buf, 1, VEC_FILE_BYTES_MAX + 1, fp);
    cr_assert(ferror(fp) == 0, "cannot read %s", path);
    fclose(fp);
    cr_assert(n <= VEC_FILE_BYTES_MAX, "vector file %s is too large", path);
    buf[n] = '\0';
    return buf;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

void vec_open(struct vec_file *f, const char *name, size_t min_records)
{
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", HANSA_VECTORS_DIR, name);
    f->text = read_file(path);

    size_t cap = 16;
    f->records = calloc(cap, sizeof *f->records);
    cr_assert(f->records != NULL);
    bool in_record = false;
    unsigned line_no = 0;
    /* strtok would merge blank lines, which separate records: walk by hand. */
    char *line = f->text;
    while (line != NULL && *line != '\0') {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        line_no++;
        char *t = trim(line);
        if (*t == '#') {
            line = next;
            continue;
        }
        if (*t == '\0') {
            in_record = false;
            line = next;
            continue;
        }
        if (!in_record) {
            if (f->n_records == cap) {
                cap *= 2;
                f->records = realloc(f->records, cap * sizeof *f->records);
                cr_assert(f->records != NULL);
            }
            memset(&f->records[f->n_records], 0, sizeof f->records[0]);
            f->records[f->n_records].line = line_no;
            f->n_records++;
            in_record = true;
        }
        struct vec_record *r = &f->records[f->n_records - 1];
        char *eq = strchr(t, '=');
        cr_assert(eq != NULL, "%s:%u: expected 'key = value'", name, line_no);
        cr_assert(r->n_fields < VEC_FIELDS_MAX, "%s:%u: too many fields", name, line_no);
        *eq = '\0';
        r->fields[r->n_fields].key = trim(t);
        r->fields[r->n_fields].value = trim(eq + 1);
        r->n_fields++;
        line = next;
    }
    cr_assert(f->n_records >= min_records, "%s: %zu records, expected at least %zu", name,
              f->n_records, min_records);
}

void vec_close(struct vec_file *f)
{
    free(f->records);
    free(f->text);
    memset(f, 0, sizeof *f);
}

const char *vec_find(const struct vec_record *r, const char *key)
{
    for (size_t i = 0; i < r->n_fields; i++)
        if (strcmp(r->fields[i].key, key) == 0)
            return r->fields[i].value;
    return NULL;
}

const char *vec_str(const struct vec_file *f, const struct vec_record *r, const char *key)
{
    const char *v = vec_find(r, key);
    cr_assert(v != NULL, "%s: record at line %u has no '%s'", f->name, r->line, key);
    return v;
}

char *vec_text(const struct vec_file *f, const struct vec_record *r, const char *key)
{
    for (size_t i = 0; i < r->n_fields; i++)
        if (strcmp(r->fields[i].key, key) == 0)
            return r->fields[i].value;
    cr_assert_fail("%s: record at line %u has no '%s'", f->name, r->line, key);
    return NULL;
}

unsigned long long vec_uint(const struct vec_file *f, const struct vec_record *r, const char *key)
{
    const char *v = vec_str(f, r, key);
    char *end = NULL;
    unsigned long long n = strtoull(v, &end, 10);
    cr_assert(*v != '\0' && *end == '\0', "%s:%u: '%s' is not a number", f->name, r->line, key);
    return n;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* the generator writes lower case only */
}

uint8_t *vec_hex_alloc(const struct vec_file *f, const struct vec_record *r, const char *key,
                       size_t *len)
{
    const char *v = vec_str(f, r, key);
    size_t n = strlen(v);
    cr_assert(n % 2 == 0, "%s:%u: '%s' has an odd number of hex digits", f->name, r->line, key);
    uint8_t *out = malloc(n / 2 + 1);
    cr_assert(out != NULL);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit(v[2 * i]), lo = hex_digit(v[2 * i + 1]);
        cr_assert(hi >= 0 && lo >= 0, "%s:%u: '%s' is not hex", f->name, r->line, key);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return out;
}

void vec_hex_exact(const struct vec_file *f, const struct vec_record *r, const char *key,
                   uint8_t *out, size_t len)
{
    size_t n = 0;
    uint8_t *b = vec_hex_alloc(f, r, key, &n);
    cr_assert(n == len, "%s:%u: '%s' is %zu bytes, expected %zu", f->name, r->line, key, n, len);
    memcpy(out, b, len);
    free(b);
}

/* ---- building messages (vectors.h, vec_build) -------------------------------------------------
 */

#define VEC_PATH_MAX 256u

struct build {
    struct vec_arena *arena;
    const struct vec_file *f;
    const struct vec_record *r;
    bool used[VEC_FIELDS_MAX];
};

static void *arena_alloc(struct vec_arena *a, size_t n)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->ptrs = realloc(a->ptrs, a->cap * sizeof *a->ptrs);
        cr_assert(a->ptrs != NULL);
    }
    void *p = calloc(1, n ? n : 1);
    cr_assert(p != NULL);
    a->ptrs[a->n++] = p;
    return p;
}

void vec_arena_free(struct vec_arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->ptrs[i]);
    free(a->ptrs);
    memset(a, 0, sizeof *a);
}

/* The value of exactly key, marked used; NULL when absent. */
static const char *take(struct build *b, const char *key)
{
    for (size_t i = 0; i < b->r->n_fields; i++)
        if (strcmp(b->r->fields[i].key, key) == 0) {
            b->used[i] = true;
            return b->r->fields[i].value;
        }
    return NULL;
}

/* Whether some key starts with prefix. */
static bool any_under(const struct build *b, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < b->r->n_fields; i++)
        if (strncmp(b->r->fields[i].key, prefix, n) == 0)
            return true;
    return false;
}

static long long parse_int(const struct build *b, const char *key, const char *v, long long min,
                           long long max)
{
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    cr_assert(*v != '\0' && *end == '\0' && n >= min && n <= max, "%s:%u: '%s' = '%s'", b->f->name,
              b->r->line, key, v);
    return n;
}

static unsigned long long parse_uint(const struct build *b, const char *key, const char *v,
                                     unsigned long long max)
{
    char *end = NULL;
    unsigned long long n = strtoull(v, &end, 10);
    cr_assert(*v >= '0' && *v <= '9' && *end == '\0' && n <= max, "%s:%u: '%s' = '%s'", b->f->name,
              b->r->line, key, v);
    return n;
}

/* Store the text value v of field fd at member (a scalar, string or bytes). */
static void set_scalar(struct build *b, const ProtobufCFieldDescriptor *fd, void *member,
                       const char *key, const char *v)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *(int32_t *)member = (int32_t)parse_int(b, key, v, INT32_MIN, INT32_MAX);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)member = (int64_t)parse_int(b, key, v, INT64_MIN, INT64_MAX);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)member = (uint32_t)parse_uint(b, key, v, UINT32_MAX);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)member = (uint64_t)parse_uint(b, key, v, UINT64_MAX);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)member = (protobuf_c_boolean)parse_uint(b, key, v, 1);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(
            (const ProtobufCEnumDescriptor *)fd->descriptor, v);
        cr_assert(ev != NULL, "%s:%u: '%s': no enum value '%s'", b->f->name, b->r->line, key, v);
        *(int *)member = ev->value;
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        size_t n = strlen(v);
        char *s = arena_alloc(b->arena, n + 1);
        memcpy(s, v, n + 1);
        *(char **)member = s;
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        size_t n = 0;
        uint8_t *tmp = vec_hex_alloc(b->f, b->r, key, &n);
        ProtobufCBinaryData *bd = member;
        bd->len = n;
        bd->data = n ? arena_alloc(b->arena, n) : NULL;
        if (n)
            memcpy(bd->data, tmp, n);
        free(tmp);
        break;
    }
    default:
        cr_assert_fail("%s:%u: '%s': field type %d not supported", b->f->name, b->r->line, key,
                       (int)fd->type);
    }
}

static size_t element_size(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    default:
        return sizeof(uint32_t);
    }
}

static ProtobufCMessage *build_message(struct build *b, const ProtobufCMessageDescriptor *desc,
                                       const char *prefix);

/* path, then ".<index>" unless index is SIZE_MAX, then "." if dot, into sub. */
static void sub_path(char sub[VEC_PATH_MAX], const char *path, size_t index, bool dot)
{
    int n = index == SIZE_MAX
                ? snprintf(sub, VEC_PATH_MAX, "%s%s", path, dot ? "." : "")
                : snprintf(sub, VEC_PATH_MAX, "%s.%zu%s", path, index, dot ? "." : "");
    cr_assert(n > 0 && (size_t)n < VEC_PATH_MAX, "key path too long: %s", path);
}

/* Set fd's member of msg from the keys under path (sub-messages) or at path. */
static void build_field(struct build *b, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
                        const char *path)
{
    char *member = (char *)msg + fd->offset;
    char sub[VEC_PATH_MAX];
    bool is_msg = fd->type == PROTOBUF_C_TYPE_MESSAGE;
    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = 0;
        for (;; n++) {
            sub_path(sub, path, n, is_msg);
            if (is_msg ? !any_under(b, sub) : vec_find(b->r, sub) == NULL)
                break;
        }
        if (n == 0)
            return;
        char *arr = arena_alloc(b->arena, n * element_size(fd));
        for (size_t i = 0; i < n; i++) {
            char *elem = arr + i * element_size(fd);
            if (is_msg) {
                sub_path(sub, path, i, true);
                *(ProtobufCMessage **)elem = build_message(b, fd->descriptor, sub);
            } else {
                sub_path(sub, path, i, false);
                set_scalar(b, fd, elem, sub, take(b, sub));
            }
        }
        *(size_t *)((char *)msg + fd->quantifier_offset) = n;
        *(void **)member = arr;
        return;
    }
    if (is_msg) {
        sub_path(sub, path, SIZE_MAX, true);
        const char *empty = vec_find(b->r, path);
        if (empty != NULL) {
            /* `path = {}`: the sub-message is set, with every field default. */
            cr_assert(strcmp(empty, "{}") == 0 && !any_under(b, sub),
                      "%s:%u: '%s' is a message: only '{}' may stand for it", b->f->name,
                      b->r->line, path);
            take(b, path);
        } else if (!any_under(b, sub)) {
            return;
        }
        *(ProtobufCMessage **)member = build_message(b, fd->descriptor, sub);
    } else {
        const char *v = take(b, path);
        if (v == NULL)
            return;
        set_scalar(b, fd, member, path, v);
    }
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = (uint32_t *)((char *)msg + fd->quantifier_offset);
        cr_assert(*which == 0, "%s:%u: two members of one oneof (%s)", b->f->name, b->r->line,
                  path);
        *which = fd->id;
    }
}

static ProtobufCMessage *build_message(struct build *b, const ProtobufCMessageDescriptor *desc,
                                       const char *prefix)
{
    ProtobufCMessage *msg = arena_alloc(b->arena, desc->sizeof_message);
    desc->message_init(msg);
    for (unsigned i = 0; i < desc->n_fields; i++) {
        char path[VEC_PATH_MAX];
        int n = snprintf(path, sizeof path, "%s%s", prefix, desc->fields[i].name);
        cr_assert(n > 0 && (size_t)n < sizeof path);
        build_field(b, msg, &desc->fields[i], path);
    }
    return msg;
}

static bool skipped(const char *key, const char *const *skip)
{
    for (; skip != NULL && *skip != NULL; skip++)
        if (strcmp(key, *skip) == 0)
            return true;
    return false;
}

ProtobufCMessage *vec_build(struct vec_arena *arena, const struct vec_file *f,
                            const struct vec_record *r, const ProtobufCMessageDescriptor *desc,
                            const char *prefix, const char *const *skip)
{
    struct build b = {.arena = arena, .f = f, .r = r};
    ProtobufCMessage *msg = build_message(&b, desc, prefix);
    size_t n = strlen(prefix);
    for (size_t i = 0; i < r->n_fields; i++) {
        const char *key = r->fields[i].key;
        if (strncmp(key, prefix, n) == 0 && !skipped(key, skip))
            cr_assert(b.used[i], "%s:%u: '%s' names no field of %s", f->name, r->line, key,
                      desc->name);
    }
    return msg;
}
