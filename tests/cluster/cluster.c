/* See cluster.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "cluster.h"
#include "store.h"

void cluster_load_key(struct cluster *c, const char *party, struct wire_keypair *kp)
{
    char path[512], p[65], why[256];
    snprintf(path, sizeof path, "%s/parties/%s.key", c->net, party);
    cr_assert_eq(wire_keyfile_load(path, kp, p, sizeof p, why, sizeof why), HANSA_OK, "%s", why);
}

void cluster_init(struct cluster *c, int n, const char *chain)
{
    memset(c, 0, sizeof *c);
    cr_assert_eq(wire_global_init(), HANSA_OK);
    cr_assert(n > 0 && n <= CLUSTER_NODES_MAX);
    c->n = n;
    snprintf(c->chain, sizeof c->chain, "%s", chain);
    strcpy(c->dir, "/tmp/hansa-cluster-XXXXXX");
    cr_assert_not_null(mkdtemp(c->dir));
    c->base_port = proc_free_port_base(10 * n);
    cr_assert_gt(c->base_port, 0);
    snprintf(c->net, sizeof c->net, "%s/net", c->dir);
    char nv[8], port[16], log[320];
    snprintf(nv, sizeof nv, "%d", n);
    snprintf(port, sizeof port, "%d", c->base_port);
    snprintf(log, sizeof log, "%s/testnet.log", c->dir);
    char *argv[] = {HANSA_BIN_DIR "/hansad", "testnet", "--validators", nv,       "--dir", c->net,
                    "--base-port",           port,      "--chain-id",   c->chain, NULL};
    cr_assert_eq(proc_run(argv, log, 120000), 0, "hansad testnet failed; see %s", log);
    cluster_load_key(c, "MER-SZ-0001", &c->merchant);
    cluster_load_key(c, "CUS-0001", &c->regulator);
}

void cluster_config_set(struct cluster *c, int i, const char *key, const char *value)
{
    char path[400];
    snprintf(path, sizeof path, "%s/node%d/config.ini", c->net, i);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s", path);
    static char text[65536], out[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    size_t o = 0, klen = strlen(key);
    bool done = false;
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (!done && strncmp(line, key, klen) == 0 && line[klen] == ' ' && line[klen + 1] == '=') {
            o += (size_t)snprintf(out + o, sizeof out - o, "%s = %s\n", key, value);
            done = true;
        } else {
            o += (size_t)snprintf(out + o, sizeof out - o, "%.*s\n", (int)len, line);
        }
        line += len + (end ? 1 : 0);
    }
    cr_assert(done, "%s has no key %s", path, key);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(out, 1, o, f), o);
    fclose(f);
}

void cluster_start(struct cluster *c, int i)
{
    char home[400], log[400];
    snprintf(home, sizeof home, "%s/node%d", c->net, i);
    snprintf(log, sizeof log, "%s/node%d.log", c->dir, i);
    char *argv[] = {HANSA_BIN_DIR "/hansad", "start", "--home", home, NULL};
    cr_assert_eq(proc_spawn(&c->nodes[i], argv, log), 0);
    c->running[i] = true;
}

void cluster_signal(struct cluster *c, int i, int sig)
{
    proc_signal(&c->nodes[i], sig);
}

void cluster_kill(struct cluster *c, int i)
{
    proc_signal(&c->nodes[i], SIGKILL);
    cr_assert_eq(proc_wait(&c->nodes[i], 10000), 128 + SIGKILL);
    c->running[i] = false;
}

void cluster_stop(struct cluster *c, int i)
{
    proc_signal(&c->nodes[i], SIGCONT); /* in case it was paused */
    proc_signal(&c->nodes[i], SIGTERM);
    int rv = proc_wait(&c->nodes[i], 30000);
    if (rv != 0) {
        /* The log goes with the temp dir: show its end, and do not leave a
         * hung node behind. */
        cluster_dump_log(c, i, 40);
        if (rv < 0) {
            proc_signal(&c->nodes[i], SIGKILL);
            proc_wait(&c->nodes[i], 10000);
        }
    }
    c->running[i] = false;
    cr_assert_eq(rv, 0, "node%d did not stop cleanly (status %d)", i, rv);
}

void cluster_fini(struct cluster *c, bool keep)
{
    for (int i = 0; i < c->n; i++)
        if (c->running[i]) {
            proc_signal(&c->nodes[i], SIGCONT);
            proc_signal(&c->nodes[i], SIGKILL);
            proc_wait(&c->nodes[i], 10000);
            c->running[i] = false;
        }
    free(c->acked_ids);
    free(c->acked_heights);
    if (!keep) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf %s", c->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", c->dir);
    }
}

void cluster_dump_log(struct cluster *c, int i, int lines)
{
    char cmd[600];
    fprintf(stderr, "---- last %d lines of node%d.log ----\n", lines, i);
    fflush(stderr);
    snprintf(cmd, sizeof cmd, "tail -n %d %s/node%d.log >&2", lines, c->dir, i);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
    fprintf(stderr, "---- end of node%d.log ----\n", i);
}

struct tc *cluster_client(struct cluster *c, int i, uint32_t timeout_ms)
{
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", c->base_port + 10 * i + 2);
    struct tc *t = NULL;
    cr_assert_eq(tc_open(url, NULL, NULL, timeout_ms, &t), HANSA_OK);
    return t;
}

static bool answers(struct cluster *c, int i)
{
    struct tc *t = cluster_client(c, i, 1000);
    Hansa__Response *r = NULL;
    bool ok = tc_status(t, &r) == HANSA_OK && r->kind_case == HANSA__RESPONSE__KIND_STATUS;
    wire_free(r);
    tc_close(t);
    return ok;
}

/* A node the test believes running has exited: say so with its log, and
 * stop waiting for it (a wait would only end at its deadline). */
static bool died(struct cluster *c, int k)
{
    int status = 0;
    if (!proc_exited(&c->nodes[k], &status))
        return false;
    c->running[k] = false;
    fprintf(stderr, "node%d exited unexpectedly (status %d)\n", k, status);
    cluster_dump_log(c, k, 30);
    return true;
}

bool cluster_wait_ready(struct cluster *c, int i, uint32_t timeout_ms)
{
    uint64_t deadline = proc_mono_ms() + timeout_ms;
    for (int k = 0; k < c->n; k++) {
        if ((i >= 0 && k != i) || !c->running[k])
            continue;
        while (!answers(c, k))
            if (proc_mono_ms() >= deadline || died(c, k))
                return false;
    }
    return true;
}

uint64_t cluster_height(struct cluster *c, int i)
{
    struct tc *t = cluster_client(c, i, 1000);
    Hansa__Response *r = NULL;
    uint64_t h = 0;
    if (tc_status(t, &r) == HANSA_OK && r->kind_case == HANSA__RESPONSE__KIND_STATUS)
        h = r->status->latest_height;
    wire_free(r);
    tc_close(t);
    return h;
}

bool cluster_wait_height(struct cluster *c, int i, uint64_t height, uint32_t timeout_ms)
{
    uint64_t deadline = proc_mono_ms() + timeout_ms;
    for (;;) {
        bool all = true;
        for (int k = 0; k < c->n; k++) {
            if ((i >= 0 && k != i) || !c->running[k])
                continue;
            if (died(c, k))
                return false;
            if (cluster_height(c, k) < height)
                all = false;
        }
        if (all)
            return true;
        if (proc_mono_ms() >= deadline)
            return false;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL); /* polling interval of the condition, not a wait for time */
    }
}

int cluster_leader(struct cluster *c)
{
    int best = -1;
    uint64_t h = 0;
    for (int k = 0; k < c->n; k++)
        if (c->running[k]) {
            uint64_t hk = cluster_height(c, k);
            if (best < 0 || hk > h) {
                best = k;
                h = hk;
            }
        }
    return best;
}

static void order_tx(struct cluster *c, uint8_t **bytes, size_t *len, uint8_t id[32])
{
    char order_no[32];
    snprintf(order_no, sizeof order_no, "CL-%06d", ++c->seq);
    cr_assert_eq(tc_order_tx(c->chain, "MER-SZ-0001", &c->merchant, order_no, 3000 + c->seq,
                             tc_now_ms(), bytes, len, id),
                 HANSA_OK);
}

static void ack(struct cluster *c, const uint8_t id[32], uint64_t height)
{
    if (c->n_acked == c->cap_acked) {
        c->cap_acked = c->cap_acked ? 2 * c->cap_acked : 256;
        c->acked_ids = realloc(c->acked_ids, c->cap_acked * sizeof *c->acked_ids);
        c->acked_heights = realloc(c->acked_heights, c->cap_acked * sizeof *c->acked_heights);
        cr_assert(c->acked_ids && c->acked_heights);
    }
    memcpy(c->acked_ids[c->n_acked], id, 32);
    c->acked_heights[c->n_acked++] = height;
}

size_t cluster_submit(struct cluster *c, int i, size_t k, uint32_t timeout_ms)
{
    struct tc *t = cluster_client(c, i, timeout_ms + 2000);
    uint8_t(*ids)[32] = calloc(k ? k : 1, 32);
    for (size_t j = 0; j < k; j++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        order_tx(c, &bytes, &len, ids[j]);
        Hansa__Response *r = NULL;
        if (tc_submit(t, bytes, len, &r) != HANSA_OK ||
            r->kind_case != HANSA__RESPONSE__KIND_SUBMIT ||
            r->submit->result != HANSA__RESULT_CODE__RESULT_OK)
            memset(ids[j], 0, 32); /* not admitted: not tracked */
        wire_free(r);
        free(bytes);
    }
    size_t committed = 0;
    for (size_t j = 0; j < k; j++) {
        static const uint8_t zero[32];
        if (memcmp(ids[j], zero, 32) == 0)
            continue;
        Hansa__GetReceipt g = HANSA__GET_RECEIPT__INIT;
        g.tx_id = (ProtobufCBinaryData){32, ids[j]};
        g.wait_ms = timeout_ms < 30000 ? timeout_ms : 30000;
        Hansa__Query q = HANSA__QUERY__INIT;
        q.kind_case = HANSA__QUERY__KIND_RECEIPT;
        q.receipt = &g;
        Hansa__Response *r = NULL;
        if (tc_query(t, c->chain, "MER-SZ-0001", &c->merchant, &q, &r) == HANSA_OK &&
            r->kind_case == HANSA__RESPONSE__KIND_RECEIPT &&
            r->receipt->status == HANSA__TX_STATUS__TX_STATUS_COMMITTED) {
            ack(c, ids[j], r->receipt->receipt->height);
            committed++;
        }
        wire_free(r);
    }
    free(ids);
    tc_close(t);
    return committed;
}

void cluster_check_agreement(struct cluster *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->running[i])
            cluster_stop(c, i);
    struct store *s[CLUSTER_NODES_MAX] = {NULL};
    uint64_t top = UINT64_MAX, max_top = 0;
    for (int i = 0; i < c->n; i++) {
        char data[400], why[256];
        snprintf(data, sizeof data, "%s/node%d/data", c->net, i);
        cr_assert_eq(store_open_readonly(data, &s[i], why, sizeof why), HANSA_OK, "%s", why);
        uint64_t h = store_height(s[i]);
        top = h < top ? h : top;
        max_top = h > max_top ? h : max_top;
    }
    cr_assert_gt(top, 0, "some validator committed nothing");
    for (uint64_t h = 1; h <= max_top; h++) {
        uint8_t first[32] = {0};
        bool have = false;
        for (int i = 0; i < c->n; i++) {
            uint8_t *val = NULL;
            size_t len = 0;
            if (store_get_block(s[i], h, &val, &len) != HANSA_OK)
                continue;
            Hansa__StoredBlock *sb = NULL;
            cr_assert_eq(wire_decode(&hansa__stored_block__descriptor, val, len, 1u << 30,
                                     WIRE_LENIENT, (ProtobufCMessage **)&sb),
                         HANSA_OK);
            free(val);
            uint8_t hash[32];
            wire_block_hash(sb->block->header.data, sb->block->header.len, hash);
            cr_assert_arr_eq(hash, sb->results->block_hash.data, 32);
            if (!have) {
                memcpy(first, hash, 32);
                have = true;
            } else {
                cr_assert_arr_eq(hash, first, 32, "validators differ at height %llu",
                                 (unsigned long long)h);
            }
            wire_free(sb);
        }
    }
    uint8_t root0[32], root[32];
    store_state_root(s[0], root0);
    for (int i = 1; i < c->n; i++)
        if (store_height(s[i]) == store_height(s[0])) {
            store_state_root(s[i], root);
            cr_assert_arr_eq(root, root0, 32, "state roots differ at equal heights");
        }
    for (size_t k = 0; k < c->n_acked; k++) {
        uint64_t h = 0;
        uint32_t idx = 0;
        for (int i = 0; i < c->n; i++)
            if (store_height(s[i]) >= c->acked_heights[k]) {
                cr_assert_eq(store_tx_location(s[i], c->acked_ids[k], &h, &idx), HANSA_OK,
                             "node%d lost an acknowledged transaction", i);
                cr_assert_eq(h, c->acked_heights[k], "an acknowledged transaction moved");
            }
    }
    for (int i = 0; i < c->n; i++)
        store_close(s[i]);
}
