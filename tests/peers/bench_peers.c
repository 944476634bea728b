/*
 * Throughput of the validator links: node A sends 300-byte messages (a
 * TxBatch, the kind that is gossiped in volume) to node B over mutual TLS on
 * 127.0.0.1, both in this process on this machine's 2 cores. A full send
 * queue drops the message (peers_send says HANSA_EBUSY); the bench then
 * pauses 0.2 ms and sends again, so every message arrives once and the rate
 * is what the link sustains without loss. (Retrying with sched_yield instead
 * measured 10-25 % slower: the spinning sender takes CPU from nng's I/O
 * thread on 2 cores.)
 *
 * A Criterion binary so that it reuses the test fixture; not registered with
 * ctest. Run: bench_peers --verbose   (prints messages/s)
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "peers_fixture.h"

#define BENCH_MESSAGES 200000u
#define MESSAGE_BYTES  300u

TestSuite(bench, .init = pf_setup, .fini = pf_teardown, .timeout = 300);

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct receiver {
    struct peers *p;
    uint64_t got, last_us;
};

static void *receive_all(void *arg)
{
    struct receiver *r = arg;
    while (r->got < BENCH_MESSAGES) {
        Hansa__ConsensusMessage *m = peers_next(r->p, 10000);
        if (m == NULL)
            break;
        r->got++;
        wire_free(m);
    }
    r->last_us = now_us();
    return NULL;
}

Test(bench, tls_link_messages_per_second)
{
    uint16_t pa = pf_free_port(), pb = pf_free_port();
    const char *peer_b[] = {"B"}, *peer_a[] = {"A"};
    struct node_config *ca = pf_config("A", "good", pa, 1, peer_b, &pb);
    struct node_config *cb = pf_config("B", "good", pb, 1, peer_a, &pa);
    struct peers *a = pf_open(ca, 65536);
    struct peers *b = pf_open(cb, 65536);

    /* Size the transaction so that the encoded message is 300 bytes. */
    uint8_t tx[MESSAGE_BYTES];
    memset(tx, 0x5a, sizeof tx);
    ProtobufCBinaryData txs[1] = {{.len = 0, .data = tx}};
    Hansa__TxBatch batch = HANSA__TX_BATCH__INIT;
    batch.n_txs = 1;
    batch.txs = txs;
    Hansa__ConsensusMessage msg = HANSA__CONSENSUS_MESSAGE__INIT;
    msg.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_TXS;
    msg.txs = &batch;
    msg.chain_id = (char *)PF_CHAIN;
    msg.sender = (char *)"A";
    for (size_t n = 0; n < MESSAGE_BYTES; n++) {
        txs[0].len = n;
        if (protobuf_c_message_get_packed_size(&msg.base) >= MESSAGE_BYTES)
            break;
    }
    size_t wire_bytes = protobuf_c_message_get_packed_size(&msg.base);

    /* Warm up: the first message waits for the TLS handshake. */
    cr_assert_eq(peers_send(a, "B", &msg), HANSA_OK);
    Hansa__ConsensusMessage *first = peers_next(b, 10000);
    cr_assert(first != NULL);
    wire_free(first);

    struct receiver r = {.p = b};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, receive_all, &r), 0);
    uint64_t start_us = now_us(), retries = 0;
    for (uint32_t i = 0; i < BENCH_MESSAGES; i++) {
        while (peers_send(a, "B", &msg) == HANSA_EBUSY) {
            retries++;
            struct timespec pause = {.tv_sec = 0, .tv_nsec = 200000};
            nanosleep(&pause, NULL);
        }
    }
    pthread_join(t, NULL);
    cr_assert_eq(r.got, BENCH_MESSAGES, "lost messages: got %lu", (unsigned long)r.got);
    uint64_t elapsed_us = r.last_us - start_us;
    double rate = (double)BENCH_MESSAGES * 1e6 / (double)elapsed_us;
    cr_log_info("%u messages of %zu bytes over tls+tcp in %.3f s: %.0f messages/s "
                "(%.1f MiB/s); %lu sends retried after a full queue",
                BENCH_MESSAGES, wire_bytes, (double)elapsed_us / 1e6, rate,
                rate * (double)wire_bytes / (1024.0 * 1024.0), (unsigned long)retries);
    printf("bench_peers: %.0f messages/s (%zu-byte messages, tls+tcp, 127.0.0.1)\n", rate,
           wire_bytes);

    pf_close(b);
    pf_close(a);
}
