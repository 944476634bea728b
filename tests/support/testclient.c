/* See testclient.h. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <sodium.h>

#include "testclient.h"

struct tc {
    nng_socket sock;
};

static atomic_uint_fast64_t request_ids;

uint64_t tc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

hansa_err tc_open(const char *url, const char *ca_path, const char *server_name,
                  uint32_t timeout_ms, struct tc **out)
{
    struct tc *c = calloc(1, sizeof *c);
    if (c == NULL)
        return HANSA_ENOMEM;
    int rv = nng_req0_open(&c->sock);
    if (rv != 0) {
        free(c);
        return HANSA_EIO;
    }
    nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, (nng_duration)timeout_ms);
    nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, (nng_duration)timeout_ms);
    nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50);
    nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 500);
    nng_dialer d;
    rv = nng_dialer_create(&d, c->sock, url);
    if (rv == 0)
        nng_dialer_set_size(d, NNG_OPT_RECVMAXSZ,
                            HANSA_RESPONSE_BYTES_MAX + HANSA_NNG_HEADER_BYTES_MAX);
    if (rv == 0 && strncmp(url, "tls+", 4) == 0) {
        nng_tls_config *tls = NULL;
        rv = nng_tls_config_alloc(&tls, NNG_TLS_MODE_CLIENT);
        if (rv == 0)
            rv = nng_tls_config_ca_file(tls, ca_path);
        if (rv == 0)
            rv = nng_tls_config_server_name(tls, server_name);
        if (rv == 0)
            rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls);
        if (tls)
            nng_tls_config_free(tls);
    }
    if (rv == 0)
        rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        nng_close(c->sock);
        free(c);
        return HANSA_EIO;
    }
    *out = c;
    return HANSA_OK;
}

void tc_close(struct tc *c)
{
    if (c == NULL)
        return;
    nng_close(c->sock);
    free(c);
}

hansa_err tc_raw(struct tc *c, const uint8_t *req, size_t len, uint8_t **resp, size_t *resp_len)
{
    int rv = nng_send(c->sock, (void *)(uintptr_t)req, len, 0);
    if (rv != 0)
        return rv == NNG_ETIMEDOUT ? HANSA_ETIMEDOUT : HANSA_EIO;
    void *buf = NULL;
    size_t n = 0;
    rv = nng_recv(c->sock, &buf, &n, NNG_FLAG_ALLOC);
    if (rv != 0)
        return rv == NNG_ETIMEDOUT ? HANSA_ETIMEDOUT : HANSA_EIO;
    *resp = malloc(n ? n : 1);
    if (*resp == NULL) {
        nng_free(buf, n);
        return HANSA_ENOMEM;
    }
    memcpy(*resp, buf, n);
    *resp_len = n;
    nng_free(buf, n);
    return HANSA_OK;
}

hansa_err tc_call(struct tc *c, Hansa__Request *req, Hansa__Response **resp)
{
    req->request_id = ++request_ids;
    uint8_t *bytes = NULL, *answer = NULL;
    size_t len = 0, answer_len = 0;
    hansa_err rv = wire_encode(&req->base, HANSA_REQUEST_BYTES_MAX, &bytes, &len);
    if (rv == HANSA_OK)
        rv = tc_raw(c, bytes, len, &answer, &answer_len);
    if (rv == HANSA_OK)
        rv = wire_response_decode(answer, answer_len, resp);
    free(bytes);
    free(answer);
    return rv;
}

hansa_err tc_submit(struct tc *c, const uint8_t *tx, size_t len, Hansa__Response **resp)
{
    Hansa__SubmitTx s = HANSA__SUBMIT_TX__INIT;
    s.tx.data = (uint8_t *)(uintptr_t)tx;
    s.tx.len = len;
    Hansa__Request r = HANSA__REQUEST__INIT;
    r.kind_case = HANSA__REQUEST__KIND_SUBMIT;
    r.submit = &s;
    return tc_call(c, &r, resp);
}

hansa_err tc_query(struct tc *c, const char *chain_id, const char *reader,
                   const struct wire_keypair *kp, Hansa__Query *q, Hansa__Response **resp)
{
    uint8_t nonce[16];
    randombytes_buf(nonce, sizeof nonce);
    q->chain_id = (char *)(uintptr_t)chain_id;
    q->reader = (char *)(uintptr_t)reader;
    q->created_ms = tc_now_ms();
    q->nonce.data = nonce;
    q->nonce.len = sizeof nonce;
    uint8_t *bytes = NULL;
    size_t len = 0;
    uint8_t sig[WIRE_SIG_BYTES];
    hansa_err rv = wire_encode(&q->base, HANSA_QUERY_BYTES_MAX, &bytes, &len);
    if (rv == HANSA_OK)
        rv = wire_sign(WIRE_TAG_QUERY, chain_id, bytes, len, kp->secret_key, sig);
    if (rv == HANSA_OK) {
        Hansa__SignedQuery sq = HANSA__SIGNED_QUERY__INIT;
        sq.query = (ProtobufCBinaryData){len, bytes};
        sq.signer_key = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, (uint8_t *)kp->public_key};
        sq.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
        Hansa__Request r = HANSA__REQUEST__INIT;
        r.kind_case = HANSA__REQUEST__KIND_QUERY;
        r.query = &sq;
        rv = tc_call(c, &r, resp);
    }
    free(bytes);
    q->nonce.data = NULL;
    q->nonce.len = 0;
    return rv;
}

hansa_err tc_status(struct tc *c, Hansa__Response **resp)
{
    Hansa__StatusRequest s = HANSA__STATUS_REQUEST__INIT;
    Hansa__Request r = HANSA__REQUEST__INIT;
    r.kind_case = HANSA__REQUEST__KIND_STATUS;
    r.status = &s;
    return tc_call(c, &r, resp);
}

/* The parts of tc_order_tx's order body (nested messages point into it). */
struct order_parts {
    Hansa__OrderItem item;
    Hansa__OrderItem *items[1];
    uint8_t buyer[32], cons[32];
    Hansa__CreateOrder o;
    Hansa__TxBody b;
};

static void order_parts(struct order_parts *p, const char *chain_id, const char *signer,
                        const char *order_no, const char *item_name, int64_t price_minor,
                        uint64_t created_ms)
{
    memset(p, 0, sizeof *p);
    hansa__order_item__init(&p->item);
    p->items[0] = &p->item;
    p->item.line_no = 1;
    p->item.item_name = (char *)(uintptr_t)item_name;
    p->item.hs_code = "940540";
    p->item.quantity_milli = 1000;
    p->item.unit = "PCE";
    p->item.unit_price_minor = price_minor;
    p->item.line_total_minor = price_minor;
    p->buyer[0] = 3;
    p->cons[0] = 4;
    Hansa__CreateOrder *o = &p->o;
    hansa__create_order__init(o);
    o->order_no = (char *)(uintptr_t)order_no;
    o->merchant = "MER-SZ-0001";
    o->platform = "PLT-0001";
    o->trade_mode = HANSA__TRADE_MODE__TRADE_MODE_EXPORT;
    o->buyer_commitment = (ProtobufCBinaryData){32, p->buyer};
    o->consignee_name_commitment = (ProtobufCBinaryData){32, p->cons};
    o->consignee_phone_commitment = (ProtobufCBinaryData){32, p->cons};
    o->consignee_address_commitment = (ProtobufCBinaryData){32, p->cons};
    o->n_items = 1;
    o->items = p->items;
    o->goods_value_minor = price_minor;
    o->actual_paid_minor = price_minor;
    o->currency = "CNY";
    o->origin_country = "CN";
    o->destination_country = "DE";
    hansa__tx_body__init(&p->b);
    p->b.chain_id = (char *)(uintptr_t)chain_id;
    p->b.signer = (char *)(uintptr_t)signer;
    p->b.created_ms = created_ms;
    p->b.action_case = HANSA__TX_BODY__ACTION_CREATE_ORDER;
    p->b.create_order = o;
}

hansa_err tc_order_tx(const char *chain_id, const char *signer, const struct wire_keypair *kp,
                      const char *order_no, int64_t price_minor, uint64_t created_ms,
                      uint8_t **bytes, size_t *len, uint8_t id[WIRE_HASH_BYTES])
{
    struct order_parts p;
    order_parts(&p, chain_id, signer, order_no, "Solar lamp", price_minor, created_ms);
    return wire_tx_build(&p.b, kp, bytes, len, id);
}

hansa_err tc_order_body(const char *chain_id, const char *signer, const char *order_no,
                        const char *item_name, int64_t price_minor, uint64_t created_ms,
                        size_t max_len, uint8_t **body, size_t *body_len)
{
    struct order_parts p;
    order_parts(&p, chain_id, signer, order_no, item_name, price_minor, created_ms);
    return wire_encode(&p.b.base, max_len, body, body_len);
}
