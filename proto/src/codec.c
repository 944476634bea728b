/*
 * Decoding and encoding with limits.
 *
 * Three defences against hostile bytes, in the order they apply:
 *   1. the size limit of the message type, checked before anything is
 *      allocated;
 *   2. a heap budget for protobuf-c (HANSA_DECODE_EXPANSION_MAX x input),
 *      enforced by a counting allocator, so that a small message of many
 *      empty sub-messages cannot make the node allocate 40x its size;
 *   3. for messages that are hashed or signed, canonical form: re-encoding
 *      the decoded message must give back the input byte for byte, and no
 *      message at any depth may carry unknown fields.
 * The schema has no recursive message types, so protobuf-c's recursion depth
 * is bounded by the schema, not by the input.
 */
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "hansa/wire.h"

struct heap_budget {
    size_t used_bytes;
    size_t limit_bytes;
    bool exceeded;
};

static void *budget_alloc(void *data, size_t size)
{
    struct heap_budget *b = data;
    if (size > b->limit_bytes - b->used_bytes) {
        b->exceeded = true;
        return NULL;
    }
    b->used_bytes += size;
    return malloc(size);
}

static void budget_free(void *data, void *ptr)
{
    (void)data;
    free(ptr);
}

/* Depth guard for the unknown-field walk: the schema nests a few levels. */
#define UNKNOWN_WALK_DEPTH_MAX 16

static bool has_unknown_fields(const ProtobufCMessage *m, int depth)
{
    if (m == NULL)
        return false;
    if (m->n_unknown_fields != 0 || depth > UNKNOWN_WALK_DEPTH_MAX)
        return true;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *base = (const char *)m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (has_unknown_fields(items[k], depth + 1))
                    return true;
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
            if (which != f->id)
                continue;
        }
        const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)(base + f->offset);
        if (has_unknown_fields(sub, depth + 1))
            return true;
    }
    return false;
}

static hansa_err check_canonical(const ProtobufCMessage *m, const uint8_t *buf, size_t len)
{
    if (has_unknown_fields(m, 0))
        return HANSA_ENONCANONICAL;
    if (protobuf_c_message_get_packed_size(m) != len)
        return HANSA_ENONCANONICAL;
    uint8_t stack[HANSA_SIGN_STACK_BYTES];
    uint8_t *tmp = len <= sizeof stack ? stack : malloc(len);
    if (tmp == NULL)
        return HANSA_ENOMEM;
    size_t n = protobuf_c_message_pack(m, tmp);
    hansa_err rv =
        (n == len && (len == 0 || memcmp(tmp, buf, len) == 0)) ? HANSA_OK : HANSA_ENONCANONICAL;
    if (tmp != stack)
        free(tmp);
    return rv;
}

hansa_err wire_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                      size_t max_len, unsigned flags, ProtobufCMessage **out)
{
    HANSA_ASSERT(desc != NULL && out != NULL);
    *out = NULL;
    if (len > max_len)
        return HANSA_ETOOLARGE;
    if (buf == NULL && len != 0)
        return HANSA_EINVAL;

    struct heap_budget budget = {
        .limit_bytes = len * HANSA_DECODE_EXPANSION_MAX + HANSA_DECODE_HEAP_SLACK_BYTES,
    };
    ProtobufCAllocator alloc = {
        .alloc = budget_alloc, .free = budget_free, .allocator_data = &budget};
    static const uint8_t empty[1];
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &alloc, len, len ? buf : empty);
    if (m == NULL)
        return budget.exceeded ? HANSA_ETOOLARGE : HANSA_EMALFORMED;

    if (flags & WIRE_CANONICAL) {
        hansa_err rv = check_canonical(m, buf, len);
        if (rv != HANSA_OK) {
            wire_free(m);
            return rv;
        }
    }
    *out = m;
    return HANSA_OK;
}

void wire_free(void *msg)
{
    /* Allocated with malloc by budget_alloc; the default allocator frees
     * with free(). */
    if (msg != NULL)
        protobuf_c_message_free_unpacked(msg, NULL);
}

hansa_err wire_encode(const ProtobufCMessage *msg, size_t max_len, uint8_t **out, size_t *out_len)
{
    HANSA_ASSERT(msg != NULL && out != NULL && out_len != NULL);
    *out = NULL;
    *out_len = 0;
    size_t n = protobuf_c_message_get_packed_size(msg);
    if (n > max_len)
        return HANSA_ETOOLARGE;
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return HANSA_ENOMEM;
    size_t written = protobuf_c_message_pack(msg, buf);
    HANSA_ASSERT(written == n);
    *out = buf;
    *out_len = n;
    return HANSA_OK;
}

#define TYPED_DECODER(fn, type, desc, max, flags)                                                  \
    hansa_err fn(const uint8_t *buf, size_t len, type **out)                                       \
    {                                                                                              \
        return wire_decode(&desc, buf, len, max, flags, (ProtobufCMessage **)out);                 \
    }

/* Hashed or signed: canonical. Containers: lenient (their parts are checked
 * where they are hashed or signed). */
TYPED_DECODER(wire_tx_decode, Hansa__Tx, hansa__tx__descriptor, HANSA_TX_BYTES_MAX, WIRE_CANONICAL)
TYPED_DECODER(wire_tx_body_decode, Hansa__TxBody, hansa__tx_body__descriptor, HANSA_TX_BYTES_MAX,
              WIRE_CANONICAL)
TYPED_DECODER(wire_block_header_decode, Hansa__BlockHeader, hansa__block_header__descriptor,
              HANSA_BLOCK_BYTES_MAX, WIRE_CANONICAL)
TYPED_DECODER(wire_vote_decode, Hansa__Vote, hansa__vote__descriptor, HANSA_VOTE_BYTES_MAX,
              WIRE_CANONICAL)
TYPED_DECODER(wire_proposal_decode, Hansa__Proposal, hansa__proposal__descriptor,
              HANSA_VOTE_BYTES_MAX, WIRE_CANONICAL)
TYPED_DECODER(wire_query_decode, Hansa__Query, hansa__query__descriptor, HANSA_QUERY_BYTES_MAX,
              WIRE_CANONICAL)
TYPED_DECODER(wire_block_decode, Hansa__Block, hansa__block__descriptor, HANSA_BLOCK_BYTES_MAX,
              WIRE_LENIENT)
TYPED_DECODER(wire_request_decode, Hansa__Request, hansa__request__descriptor,
              HANSA_REQUEST_BYTES_MAX, WIRE_LENIENT)
TYPED_DECODER(wire_response_decode, Hansa__Response, hansa__response__descriptor,
              HANSA_RESPONSE_BYTES_MAX, WIRE_LENIENT)
TYPED_DECODER(wire_consensus_decode, Hansa__ConsensusMessage, hansa__consensus_message__descriptor,
              HANSA_PEER_MESSAGE_BYTES_MAX, WIRE_LENIENT)
TYPED_DECODER(wire_event_decode, Hansa__Event, hansa__event__descriptor, HANSA_EVENT_BYTES_MAX,
              WIRE_LENIENT)

/* ---- one field without decoding the message ---- */

/* A varint at buf[*at..len); false when truncated or over 10 bytes. */
static bool read_varint(const uint8_t *buf, size_t len, size_t *at, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (*at >= len)
            return false;
        uint8_t b = buf[(*at)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0)
            return true;
    }
    return false;
}

hansa_err wire_field_bytes(const uint8_t *buf, size_t len, uint32_t field, size_t n,
                           const uint8_t **out, size_t *out_len)
{
    HANSA_ASSERT((buf != NULL || len == 0) && out != NULL && out_len != NULL);
    size_t at = 0, seen = 0;
    while (at < len) {
        uint64_t key, v;
        if (!read_varint(buf, len, &at, &key) || (key >> 3) == 0)
            return HANSA_EMALFORMED;
        uint32_t type = (uint32_t)(key & 7);
        switch (type) {
        case 0: /* varint */
            if (!read_varint(buf, len, &at, &v))
                return HANSA_EMALFORMED;
            break;
        case 1: /* 64-bit */
            if (len - at < 8)
                return HANSA_EMALFORMED;
            at += 8;
            break;
        case 5: /* 32-bit */
            if (len - at < 4)
                return HANSA_EMALFORMED;
            at += 4;
            break;
        case 2: /* length-delimited */
            if (!read_varint(buf, len, &at, &v) || v > len - at)
                return HANSA_EMALFORMED;
            if ((key >> 3) == field && seen++ == n) {
                *out = buf + at;
                *out_len = (size_t)v;
                return HANSA_OK;
            }
            at += (size_t)v;
            break;
        default: /* groups (3, 4) are not used by hansa.proto */
            return HANSA_EMALFORMED;
        }
        if ((key >> 3) == field && type != 2)
            return HANSA_EMALFORMED;
    }
    return HANSA_ENOENT;
}
