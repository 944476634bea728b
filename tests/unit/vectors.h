/*
 * Reading the known-answer vector files of tests/vectors/ (written by
 * gen_vectors.py, never by hand).
 *
 * Format: '#' starts a comment line; records are separated by blank lines;
 * each line of a record is `key = value`. Values are hex unless the key says
 * otherwise. Every helper that cannot find what it is asked for fails the
 * running test (cr_assert), so a test never passes on an empty or truncated
 * file.
 */
#ifndef HANSA_TEST_VECTORS_H
#define HANSA_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#define VEC_FIELDS_MAX 32u

struct vec_field {
    char *key;   /* owned by the vec_file */
    char *value; /* owned by the vec_file */
};

struct vec_record {
    size_t n_fields;
    struct vec_field fields[VEC_FIELDS_MAX];
    unsigned line; /* first line of the record, for messages */
};

struct vec_file {
    char name[64];
    size_t n_records;
    struct vec_record *records; /* owned */
    char *text;                 /* owned: the file, cut into keys and values */
};

/* Load HANSA_VECTORS_DIR/name; fails the test if the file cannot be read or
 * has fewer than min_records records. Free with vec_close(). */
void vec_open(struct vec_file *f, const char *name, size_t min_records);
void vec_close(struct vec_file *f);

/* The value of key in r, or NULL when absent. */
const char *vec_find(const struct vec_record *r, const char *key);
/* The value of key in r; fails the test when absent. */
const char *vec_str(const struct vec_file *f, const struct vec_record *r, const char *key);
/* The same, writable (the text lives in the vec_file until vec_close): for
 * the char * fields of protobuf-c structs. */
char *vec_text(const struct vec_file *f, const struct vec_record *r, const char *key);
/* Decimal value of key; fails the test when absent or not a number. */
unsigned long long vec_uint(const struct vec_file *f, const struct vec_record *r, const char *key);
/* Hex value of key into a new heap buffer (caller frees; never NULL, even for
 * an empty value). *len receives its length. Fails the test on bad hex. */
uint8_t *vec_hex_alloc(const struct vec_file *f, const struct vec_record *r, const char *key,
                       size_t *len);
/* Hex value of key, which must be exactly len bytes, into out. */
void vec_hex_exact(const struct vec_file *f, const struct vec_record *r, const char *key,
                   uint8_t *out, size_t len);

#endif
