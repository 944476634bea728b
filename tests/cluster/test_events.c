/*
 * Live events of a running hansad (node/net/events.h), as a subscriber
 * sees them over tls+tcp with the consortium CA:
 *
 *   start one validator; subscribe (nng sub0) to "block/" and to
 *   "tx/<hex id>" of one transaction; make sure the publisher has our pipe
 *   (a warm-up transaction's block event arrives); submit the transaction;
 *   expect its tx event (topic, 0x00, an encoded hansa.Event whose tx
 *   Receipt names the id with result OK at a height > 0) and the block
 *   event of that height, and nothing outside the subscribed topics. The
 *   receipt the API gives for the id must agree with the event.
 *
 * Receives poll with NNG_FLAG_NONBLOCK and wait on NNG_OPT_RECVFD with a
 * deadline: nng 1.5.2 sub sockets with receive timeouts have a rare crash
 * bug (LIBNOTES 1.9).
 */
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/supplemental/tls/tls.h>

#include "proc.h"
#include "testclient.h"

#define CHAIN       "hansa-events-1"
#define WAIT_MS     20000u
#define TOPIC_BLOCK "block/"

static char dir[256], net[300];
static struct proc node;
static struct tc *c;
static struct wire_keypair merchant;
static int base_port;
static nng_socket sub;
static bool sub_open;
static atomic_int sub_pipes;

static void load_key(const char *party, struct wire_keypair *kp)
{
    char path[400], p[65], why[256];
    snprintf(path, sizeof path, "%s/parties/%s.key", net, party);
    cr_assert_eq(wire_keyfile_load(path, kp, p, sizeof p, why, sizeof why), HANSA_OK, "%s", why);
}

static bool status_ok(void *arg)
{
    (void)arg;
    Hansa__Response *r = NULL;
    bool ok = tc_status(c, &r) == HANSA_OK && r->error == HANSA__ERROR_CODE__ERROR_NONE;
    wire_free(r);
    return ok;
}

static void setup(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
    strcpy(dir, "/tmp/hansa-events-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    base_port = proc_free_port_base(10);
    cr_assert_gt(base_port, 0);
    char port[16], log[300], home[400];
    snprintf(net, sizeof net, "%s/net", dir);
    snprintf(port, sizeof port, "%d", base_port);
    snprintf(log, sizeof log, "%s/testnet.log", dir);
    char *tn[] = {HANSA_BIN_DIR "/hansad", "testnet", "--validators", "1",   "--dir", net,
                  "--base-port",           port,      "--chain-id",   CHAIN, NULL};
    cr_assert_eq(proc_run(tn, log, 60000), 0, "hansad testnet failed; see %s", log);
    snprintf(home, sizeof home, "%s/node0", net);
    snprintf(log, sizeof log, "%s/node0.log", dir);
    char *st[] = {HANSA_BIN_DIR "/hansad", "start", "--home", home, NULL};
    cr_assert_eq(proc_spawn(&node, st, log), 0);
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", base_port + 2);
    cr_assert_eq(tc_open(url, NULL, NULL, 10000, &c), HANSA_OK);
    cr_assert(proc_wait_until(status_ok, NULL, 30000), "node did not start; see %s", log);
    load_key("MER-SZ-0001", &merchant);
}

static void teardown(void)
{
    if (sub_open)
        nng_close(sub);
    tc_close(c);
    proc_signal(&node, SIGTERM);
    int rv = proc_wait(&node, 30000);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    cr_assert_eq(rv, 0, "hansad did not stop cleanly");
}

TestSuite(events, .init = setup, .fini = teardown, .timeout = 120);

/* A valid order by MER-SZ-0001. */
static void order_tx(const char *order_no, uint8_t **bytes, size_t *len, uint8_t id[32])
{
    cr_assert_eq(
        tc_order_tx(CHAIN, "MER-SZ-0001", &merchant, order_no, 900, tc_now_ms(), bytes, len, id),
        HANSA_OK);
}

static void submit_ok(const uint8_t *tx, size_t len)
{
    Hansa__Response *r = NULL;
    cr_assert_eq(tc_submit(c, tx, len, &r), HANSA_OK, "no answer to a submit");
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_SUBMIT, "error %d: %s", r->error,
                 r->error_message);
    cr_assert_eq(r->submit->result, HANSA__RESULT_CODE__RESULT_OK, "refused: %s",
                 r->submit->message);
    wire_free(r);
}

/* ---- the subscriber ---- */

/* Runs with the socket lock held: touch nothing but the counter. */
static void on_pipe_added(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)ev;
    (void)arg;
    atomic_fetch_add(&sub_pipes, 1);
}

static bool sub_connected(void *arg)
{
    (void)arg;
    return atomic_load(&sub_pipes) > 0;
}

static void subscribe(const char *topic)
{
    /* With its length, not set_string: the NUL would be part of the
     * prefix and never match (LIBNOTES 1.3). */
    cr_assert_eq(nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, topic, strlen(topic)), 0);
}

/* Dial the events listener over TLS, trusting the consortium CA and
 * expecting the certificate of node0. */
static void open_subscriber(void)
{
    cr_assert_eq(nng_sub0_open(&sub), 0);
    sub_open = true;
    cr_assert_eq(nng_pipe_notify(sub, NNG_PIPE_EV_ADD_POST, on_pipe_added, NULL), 0);
    char url[64], ca[400];
    snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%d", base_port + 3);
    snprintf(ca, sizeof ca, "%s/node0/ca.crt", net);
    nng_dialer d;
    cr_assert_eq(nng_dialer_create(&d, sub, url), 0);
    cr_assert_eq(nng_dialer_set_size(d, NNG_OPT_RECVMAXSZ, HANSA_RESPONSE_BYTES_MAX), 0);
    nng_tls_config *tls = NULL;
    cr_assert_eq(nng_tls_config_alloc(&tls, NNG_TLS_MODE_CLIENT), 0);
    cr_assert_eq(nng_tls_config_ca_file(tls, ca), 0);
    cr_assert_eq(nng_tls_config_server_name(tls, "node0"), 0);
    cr_assert_eq(nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls), 0);
    nng_tls_config_free(tls); /* the dialer holds its own reference */
    cr_assert_eq(nng_dialer_start(d, NNG_FLAG_NONBLOCK), 0);
}

/* One event: its topic and the decoded Event (caller wire_free()s). */
struct event {
    char topic[128];
    Hansa__Event *ev;
};

/* The next message within the deadline (false when it passes). Checks the
 * layout: topic, 0x00, an encoded hansa.Event. */
static bool next_event(uint64_t deadline_ms, struct event *out)
{
    int fd = -1;
    cr_assert_eq(nng_socket_get_int(sub, NNG_OPT_RECVFD, &fd), 0);
    for (;;) {
        nng_msg *m = NULL;
        int rv = nng_recvmsg(sub, &m, NNG_FLAG_NONBLOCK);
        if (rv == 0) {
            const uint8_t *body = nng_msg_body(m);
            size_t len = nng_msg_len(m);
            const uint8_t *nul = memchr(body, 0, len);
            cr_assert_not_null(nul, "event of %zu bytes without the 0x00 after its topic", len);
            size_t tlen = (size_t)(nul - body);
            cr_assert_lt(tlen, sizeof out->topic, "topic of %zu bytes", tlen);
            memcpy(out->topic, body, tlen);
            out->topic[tlen] = '\0';
            out->ev = NULL;
            hansa_err err =
                wire_decode(&hansa__event__descriptor, nul + 1, len - tlen - 1,
                            HANSA_RESPONSE_BYTES_MAX, WIRE_LENIENT, (ProtobufCMessage **)&out->ev);
            nng_msg_free(m);
            cr_assert_eq(err, HANSA_OK, "event %s does not decode as a hansa.Event: %s", out->topic,
                         hansa_strerror(err));
            return true;
        }
        cr_assert_eq(rv, NNG_EAGAIN, "receiving an event: %s", nng_strerror(rv));
        uint64_t now = proc_mono_ms();
        if (now >= deadline_ms)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        (void)poll(&p, 1, (int)(deadline_ms - now)); /* woken when a message is ready */
    }
}

/* A block event: topic block/<height> matches Event.height. */
static void check_block_event(const struct event *e)
{
    cr_assert_eq(e->ev->kind_case, HANSA__EVENT__KIND_BLOCK, "%s carries kind %d", e->topic,
                 e->ev->kind_case);
    char want[64];
    snprintf(want, sizeof want, TOPIC_BLOCK "%llu", (unsigned long long)e->ev->height);
    cr_assert_str_eq(e->topic, want, "topic %s for an event of height %llu", e->topic,
                     (unsigned long long)e->ev->height);
    cr_assert_eq(e->ev->block_hash.len, 32u);
}

static void check_tx_event(const struct event *e, const uint8_t id[32])
{
    const Hansa__Event *ev = e->ev;
    cr_assert_eq(ev->kind_case, HANSA__EVENT__KIND_TX, "%s carries kind %d", e->topic,
                 ev->kind_case);
    const Hansa__Receipt *r = ev->tx;
    cr_assert_eq(r->tx_id.len, 32u);
    cr_assert_arr_eq(r->tx_id.data, id, 32, "the receipt names another transaction");
    cr_assert_eq(r->result, HANSA__RESULT_CODE__RESULT_OK, "tx committed with %d: %s", r->result,
                 r->message);
    cr_assert_gt(r->height, 0u);
    cr_assert_eq(r->height, ev->height, "receipt height %llu, event height %llu",
                 (unsigned long long)r->height, (unsigned long long)ev->height);
    cr_assert_eq(r->block_hash.len, 32u);
    cr_assert_arr_eq(r->block_hash.data, ev->block_hash.data, 32);
}

/* The receipt the API gives for id agrees with the event's. */
static void check_api_receipt(const uint8_t id[32], const Hansa__Receipt *ev)
{
    Hansa__GetReceipt g = HANSA__GET_RECEIPT__INIT;
    g.tx_id = (ProtobufCBinaryData){32, (uint8_t *)id};
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_RECEIPT;
    q.receipt = &g;
    Hansa__Response *r = NULL;
    cr_assert_eq(tc_query(c, CHAIN, "MER-SZ-0001", &merchant, &q, &r), HANSA_OK);
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_RECEIPT, "error %d: %s", r->error,
                 r->error_message);
    cr_assert_eq(r->receipt->status, HANSA__TX_STATUS__TX_STATUS_COMMITTED);
    const Hansa__Receipt *a = r->receipt->receipt;
    cr_assert_eq(a->height, ev->height);
    cr_assert_eq(a->index, ev->index);
    cr_assert_eq(a->block_time_ms, ev->block_time_ms);
    cr_assert_arr_eq(a->block_hash.data, ev->block_hash.data, 32);
    wire_free(r);
}

Test(events, subscriber_gets_the_tx_receipt_and_its_block_over_tls)
{
    uint8_t *warm = NULL, *tx = NULL, warm_id[32], id[32];
    size_t warm_len = 0, len = 0;
    order_tx("EV-WARM", &warm, &warm_len, warm_id);
    order_tx("EV-1", &tx, &len, id);
    char hex[65], tx_topic[80];
    wire_hex_encode(id, 32, hex);
    snprintf(tx_topic, sizeof tx_topic, "tx/%s", hex);

    open_subscriber();
    subscribe(TOPIC_BLOCK);
    subscribe(tx_topic);
    cr_assert(proc_wait_until(sub_connected, NULL, WAIT_MS),
              "no connection to the events listener");

    /* Pub/sub loses what is published before the publisher has our pipe:
     * a block event arriving proves it has. The warm-up's own tx event is
     * not subscribed to and must not arrive. */
    submit_ok(warm, warm_len);
    struct event e;
    cr_assert(next_event(proc_mono_ms() + WAIT_MS, &e), "no block event after a submit");
    cr_assert_eq(strncmp(e.topic, TOPIC_BLOCK, strlen(TOPIC_BLOCK)), 0,
                 "event %s arrived, not subscribed", e.topic);
    check_block_event(&e);
    wire_free(e.ev);

    submit_ok(tx, len);
    Hansa__Event *tx_ev = NULL;
    struct {
        uint64_t height;
        uint32_t tx_count, ok_count;
    } blocks_seen[64];
    size_t n_blocks = 0;
    uint64_t deadline = proc_mono_ms() + WAIT_MS;
    bool block_of_tx = false;
    while (!block_of_tx) {
        cr_assert(next_event(deadline, &e), "%s",
                  tx_ev ? "no block event of the tx's height" : "no tx event for the submitted tx");
        if (strcmp(e.topic, tx_topic) == 0) {
            cr_assert_null(tx_ev, "the tx event arrived twice");
            check_tx_event(&e, id);
            tx_ev = e.ev;
        } else {
            cr_assert_eq(strncmp(e.topic, TOPIC_BLOCK, strlen(TOPIC_BLOCK)), 0,
                         "event %s arrived, not subscribed", e.topic);
            check_block_event(&e);
            cr_assert_lt(n_blocks, 64u, "too many blocks without the tx event");
            blocks_seen[n_blocks].height = e.ev->height;
            blocks_seen[n_blocks].tx_count = e.ev->block->tx_count;
            blocks_seen[n_blocks].ok_count = e.ev->block->ok_count;
            n_blocks++;
            wire_free(e.ev);
        }
        for (size_t i = 0; tx_ev != NULL && i < n_blocks && !block_of_tx; i++) {
            if (blocks_seen[i].height != tx_ev->height)
                continue;
            block_of_tx = true;
            cr_assert_geq(blocks_seen[i].tx_count, 1u, "the tx's block event counts no tx");
            cr_assert_geq(blocks_seen[i].ok_count, 1u, "the tx's block event counts no OK tx");
        }
    }
    check_api_receipt(id, tx_ev->tx);
    wire_free(tx_ev);
    free(warm);
    free(tx);
}
