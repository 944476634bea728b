/* See events.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include "events.h"
#include "log.h"
#include "tls.h"

/* Per-subscriber queue on the publisher (messages); beyond it the oldest
 * are dropped (LIBNOTES 1.3). A block publishes one receipt per
 * transaction at once, and at the earlier 1,024 a subscriber lost most of
 * a 5,000-transaction block's receipts whenever its TLS pipe fell a moment
 * behind (the benchmark lost tens of thousands per minute). nng's maximum,
 * 8,192, holds a full default block ([blocks] max_txs, 5,000) with
 * its block event; at ~200 bytes a message that is under 2 MiB per slow
 * subscriber. */
#define EVENTS_SUBSCRIBER_QUEUE 8192

struct events {
    nng_socket sock;
    bool open;
};

hansa_err events_open(const struct node_config *cfg, struct events **out, char *why, size_t why_len)
{
    struct events *ev = calloc(1, sizeof *ev);
    if (ev == NULL)
        return HANSA_ENOMEM;
    int rv = nng_pub0_open(&ev->sock);
    if (rv != 0) {
        snprintf(why, why_len, "cannot open the events socket: %s", nng_strerror(rv));
        free(ev);
        return HANSA_EIO;
    }
    ev->open = true;
    nng_socket_set_int(ev->sock, NNG_OPT_SENDBUF, EVENTS_SUBSCRIBER_QUEUE);
    nng_listener l;
    rv = nng_listener_create(&l, ev->sock, cfg->events_listen.url);
    if (rv == 0)
        nng_listener_set_size(l, NNG_OPT_RECVMAXSZ, 1024); /* subscribers send nothing */
    if (rv == 0 && cfg->events_listen.tls) {
        nng_tls_config *tls = NULL;
        hansa_err err = net_tls_server(cfg, NNG_TLS_AUTH_MODE_NONE, &tls, why, why_len);
        if (err != HANSA_OK) {
            events_close(ev);
            return err;
        }
        rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls);
        nng_tls_config_free(tls);
    }
    if (rv == 0)
        rv = nng_listener_start(l, 0);
    if (rv != 0) {
        snprintf(why, why_len, "cannot listen for event subscribers on %s: %s",
                 cfg->events_listen.url, nng_strerror(rv));
        events_close(ev);
        return HANSA_EIO;
    }
    *out = ev;
    return HANSA_OK;
}

void events_close(struct events *ev)
{
    if (ev == NULL)
        return;
    if (ev->open)
        nng_close(ev->sock);
    free(ev);
}

void events_publish(struct events *ev, const char *topic, const Hansa__Event *event)
{
    size_t tlen = strlen(topic);
    size_t elen = protobuf_c_message_get_packed_size(&event->base);
    nng_msg *m = NULL;
    if (nng_msg_alloc(&m, tlen + 1 + elen) != 0)
        return;
    uint8_t *body = nng_msg_body(m);
    memcpy(body, topic, tlen);
    body[tlen] = 0;
    protobuf_c_message_pack(&event->base, body + tlen + 1);
    if (nng_sendmsg(ev->sock, m, NNG_FLAG_NONBLOCK) != 0)
        nng_msg_free(m);
}

void events_publish_block(struct events *ev, uint64_t height,
                          const uint8_t block_hash[WIRE_HASH_BYTES], uint64_t block_time_ms,
                          const char *proposer, const Hansa__BlockResults *results)
{
    Hansa__Event e = HANSA__EVENT__INIT;
    e.height = height;
    e.block_hash.data = (uint8_t *)block_hash;
    e.block_hash.len = WIRE_HASH_BYTES;
    e.block_time_ms = block_time_ms;

    Hansa__BlockCommitted bc = HANSA__BLOCK_COMMITTED__INIT;
    bc.tx_count = (uint32_t)results->n_results;
    for (size_t i = 0; i < results->n_results; i++)
        bc.ok_count += results->results[i]->result == HANSA__RESULT_CODE__RESULT_OK;
    bc.proposer = (char *)proposer;
    e.kind_case = HANSA__EVENT__KIND_BLOCK;
    e.block = &bc;
    char topic[96];
    snprintf(topic, sizeof topic, "block/%" PRIu64, height);
    events_publish(ev, topic, &e);

    for (size_t i = 0; i < results->n_results; i++) {
        const Hansa__TxResult *r = results->results[i];
        Hansa__Receipt rc = HANSA__RECEIPT__INIT;
        rc.tx_id = r->tx_id;
        rc.height = height;
        rc.index = (uint32_t)i;
        rc.result = r->result;
        rc.message = r->message;
        rc.block_time_ms = block_time_ms;
        rc.block_hash = e.block_hash;
        e.kind_case = HANSA__EVENT__KIND_TX;
        e.tx = &rc;
        char hex[2 * WIRE_HASH_BYTES + 1];
        wire_hex_encode(r->tx_id.data, r->tx_id.len < WIRE_HASH_BYTES ? r->tx_id.len : 32, hex);
        snprintf(topic, sizeof topic, "tx/%s", hex);
        events_publish(ev, topic, &e);
    }
}
