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
