/*
 * genesis.json writer (format in genesis.h).
 *
 * The document is built as a jansson tree in a fixed order — top-level
 * fields as in genesis.h, Parameters fields in proto field order, parties
 * and validators in the doc's order — and dumped with JSON_PRESERVE_ORDER,
 * so the same doc always gives the same bytes (every node of a test
 * network gets one text, and genesis hashes compare equal). Before the text
 * is handed out it is parsed back with genesis_parse: whatever is written
 * loads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fileio.h"
#include "genesis.h"
#include "hansa/assert.h"

/* false when the value does not fit a JSON integer (a uint64 above
 * INT64_MAX). */
static bool param_get(const Hansa__Parameters *p, const ProtobufCFieldDescriptor *f, json_int_t *v)
{
    const void *at = (const char *)p + f->offset;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *v = *(const int32_t *)at;
        return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *v = *(const uint32_t *)at;
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *v = *(const int64_t *)at;
        return true;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *v = (json_int_t) * (const uint64_t *)at;
        return *(const uint64_t *)at <= INT64_MAX;
    default:
        return false;
    }
}

/* ---- writer -------------------------------------------------------------------------------------
 */

/* json_array_append_new / json_object_set_new steal the reference even on
 * failure; a NULL value makes them fail, which encode_* report as ENOMEM. */
static json_t *encode_parameters(const Hansa__Parameters *p, char *why, size_t why_len)
{
    json_t *obj = json_object();
    const ProtobufCMessageDescriptor *d = &hansa__parameters__descriptor;
    for (unsigned i = 0; obj != NULL && i < d->n_fields; i++) {
        json_int_t v;
        if (!param_get(p, &d->fields[i], &v)) {
            config_why(why, why_len, "parameter %s cannot be written as a JSON integer",
                       d->fields[i].name);
            json_decref(obj);
            return NULL;
        }
        if (json_object_set_new(obj, d->fields[i].name, json_integer(v)) != 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

static json_t *encode_key(const ProtobufCBinaryData *k)
{
    if (k->len != WIRE_PUBKEY_BYTES || k->data == NULL)
        return NULL;
    char hex[2 * WIRE_PUBKEY_BYTES + 1];
    wire_hex_encode(k->data, k->len, hex);
    return json_string(hex);
}

static json_t *encode_party(const Hansa__Party *p)
{
    json_t *roles = json_array(), *keys = json_array();
    for (size_t i = 0; roles != NULL && i < p->n_roles; i++) {
        const char *name = genesis_role_name(p->roles[i]);
        if (json_array_append_new(roles, name ? json_string(name) : NULL) != 0) {
            json_decref(roles);
            roles = NULL;
        }
    }
    for (size_t i = 0; keys != NULL && i < p->n_keys; i++)
        if (json_array_append_new(keys, encode_key(&p->keys[i])) != 0) {
            json_decref(keys);
            keys = NULL;
        }
    if (p->id == NULL || p->display_name == NULL || p->country == NULL || roles == NULL ||
        keys == NULL) {
        json_decref(roles);
        json_decref(keys);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", p->id, "display_name", p->display_name,
                     "country", p->country, "roles", roles, "keys", keys);
}

static json_t *encode_validator(const Hansa__Validator *v)
{
    json_t *key = encode_key(&v->key);
    if (v->id == NULL || key == NULL) {
        json_decref(key);
        return NULL;
    }
    return json_pack("{s:s, s:o, s:s}", "id", v->id, "key", key, "operator_party",
                     v->operator_party ? v->operator_party : "");
}

static json_t *encode_doc(const struct genesis_doc *g, char *why, size_t why_len)
{
    json_t *params = encode_parameters(&g->params, why, why_len);
    json_t *parties = json_array(), *validators = json_array();
    bool ok = params != NULL && parties != NULL && validators != NULL;
    if (g->time_ms > INT64_MAX) {
        config_why(why, why_len, "genesis_time_ms %" PRIu64 " is not a JSON integer", g->time_ms);
        ok = false;
    }
    for (size_t i = 0; ok && i < g->n_parties; i++)
        ok = json_array_append_new(parties, encode_party(g->parties[i])) == 0;
    for (size_t i = 0; ok && i < g->n_validators; i++)
        ok = json_array_append_new(validators, encode_validator(g->validators[i])) == 0;
    if (!ok) {
        json_decref(params);
        json_decref(parties);
        json_decref(validators);
        return NULL;
    }
    return json_pack("{s:s, s:I, s:o, s:o, s:o}", "chain_id", g->chain_id, "genesis_time_ms",
                     (json_int_t)g->time_ms, "parameters", params, "parties", parties, "validators",
                     validators);
}

hansa_err genesis_encode(const struct genesis_doc *g, char **out, size_t *out_len, char *why,
                         size_t why_len)
{
    HANSA_ASSERT(g != NULL && out != NULL && out_len != NULL);
    *out = NULL;
    *out_len = 0;
    char detail[256] = "";
    json_t *doc = encode_doc(g, detail, sizeof detail);
    char *body = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (body == NULL) {
        config_why(why, why_len, "cannot encode the genesis document: %s",
                   detail[0] ? detail
                             : "a party or validator lacks a field or has a key that is not 32 "
                               "bytes (or memory ran out)");
        return HANSA_EINVAL;
    }
    size_t n = strlen(body);
    char *text = realloc(body, n + 2);
    if (text == NULL) {
        free(body);
        config_why(why, why_len, "out of memory encoding the genesis document");
        return HANSA_ENOMEM;
    }
    memcpy(text + n, "\n", 2);
    /* Whatever is written must load: check it with the loader itself. */
    struct genesis_doc back;
    hansa_err rv = genesis_parse(text, n + 1, "genesis to write", &back, why, why_len);
    genesis_doc_free(&back);
    if (rv != HANSA_OK) {
        free(text);
        return rv == HANSA_ENOMEM ? rv : HANSA_EINVAL;
    }
    *out = text;
    *out_len = n + 1;
    return HANSA_OK;
}

hansa_err genesis_write(const char *path, const struct genesis_doc *g, char *why, size_t why_len)
{
    char *text = NULL;
    size_t len = 0;
    hansa_err rv = genesis_encode(g, &text, &len, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    rv = config_file_create(path, text, len, 0644, why, why_len);
    free(text);
    return rv;
}
