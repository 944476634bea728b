/* See signer.h. */
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "log.h"
#include "signer.h"

static const uint8_t signer_key[] = "signer";

hansa_err signer_open(struct signer *s, struct store *store, const struct wire_keypair *key,
                      const char *chain_id)
{
    memset(s, 0, sizeof *s);
    s->store = store;
    s->key = key;
    s->chain_id = chain_id;
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = store_get(store, STORE_META, signer_key, sizeof signer_key - 1, &val, &len);
    if (rv == HANSA_ENOENT)
        return HANSA_OK;
    if (rv != HANSA_OK)
        return rv;
    Hansa__SignerState *st = NULL;
    rv = wire_decode(&hansa__signer_state__descriptor, val, len, HANSA_PEER_MESSAGE_BYTES_MAX,
                     WIRE_LENIENT, (ProtobufCMessage **)&st);
    free(val);
    if (rv != HANSA_OK || st->signature.len != WIRE_SIG_BYTES) {
        wire_free(st);
        return HANSA_EFORMAT;
    }
    s->height = st->height;
    s->round = st->round;
    s->step = st->step;
    s->bytes = malloc(st->signed_bytes.len ? st->signed_bytes.len : 1);
    if (s->bytes == NULL) {
        wire_free(st);
        return HANSA_ENOMEM;
    }
    memcpy(s->bytes, st->signed_bytes.data, st->signed_bytes.len);
    s->len = st->signed_bytes.len;
    memcpy(s->sig, st->signature.data, WIRE_SIG_BYTES);
    wire_free(st);
    return HANSA_OK;
}

void signer_close(struct signer *s)
{
    if (s == NULL)
        return;
    free(s->bytes);
    memset(s, 0, sizeof *s);
}

/* <0, 0, >0 as (h, r, step) is before, at, after the last signature. */
static int position_cmp(const struct signer *s, uint64_t height, uint32_t round,
                        Hansa__ConsensusStep step)
{
    if (height != s->height)
        return height < s->height ? -1 : 1;
    if (round != s->round)
        return round < s->round ? -1 : 1;
    if (step != s->step)
        return step < s->step ? -1 : 1;
    return 0;
}

hansa_err signer_sign(struct signer *s, uint64_t height, uint32_t round, Hansa__ConsensusStep step,
                      const char *tag, const uint8_t *payload, size_t len,
                      uint8_t sig[WIRE_SIG_BYTES])
{
    HANSA_ASSERT(step >= HANSA__CONSENSUS_STEP__CONSENSUS_STEP_PROPOSE &&
                 step <= HANSA__CONSENSUS_STEP__CONSENSUS_STEP_PRECOMMIT);
    if (s->step != HANSA__CONSENSUS_STEP__CONSENSUS_STEP_UNSPECIFIED) {
        int c = position_cmp(s, height, round, step);
        if (c == 0 && len == s->len && memcmp(payload, s->bytes, len) == 0) {
            memcpy(sig, s->sig, WIRE_SIG_BYTES); /* re-send what was sent */
            return HANSA_OK;
        }
        if (c <= 0) {
            log_error("SIGN-REFUSED",
                      "refusing to sign at height %llu round %u step %d: already signed %s at "
                      "height %llu round %u step %d",
                      (unsigned long long)height, round, (int)step,
                      c == 0 ? "other bytes" : "a later position", (unsigned long long)s->height,
                      s->round, (int)s->step);
            return HANSA_EPERM;
        }
    }
    uint8_t fresh[WIRE_SIG_BYTES];
    hansa_err rv = wire_sign(tag, s->chain_id, payload, len, s->key->secret_key, fresh);
    if (rv != HANSA_OK)
        return rv;

    Hansa__SignerState st = HANSA__SIGNER_STATE__INIT;
    st.height = height;
    st.round = round;
    st.step = step;
    st.signed_bytes = (ProtobufCBinaryData){len, (uint8_t *)payload};
    st.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, fresh};
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    uint8_t *copy = malloc(len ? len : 1);
    rv = copy ? wire_encode(&st.base, HANSA_PEER_MESSAGE_BYTES_MAX, &enc, &enc_len) : HANSA_ENOMEM;
    if (rv == HANSA_OK) {
        struct store_put put = {STORE_META, signer_key, sizeof signer_key - 1, enc, enc_len};
        rv = store_write_sync(s->store, &put, 1);
    }
    free(enc);
    if (rv != HANSA_OK) {
        free(copy);
        return rv; /* nothing signed may leave the node */
    }
    memcpy(copy, payload, len);
    free(s->bytes);
    s->bytes = copy;
    s->len = len;
    s->height = height;
    s->round = round;
    s->step = step;
    memcpy(s->sig, fresh, WIRE_SIG_BYTES);
    memcpy(sig, fresh, WIRE_SIG_BYTES);
    return HANSA_OK;
}
