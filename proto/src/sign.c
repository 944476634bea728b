/*
 * Ed25519 signatures with domain separation, key pairs, and transactions.
 *
 * Signature validity is a consensus rule: every validator must accept exactly
 * the same signatures, or they split. We use libsodium's
 * crypto_sign_verify_detached (Debian's 1.0.18), which refuses non-canonical
 * S (S >= L), small-order and non-canonical public keys and small-order R.
 * tests/unit/test_sign.c pins these rules, so a library upgrade that changed
 * them fails a test instead of splitting the chain.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hansa/assert.h"
#include "hansa/wire.h"

_Static_assert(WIRE_PUBKEY_BYTES == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key size");
_Static_assert(WIRE_SECKEY_BYTES == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key size");
_Static_assert(WIRE_SEED_BYTES == crypto_sign_SEEDBYTES, "Ed25519 seed size");
_Static_assert(WIRE_SIG_BYTES == crypto_sign_BYTES, "Ed25519 signature size");

hansa_err wire_global_init(void)
{
    return sodium_init() < 0 ? HANSA_ECRYPTO : HANSA_OK;
}

static bool id_chars_valid(const char *s, size_t len_max)
{
    if (s == NULL)
        return false;
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        unsigned char c = (unsigned char)s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok || n >= len_max)
            return false;
    }
    return n > 0;
}

bool wire_chain_id_valid(const char *chain_id)
{
    return id_chars_valid(chain_id, HANSA_CHAIN_ID_LEN_MAX);
}

bool wire_id_valid(const char *id)
{
    return id_chars_valid(id, HANSA_ID_LEN_MAX);
}

void wire_keypair_generate(struct wire_keypair *kp)
{
    crypto_sign_keypair(kp->public_key, kp->secret_key);
}

void wire_keypair_from_seed(struct wire_keypair *kp, const uint8_t seed[WIRE_SEED_BYTES])
{
    crypto_sign_seed_keypair(kp->public_key, kp->secret_key, seed);
}

void wire_keypair_wipe(struct wire_keypair *kp)
{
    if (kp != NULL)
        sodium_memzero(kp, sizeof *kp);
}

/*
 * Assemble tag || 0 || chain_id || 0 || payload into stack (when it fits) or
 * a new heap buffer. Returns the buffer; *len receives its length.
 */
static uint8_t *signing_message(const char *tag, const char *chain_id, const uint8_t *payload,
                                size_t payload_len, uint8_t *stack, size_t stack_len, size_t *len)
{
    size_t tag_len = strlen(tag), chain_len = strlen(chain_id);
    size_t n = tag_len + 1 + chain_len + 1 + payload_len;
    uint8_t *buf = n <= stack_len ? stack : malloc(n);
    if (buf == NULL)
        return NULL;
    uint8_t *p = buf;
    memcpy(p, tag, tag_len), p += tag_len, *p++ = 0;
    memcpy(p, chain_id, chain_len), p += chain_len, *p++ = 0;
    if (payload_len)
        memcpy(p, payload, payload_len);
    *len = n;
    return buf;
}

hansa_err wire_sign(const char *tag, const char *chain_id, const uint8_t *payload,
                    size_t payload_len, const uint8_t secret_key[WIRE_SECKEY_BYTES],
                    uint8_t sig[WIRE_SIG_BYTES])
{
    HANSA_ASSERT(tag != NULL && strlen(tag) > 0);
    if (!wire_chain_id_valid(chain_id))
        return HANSA_EWRONGCHAIN;
    uint8_t stack[HANSA_SIGN_STACK_BYTES];
    size_t len = 0;
    uint8_t *msg = signing_message(tag, chain_id, payload, payload_len, stack, sizeof stack, &len);
    if (msg == NULL)
        return HANSA_ENOMEM;
    int rv = crypto_sign_detached(sig, NULL, msg, len, secret_key);
    if (msg != stack)
        free(msg);
    return rv == 0 ? HANSA_OK : HANSA_ECRYPTO;
}

bool wire_pubkey_valid(const uint8_t public_key[WIRE_PUBKEY_BYTES])
{
    return crypto_core_ed25519_is_valid_point(public_key) == 1;
}

hansa_err wire_verify(const char *tag, const char *chain_id, const uint8_t *payload,
                      size_t payload_len, const uint8_t public_key[WIRE_PUBKEY_BYTES],
                      const uint8_t sig[WIRE_SIG_BYTES])
{
    HANSA_ASSERT(tag != NULL && strlen(tag) > 0);
    if (!wire_chain_id_valid(chain_id))
        return HANSA_EWRONGCHAIN;
    uint8_t stack[HANSA_SIGN_STACK_BYTES];
    size_t len = 0;
    uint8_t *msg = signing_message(tag, chain_id, payload, payload_len, stack, sizeof stack, &len);
    if (msg == NULL)
        return HANSA_ENOMEM;
    int rv = crypto_sign_verify_detached(sig, msg, len, public_key);
    if (msg != stack)
        free(msg);
    return rv == 0 ? HANSA_OK : HANSA_EBADSIG;
}

hansa_err wire_tx_build(const Hansa__TxBody *body, const struct wire_keypair *kp, uint8_t **out,
                        size_t *out_len, uint8_t id[WIRE_HASH_BYTES])
{
    HANSA_ASSERT(body != NULL && kp != NULL && out != NULL && out_len != NULL);
    *out = NULL;
    *out_len = 0;
    uint8_t *body_bytes = NULL;
    size_t body_len = 0;
    hansa_err rv = wire_encode(&body->base, HANSA_TX_BYTES_MAX, &body_bytes, &body_len);
    if (rv != HANSA_OK)
        return rv;

    uint8_t sig[WIRE_SIG_BYTES];
    rv = wire_sign(WIRE_TAG_TX, body->chain_id, body_bytes, body_len, kp->secret_key, sig);
    if (rv == HANSA_OK) {
        uint8_t public_key[WIRE_PUBKEY_BYTES];
        memcpy(public_key, kp->public_key, sizeof public_key);
        Hansa__Tx tx = HANSA__TX__INIT;
        tx.body.data = body_bytes;
        tx.body.len = body_len;
        tx.signer_key.data = public_key;
        tx.signer_key.len = WIRE_PUBKEY_BYTES;
        tx.signature.data = sig;
        tx.signature.len = WIRE_SIG_BYTES;
        rv = wire_encode(&tx.base, HANSA_TX_BYTES_MAX, out, out_len);
    }
    free(body_bytes);
    if (rv == HANSA_OK && id != NULL)
        wire_tx_id(*out, *out_len, id);
    return rv;
}

/* Checks of the body that need no state; the first failure names the code.
 * A body without a valid signer id, with too long a nonce or without an
 * action is malformed, part of decoding, which DOMAIN's order puts before
 * the chain id. */
static hansa_err check_body(const Hansa__TxBody *body, const char *chain_id)
{
    if (!wire_id_valid(body->signer) || body->nonce.len > HANSA_NONCE_BYTES_MAX ||
        body->action_case == HANSA__TX_BODY__ACTION__NOT_SET)
        return HANSA_EMALFORMED;
    if (body->chain_id == NULL || strcmp(body->chain_id, chain_id) != 0)
        return HANSA_EWRONGCHAIN;
    return HANSA_OK;
}

hansa_err wire_tx_open(struct wire_tx *tx, const uint8_t *buf, size_t len, const char *chain_id)
{
    HANSA_ASSERT(tx != NULL && chain_id != NULL);
    memset(tx, 0, sizeof *tx);
    if (len > HANSA_TX_BYTES_MAX)
        return HANSA_ETOOLARGE;
    hansa_err rv = wire_tx_decode(buf, len, &tx->envelope);
    if (rv != HANSA_OK)
        return rv;
    if (tx->envelope->signer_key.len != WIRE_PUBKEY_BYTES ||
        tx->envelope->signature.len != WIRE_SIG_BYTES || tx->envelope->body.len == 0) {
        wire_tx_close(tx);
        return HANSA_EMALFORMED;
    }
    rv = wire_tx_body_decode(tx->envelope->body.data, tx->envelope->body.len, &tx->body);
    if (rv == HANSA_OK)
        rv = check_body(tx->body, chain_id);
    if (rv != HANSA_OK) {
        wire_tx_close(tx);
        return rv;
    }
    wire_tx_id(buf, len, tx->id);
    return HANSA_OK;
}

hansa_err wire_tx_verify(const struct wire_tx *tx)
{
    HANSA_ASSERT(tx != NULL && tx->envelope != NULL && tx->body != NULL);
    return wire_verify(WIRE_TAG_TX, tx->body->chain_id, tx->envelope->body.data,
                       tx->envelope->body.len, tx->envelope->signer_key.data,
                       tx->envelope->signature.data);
}

void wire_tx_close(struct wire_tx *tx)
{
    if (tx == NULL)
        return;
    wire_free(tx->body);
    wire_free(tx->envelope);
    tx->body = NULL;
    tx->envelope = NULL;
}
