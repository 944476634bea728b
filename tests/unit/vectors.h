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

#include <protobuf-c/protobuf-c.h>

/* A CreateOrder record with two items has about 45 lines. */
#define VEC_FIELDS_MAX 64u

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

/* ---- building protobuf-c messages from a record ---------------------------------------------- */

/* Owns everything vec_build allocates; zero-initialise, free with
 * vec_arena_free. */
struct vec_arena {
    void **ptrs; /* owned, each owned */
    size_t n, cap;
};
void vec_arena_free(struct vec_arena *a);

/*
 * Build a message of type desc from the lines of r whose key starts with
 * prefix ("" for all), through the message's own descriptor: the rest of the
 * key names the field, sub-messages with '.', repeated elements with
 * '.<index>' from 0 (items.1.unit_price_minor, roles.0). Values: strings as
 * text, integers in decimal, enums by value name (ROLE_BANK), bytes in hex.
 * A sub-message is set when some key lies under it, or when its own key has
 * the value "{}" (set but empty: alert.cursor = {}), and a oneof member sets
 * its case. Every key under prefix that is not in skip (a NULL-terminated
 * list, or NULL) must name a field: the test fails otherwise, so a field
 * renamed in hansa.proto cannot be skipped silently. Everything allocated,
 * the message included, belongs to arena.
 */
ProtobufCMessage *vec_build(struct vec_arena *arena, const struct vec_file *f,
                            const struct vec_record *r, const ProtobufCMessageDescriptor *desc,
                            const char *prefix, const char *const *skip);

#endif
