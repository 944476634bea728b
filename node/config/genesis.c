/*
 * genesis.json reader (format and rules in genesis.h; the writer is
 * genesis_write.c).
 *
 * The loader walks the JSON tree once, building Hansa__Party and
 * Hansa__Validator records with every string and byte array on the heap, so
 * the doc owns all it points to and genesis_doc_free releases it. Each
 * object is checked for unknown fields before its known ones are read: a
 * misspelt "role" is an error, not a party without roles. Errors carry a
 * context, "party MER-SZ-0001: \"country\"", built as the walk descends.
 *
 * Parameters are read and written through the protobuf-c descriptor of
 * Hansa__Parameters, so a field added to hansa.proto is accepted and
 * written without a change here (as long as it is an integer).
 *
 * Duplicate party ids and keys are found by sorting, not by comparing all
 * pairs: 4,096 parties with 8 keys each would be 5*10^8 comparisons.
 *
 * Invariants of a loaded doc: every party has a valid id, 1-7 distinct
 * roles in ascending order and 1-8 keys of 32 bytes; party ids and keys are
 * unique; 1-64 validators with unique ids and keys; file_hash is SHA-256 of
 * the bytes parsed.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fileio.h"
#include "genesis.h"
#include "hansa/assert.h"

#define ROLE_PREFIX "ROLE_"

/* Where the walk is, for messages: "party MER-SZ-0001" or "validators[2]". */
struct walk {
    const char *name; /* file name for messages */
    char *why;
    size_t why_len;
};

__attribute__((format(printf, 2, 3))) static hansa_err fail(const struct walk *w, const char *fmt,
                                                            ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    config_why(w->why, w->why_len, "%s: %s", w->name, msg);
    return HANSA_EFORMAT;
}

/* ---- roles ------------------------------------------------------------------------ */

Hansa__Role genesis_role_parse(const char *name)
{
    char full[64];
    if (name == NULL || snprintf(full, sizeof full, ROLE_PREFIX "%s", name) >= (int)sizeof full)
        return HANSA__ROLE__ROLE_UNSPECIFIED;
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value_by_name(&hansa__role__descriptor, full);
    if (v == NULL || v->value == HANSA__ROLE__ROLE_UNSPECIFIED)
        return HANSA__ROLE__ROLE_UNSPECIFIED;
    return (Hansa__Role)v->value;
}

const char *genesis_role_name(Hansa__Role role)
{
    if (role == HANSA__ROLE__ROLE_UNSPECIFIED)
        return NULL;
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&hansa__role__descriptor, (int)role);
    if (v == NULL || strncmp(v->name, ROLE_PREFIX, strlen(ROLE_PREFIX)) != 0)
        return NULL;
    return v->name + strlen(ROLE_PREFIX);
}

/* ---- generic checks ------------------------------------------------------------------ */

/* Fails on the first key of obj that is not in allowed (NULL-terminated). */
static hansa_err check_fields(const struct walk *w, const char *where, json_t *obj,
                              const char *const *allowed)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] != NULL && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known)
            return fail(w, "%s: unknown field \"%s\"", where, key);
    }
    return HANSA_OK;
}

/* A required string member. */
static hansa_err get_string(const struct walk *w, const char *where, json_t *obj, const char *field,
                            const char **out)
{
    json_t *v = json_object_get(obj, field);
    if (v == NULL)
        return fail(w, "%s: missing field \"%s\"", where, field);
    if (!json_is_string(v))
        return fail(w, "%s: \"%s\" must be a string", where, field);
    *out = json_string_value(v);
    return HANSA_OK;
}

static hansa_err dup_string(const struct walk *w, const char *s, char **out)
{
    *out = strdup(s);
    if (*out == NULL) {
        config_why(w->why, w->why_len, "%s: out of memory", w->name);
        return HANSA_ENOMEM;
    }
    return HANSA_OK;
}

static hansa_err parse_key_hex(const struct walk *w, const char *where, const char *field,
                               json_t *v, ProtobufCBinaryData *out)
{
    if (!json_is_string(v))
        return fail(w, "%s: %s must be a string of 64 hex digits", where, field);
    uint8_t key[WIRE_PUBKEY_BYTES];
    if (wire_hex_decode(json_string_value(v), key, sizeof key) != HANSA_OK)
        return fail(w, "%s: %s must be 64 hex digits (a 32-byte Ed25519 public key), got \"%.80s\"",
                    where, field, json_string_value(v));
    if (!wire_pubkey_valid(key))
        return fail(w,
                    "%s: %s %s is not a valid Ed25519 public key (not on the curve, of small "
                    "order or outside the prime-order subgroup)",
                    where, field, json_string_value(v));
    out->data = malloc(sizeof key);
    if (out->data == NULL) {
        config_why(w->why, w->why_len, "%s: out of memory", w->name);
        return HANSA_ENOMEM;
    }
    memcpy(out->data, key, sizeof key);
    out->len = sizeof key;
    return HANSA_OK;
}

/* ---- parameters -------------------------------------------------------------------------- */

/* Range of a parameter's protobuf type, as JSON integers can carry it. */
static bool param_range(const ProtobufCFieldDescriptor *f, json_int_t *lo, json_int_t *hi)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *lo = INT32_MIN;
        *hi = INT32_MAX;
        return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *lo = 0;
        *hi = UINT32_MAX;
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *lo = INT64_MIN;
        *hi = INT64_MAX;
        return true;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *lo = 0;
        *hi = INT64_MAX; /* JSON integers are int64 in jansson */
        return true;
    default:
        return false;
    }
}

static void param_set(Hansa__Parameters *p, const ProtobufCFieldDescriptor *f, json_int_t v)
{
    void *at = (char *)p + f->offset;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *(int32_t *)at = (int32_t)v;
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)at = (uint32_t)v;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)at = (int64_t)v;
        break;
    default: /* UINT64, FIXED64: param_range admitted nothing else */
        *(uint64_t *)at = (uint64_t)v;
        break;
    }
}

static hansa_err parse_parameters(const struct walk *w, json_t *obj, Hansa__Parameters *p)
{
    ledger_params_default(p);
    if (obj == NULL)
        return HANSA_OK;
    if (!json_is_object(obj))
        return fail(w, "\"parameters\" must be an object");
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(&hansa__parameters__descriptor, key);
        json_int_t lo, hi;
        if (f == NULL)
            return fail(w, "parameters: unknown field \"%s\"", key);
        if (f->label != PROTOBUF_C_LABEL_NONE || !param_range(f, &lo, &hi))
            return fail(w, "parameters: \"%s\" has a protobuf type this loader cannot read", key);
        if (!json_is_integer(val))
            return fail(w, "parameters: \"%s\" must be an integer", key);
        json_int_t v = json_integer_value(val);
        if (v < lo || v > hi)
            return fail(w,
                        "parameters: \"%s\" = %" JSON_INTEGER_FORMAT
                        " is out of range %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT,
                        key, v, lo, hi);
        param_set(p, f, v);
    }
    return HANSA_OK;
}

/* ---- parties ------------------------------------------------------------------------------- */

static void party_free(Hansa__Party *p)
{
    if (p == NULL)
        return;
    free(p->id);
    free(p->display_name);
    free(p->country);
    free(p->roles);
    for (size_t i = 0; p->keys != NULL && i < p->n_keys; i++)
        free(p->keys[i].data);
    free(p->keys);
    free(p);
}

static int cmp_role(const void *a, const void *b)
{
    Hansa__Role x = *(const Hansa__Role *)a, y = *(const Hansa__Role *)b;
    return (x > y) - (x < y);
}

static hansa_err parse_roles(const struct walk *w, const char *where, json_t *arr, Hansa__Party *p)
{
    if (arr == NULL)
        return fail(w, "%s: missing field \"roles\"", where);
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n == 0 || n > GENESIS_PARTY_ROLES_MAX)
        return fail(w, "%s: \"roles\" must be an array of 1-%u role names", where,
                    GENESIS_PARTY_ROLES_MAX);
    p->roles = calloc(n, sizeof *p->roles);
    if (p->roles == NULL)
        return fail(w, "%s: out of memory", where);
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(arr, i);
        if (!json_is_string(r))
            return fail(w, "%s: \"roles\"[%zu] must be a string", where, i);
        Hansa__Role role = genesis_role_parse(json_string_value(r));
        if (role == HANSA__ROLE__ROLE_UNSPECIFIED)
            return fail(w,
                        "%s: \"roles\"[%zu]: unknown role \"%.40s\" (MERCHANT, PLATFORM, PAYMENT, "
                        "LOGISTICS, BANK, REGULATOR or ADMIN)",
                        where, i, json_string_value(r));
        for (size_t j = 0; j < i; j++)
            if (p->roles[j] == role)
                return fail(w, "%s: \"roles\" lists %s twice", where, json_string_value(r));
        p->roles[i] = role;
        p->n_roles = i + 1;
    }
    qsort(p->roles, p->n_roles, sizeof *p->roles, cmp_role);
    return HANSA_OK;
}

static hansa_err parse_keys(const struct walk *w, const char *where, json_t *arr, Hansa__Party *p)
{
    if (arr == NULL)
        return fail(w, "%s: missing field \"keys\"", where);
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n == 0 || n > GENESIS_PARTY_KEYS_MAX)
        return fail(w, "%s: \"keys\" must be an array of 1-%u public keys", where,
                    GENESIS_PARTY_KEYS_MAX);
    p->keys = calloc(n, sizeof *p->keys);
    if (p->keys == NULL)
        return fail(w, "%s: out of memory", where);
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof field, "\"keys\"[%zu]", i);
        hansa_err rv = parse_key_hex(w, where, field, json_array_get(arr, i), &p->keys[i]);
        if (rv != HANSA_OK)
            return rv;
        p->n_keys = i + 1;
    }
    return HANSA_OK;
}

static bool country_valid(const char *c)
{
    return strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
}

static hansa_err parse_party_strings(const struct walk *w, const char *where, json_t *obj,
                                     Hansa__Party *p)
{
    const char *id = NULL, *name = NULL, *country = NULL;
    hansa_err rv;
    if ((rv = get_string(w, where, obj, "id", &id)) != HANSA_OK)
        return rv;
    if (!wire_id_valid(id))
        return fail(w, "%s: \"id\" \"%.80s\" is not 1-%u characters of A-Z a-z 0-9 . _ -", where,
                    id, HANSA_ID_LEN_MAX);
    if ((rv = dup_string(w, id, &p->id)) != HANSA_OK)
        return rv;
    if ((rv = get_string(w, where, obj, "display_name", &name)) != HANSA_OK)
        return rv;
    size_t name_len = strlen(name);
    if (name_len == 0 || name_len > GENESIS_DISPLAY_NAME_BYTES_MAX)
        return fail(w, "%s: \"display_name\" must be 1-%u bytes", where,
                    GENESIS_DISPLAY_NAME_BYTES_MAX);
    if ((rv = dup_string(w, name, &p->display_name)) != HANSA_OK)
        return rv;
    if ((rv = get_string(w, where, obj, "country", &country)) != HANSA_OK)
        return rv;
    if (!country_valid(country))
        return fail(w, "%s: \"country\" \"%.16s\" is not an ISO 3166-1 alpha-2 code like \"CN\"",
                    where, country);
    return dup_string(w, country, &p->country);
}

static hansa_err parse_party(const struct walk *w, size_t index, json_t *obj, Hansa__Party **out)
{
    static const char *const fields[] = {"id", "display_name", "country", "roles", "keys", NULL};
    char where[HANSA_ID_LEN_MAX + 32];
    const char *id = json_string_value(json_object_get(obj, "id"));
    if (id != NULL && wire_id_valid(id))
        snprintf(where, sizeof where, "party %s", id);
    else
        snprintf(where, sizeof where, "parties[%zu]", index);
    if (!json_is_object(obj))
        return fail(w, "%s must be an object", where);
    hansa_err rv = check_fields(w, where, obj, fields);
    if (rv != HANSA_OK)
        return rv;
    Hansa__Party *p = malloc(sizeof *p);
    if (p == NULL)
        return fail(w, "%s: out of memory", where);
    hansa__party__init(p);
    p->id = p->display_name = p->country = NULL; /* freed by party_free */
    p->status = HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE;
    *out = p;
    if ((rv = parse_party_strings(w, where, obj, p)) != HANSA_OK)
        return rv;
    if ((rv = parse_roles(w, where, json_object_get(obj, "roles"), p)) != HANSA_OK)
        return rv;
    return parse_keys(w, where, json_object_get(obj, "keys"), p);
}

/* ---- validators ------------------------------------------------------------------------------ */

static void validator_free(Hansa__Validator *v)
{
    if (v == NULL)
        return;
    free(v->id);
    free(v->key.data);
    free(v->operator_party);
    free(v);
}

static hansa_err parse_validator(const struct walk *w, size_t index, json_t *obj,
                                 Hansa__Validator **out)
{
    static const char *const fields[] = {"id", "key", "operator_party", NULL};
    char where[HANSA_ID_LEN_MAX + 32];
    const char *id = json_string_value(json_object_get(obj, "id"));
    if (id != NULL && wire_id_valid(id))
        snprintf(where, sizeof where, "validator %s", id);
    else
        snprintf(where, sizeof where, "validators[%zu]", index);
    if (!json_is_object(obj))
        return fail(w, "%s must be an object", where);
    hansa_err rv = check_fields(w, where, obj, fields);
    if (rv != HANSA_OK)
        return rv;
    Hansa__Validator *v = malloc(sizeof *v);
    if (v == NULL)
        return fail(w, "%s: out of memory", where);
    hansa__validator__init(v);
    v->id = v->operator_party = NULL;
    *out = v;
    if ((rv = get_string(w, where, obj, "id", &id)) != HANSA_OK)
        return rv;
    if (!wire_id_valid(id))
        return fail(w, "%s: \"id\" \"%.80s\" is not 1-%u characters of A-Z a-z 0-9 . _ -", where,
                    id, HANSA_ID_LEN_MAX);
    if ((rv = dup_string(w, id, &v->id)) != HANSA_OK)
        return rv;
    json_t *key = json_object_get(obj, "key");
    if (key == NULL)
        return fail(w, "%s: missing field \"key\"", where);
    if ((rv = parse_key_hex(w, where, "\"key\"", key, &v->key)) != HANSA_OK)
        return rv;
    json_t *op = json_object_get(obj, "operator_party");
    const char *op_id = op == NULL ? "" : json_string_value(op);
    if (op_id == NULL || (op_id[0] != '\0' && !wire_id_valid(op_id)))
        return fail(w, "%s: \"operator_party\" must be a party id or \"\"", where);
    return dup_string(w, op_id, &v->operator_party);
}

/* ---- uniqueness ---------------------------------------------------------------------------------
 */

struct key_ref {
    const uint8_t *key;
    size_t owner; /* index of the party or validator */
};

static int cmp_key_ref(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    int c = memcmp(x->key, y->key, WIRE_PUBKEY_BYTES);
    return c != 0 ? c : (x->owner > y->owner) - (x->owner < y->owner);
}

struct id_ref {
    const char *id;
    size_t index;
};

static int cmp_id_ref(const void *a, const void *b)
{
    const struct id_ref *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

static hansa_err unique_party_ids(const struct walk *w, const struct genesis_doc *g)
{
    if (g->n_parties < 2)
        return HANSA_OK;
    struct id_ref *refs = calloc(g->n_parties, sizeof *refs);
    if (refs == NULL)
        return fail(w, "out of memory");
    for (size_t i = 0; i < g->n_parties; i++)
        refs[i] = (struct id_ref){g->parties[i]->id, i};
    qsort(refs, g->n_parties, sizeof *refs, cmp_id_ref);
    hansa_err rv = HANSA_OK;
    for (size_t i = 1; i < g->n_parties && rv == HANSA_OK; i++)
        if (strcmp(refs[i].id, refs[i - 1].id) == 0)
            rv = fail(w, "party %s appears twice (parties[%zu] and parties[%zu])", refs[i].id,
                      refs[i - 1].index, refs[i].index);
    free(refs);
    return rv;
}

static hansa_err unique_party_keys(const struct walk *w, const struct genesis_doc *g)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n_parties; i++)
        n += g->parties[i]->n_keys;
    if (n < 2)
        return HANSA_OK;
    struct key_ref *refs = calloc(n, sizeof *refs);
    if (refs == NULL)
        return fail(w, "out of memory");
    n = 0;
    for (size_t i = 0; i < g->n_parties; i++)
        for (size_t k = 0; k < g->parties[i]->n_keys; k++)
            refs[n++] = (struct key_ref){g->parties[i]->keys[k].data, i};
    qsort(refs, n, sizeof *refs, cmp_key_ref);
    hansa_err rv = HANSA_OK;
    for (size_t i = 1; i < n && rv == HANSA_OK; i++) {
        if (memcmp(refs[i].key, refs[i - 1].key, WIRE_PUBKEY_BYTES) != 0)
            continue;
        char hex[2 * WIRE_PUBKEY_BYTES + 1];
        wire_hex_encode(refs[i].key, WIRE_PUBKEY_BYTES, hex);
        const char *a = g->parties[refs[i - 1].owner]->id, *b = g->parties[refs[i].owner]->id;
        if (refs[i].owner == refs[i - 1].owner)
            rv = fail(w, "party %s lists key %s twice", a, hex);
        else
            rv = fail(w, "key %s is registered to both party %s and party %s", hex, a, b);
    }
    free(refs);
    return rv;
}

/* Validators are at most 64: comparing all pairs is fine. */
static hansa_err check_validators(const struct walk *w, const struct genesis_doc *g)
{
    for (size_t i = 0; i < g->n_validators; i++) {
        const Hansa__Validator *v = g->validators[i];
        for (size_t j = 0; j < i; j++) {
            if (strcmp(v->id, g->validators[j]->id) == 0)
                return fail(w, "validator %s appears twice", v->id);
            if (memcmp(v->key.data, g->validators[j]->key.data, WIRE_PUBKEY_BYTES) == 0)
                return fail(w, "validators %s and %s have the same key", g->validators[j]->id,
                            v->id);
        }
        if (v->operator_party[0] == '\0')
            continue;
        bool found = false;
        for (size_t p = 0; p < g->n_parties && !found; p++)
            found = strcmp(g->parties[p]->id, v->operator_party) == 0;
        if (!found)
            return fail(w, "validator %s: \"operator_party\" %s is not a party of this genesis",
                        v->id, v->operator_party);
    }
    return HANSA_OK;
}

/* ---- document ----------------------------------------------------------------------------------
 */

static hansa_err parse_header(const struct walk *w, json_t *root, struct genesis_doc *g)
{
    static const char *const fields[] = {"chain_id", "genesis_time_ms", "parameters",
                                         "parties",  "validators",      NULL};
    if (!json_is_object(root))
        return fail(w, "the document must be a JSON object");
    hansa_err rv = check_fields(w, "top level", root, fields);
    const char *chain_id = NULL;
    if (rv == HANSA_OK)
        rv = get_string(w, "top level", root, "chain_id", &chain_id);
    if (rv != HANSA_OK)
        return rv;
    if (!wire_chain_id_valid(chain_id))
        return fail(w, "\"chain_id\" \"%.80s\" is not 1-%u characters of A-Z a-z 0-9 . _ -",
                    chain_id, HANSA_CHAIN_ID_LEN_MAX);
    strcpy(g->chain_id, chain_id);
    json_t *t = json_object_get(root, "genesis_time_ms");
    if (t == NULL)
        return fail(w, "top level: missing field \"genesis_time_ms\"");
    if (!json_is_integer(t) || json_integer_value(t) < 0)
        return fail(w, "\"genesis_time_ms\" must be a non-negative integer (ms since 1970 UTC)");
    g->time_ms = (uint64_t)json_integer_value(t);
    return parse_parameters(w, json_object_get(root, "parameters"), &g->params);
}

static hansa_err parse_lists(const struct walk *w, json_t *root, struct genesis_doc *g)
{
    json_t *parties = json_object_get(root, "parties");
    json_t *validators = json_object_get(root, "validators");
    if (!json_is_array(parties) || json_array_size(parties) > GENESIS_PARTIES_MAX)
        return fail(w, "\"parties\" must be an array of at most %u parties", GENESIS_PARTIES_MAX);
    if (!json_is_array(validators) || json_array_size(validators) == 0 ||
        json_array_size(validators) > GENESIS_VALIDATORS_MAX)
        return fail(w, "\"validators\" must be an array of 1-%u validators",
                    GENESIS_VALIDATORS_MAX);
    size_t np = json_array_size(parties), nv = json_array_size(validators);
    g->parties = calloc(np ? np : 1, sizeof *g->parties);
    g->validators = calloc(nv, sizeof *g->validators);
    if (g->parties == NULL || g->validators == NULL)
        return fail(w, "out of memory");
    hansa_err rv = HANSA_OK;
    for (size_t i = 0; i < np && rv == HANSA_OK; i++) {
        g->n_parties = i + 1; /* so that a half-built party is freed */
        rv = parse_party(w, i, json_array_get(parties, i), &g->parties[i]);
    }
    for (size_t i = 0; i < nv && rv == HANSA_OK; i++) {
        g->n_validators = i + 1;
        rv = parse_validator(w, i, json_array_get(validators, i), &g->validators[i]);
    }
    if (rv == HANSA_OK)
        rv = unique_party_ids(w, g);
    if (rv == HANSA_OK)
        rv = unique_party_keys(w, g);
    if (rv == HANSA_OK)
        rv = check_validators(w, g);
    return rv;
}

hansa_err genesis_parse(const char *text, size_t len, const char *name, struct genesis_doc *g,
                        char *why, size_t why_len)
{
    HANSA_ASSERT(text != NULL && g != NULL);
    memset(g, 0, sizeof *g);
    struct walk w = {.name = name ? name : "genesis", .why = why, .why_len = why_len};
    if (len > GENESIS_FILE_BYTES_MAX) {
        config_why(why, why_len, "%s: %zu bytes; a genesis file is at most %u", w.name, len,
                   GENESIS_FILE_BYTES_MAX);
        return HANSA_ETOOLARGE;
    }
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        config_why(why, why_len, "%s:%d:%d: %s", w.name, jerr.line, jerr.column, jerr.text);
        return HANSA_EFORMAT;
    }
    hansa_err rv = parse_header(&w, root, g);
    if (rv == HANSA_OK)
        rv = parse_lists(&w, root, g);
    json_decref(root);
    if (rv != HANSA_OK) {
        genesis_doc_free(g);
        return rv;
    }
    wire_sha256(text, len, g->file_hash);
    HANSA_ASSERT(g->n_validators >= 1 && g->n_validators <= GENESIS_VALIDATORS_MAX);
    return HANSA_OK;
}

hansa_err genesis_load(const char *path, struct genesis_doc *g, char *why, size_t why_len)
{
    HANSA_ASSERT(path != NULL && g != NULL);
    memset(g, 0, sizeof *g);
    char *text = NULL;
    size_t len = 0;
    hansa_err rv = config_file_read(path, GENESIS_FILE_BYTES_MAX, &text, &len, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    rv = genesis_parse(text, len, path, g, why, why_len);
    free(text);
    return rv;
}

void genesis_doc_free(struct genesis_doc *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; g->parties != NULL && i < g->n_parties; i++)
        party_free(g->parties[i]);
    free(g->parties);
    for (size_t i = 0; g->validators != NULL && i < g->n_validators; i++)
        validator_free(g->validators[i]);
    free(g->validators);
    memset(g, 0, sizeof *g);
}

hansa_err genesis_hash_file(const char *path, uint8_t hash[WIRE_HASH_BYTES], char *why,
                            size_t why_len)
{
    char *text = NULL;
    size_t len = 0;
    hansa_err rv = config_file_read(path, GENESIS_FILE_BYTES_MAX, &text, &len, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    wire_sha256(text, len, hash);
    free(text);
    return HANSA_OK;
}

/* ---- views
 * ------------------------------------------------------------------------------------------ */

struct ledger_genesis genesis_ledger(const struct genesis_doc *g)
{
    HANSA_ASSERT(g != NULL);
    return (struct ledger_genesis){
        .chain_id = g->chain_id,
        .time_ms = g->time_ms,
        .params = &g->params,
        .parties = (Hansa__Party *const *)g->parties,
        .n_parties = g->n_parties,
    };
}

void genesis_validator_set(const struct genesis_doc *g, Hansa__ValidatorSet *set)
{
    HANSA_ASSERT(g != NULL && set != NULL);
    hansa__validator_set__init(set);
    set->validators = g->validators;
    set->n_validators = g->n_validators;
}

const Hansa__Validator *genesis_validator(const struct genesis_doc *g, const char *id)
{
    for (size_t i = 0; i < g->n_validators; i++)
        if (strcmp(g->validators[i]->id, id) == 0)
            return g->validators[i];
    return NULL;
}
