/*
 * The session of one command: diagnostics, the exit status of an SDK
 * outcome, opening the client from the global options, and submitting a
 * write with the printing of its outcome.
 *
 * Exit statuses are decided here and nowhere else (cli.h invariant 1):
 *
 *   SDK code                     exit
 *   OK                           0
 *   INVALID_ARGUMENT             2  (the command line or document is wrong)
 *   CONNECT, TIMEOUT             3
 *   REFUSED                      4
 *   REJECTED                     5
 *   NOT_FOUND, DENIED            6
 *   anything else                1
 *
 * A write is submitted asynchronously so that the main thread can say on
 * stderr, every few seconds, that the commit is still awaited (progress of
 * a command that may wait 30 s); the outcome is the same as hansa_submit's.
 * A write prints its outcome on stdout whenever a transaction was built
 * (its tx id is known): committed, rejected, refused or still pending. In
 * --json mode that outcome is a hansa.Receipt: height > 0 means committed
 * (result is the ledger's verdict), height 0 means not in a block (result
 * is the admission verdict: OK = admitted and pending, anything else =
 * refused).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define RES(x) HANSA__RESULT_CODE__RESULT_##x

int cli_exit_of(hansa_code code)
{
    switch (code) {
    case HANSA_CODE_OK:
        return CLI_EXIT_OK;
    case HANSA_CODE_INVALID_ARGUMENT:
        return CLI_EXIT_USAGE;
    case HANSA_CODE_CONNECT:
    case HANSA_CODE_TIMEOUT:
        return CLI_EXIT_CONNECT;
    case HANSA_CODE_REFUSED:
        return CLI_EXIT_REFUSED;
    case HANSA_CODE_REJECTED:
        return CLI_EXIT_REJECTED;
    case HANSA_CODE_NOT_FOUND:
    case HANSA_CODE_DENIED:
        return CLI_EXIT_NOT_FOUND;
    default:
        return CLI_EXIT_FAILURE;
    }
}

/* ---- diagnostics ---- */

static void vsay(struct cli *g, const char *fmt, va_list ap)
{
    fprintf(g->err, "hansa%s%s: ", g->cmd_name[0] ? " " : "", g->cmd_name);
    vfprintf(g->err, fmt, ap);
    fputc('\n', g->err);
}

int cli_usage(struct cli *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(g, fmt, ap);
    va_end(ap);
    fprintf(g->err, "Try 'hansa%s%s --help'.\n", g->cmd_name[0] ? " " : "", g->cmd_name);
    return CLI_EXIT_USAGE;
}

int cli_fail(struct cli *g, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(g, fmt, ap);
    va_end(ap);
    return status;
}

int cli_fail_sdk(struct cli *g, hansa_code code, const hansa_error *err)
{
    const char *msg = err != NULL && err->message[0] ? err->message : "(no message)";
    const char *name = hansa_code_name(code);
    /* The SDK's sentence often starts with the node's error name already. */
    if (strncmp(msg, name, strlen(name)) == 0)
        return cli_fail(g, cli_exit_of(code), "%s", msg);
    return cli_fail(g, cli_exit_of(code), "%s: %s", name, msg);
}

/* ---- the client ---- */

int cli_connect(struct cli *g, bool need_key)
{
    CLI_ASSERT(g->client == NULL);
    if (g->node == NULL)
        return cli_usage(g, "which node? Give --node URL or set HANSA_NODE "
                            "(e.g. tcp://127.0.0.1:26602)");
    bool tls = strncmp(g->node, "tls+tcp://", 10) == 0;
    if (tls && g->ca == NULL)
        return cli_usage(g, "%s is a TLS url: give the consortium CA with --ca FILE or HANSA_CA",
                         g->node);
    if (tls && g->server_name == NULL)
        return cli_usage(g,
                         "%s is a TLS url: give the name in the node's certificate with "
                         "--server-name NAME (node0 on a testnet) or HANSA_SERVER_NAME",
                         g->node);
    if (need_key && g->key == NULL)
        return cli_usage(g, "this command signs: give a party key with --key FILE or HANSA_KEY");
    hansa_client_options o = {.url = g->node,
                              .ca_path = g->ca,
                              .server_name = g->server_name,
                              /* a command that does not sign never loads a key */
                              .key_path = need_key ? g->key : NULL,
                              .timeout_ms = g->timeout_ms};
    hansa_error err;
    hansa_code code = hansa_client_open(&o, &g->client, &err);
    if (code != HANSA_CODE_OK) {
        g->client = NULL;
        return cli_fail_sdk(g, code, &err);
    }
    return CLI_EXIT_OK;
}

void cli_disconnect(struct cli *g)
{
    hansa_client_close(g->client);
    g->client = NULL;
}

const char *cli_party(const struct cli *g)
{
    return g->client != NULL ? hansa_client_party(g->client) : "";
}

int cli_print_json(struct cli *g, const void *msg)
{
    char *s = hansa_json_from_message(msg, false);
    if (s == NULL)
        return cli_fail(g, CLI_EXIT_FAILURE, "cannot write the answer as JSON (out of memory)");
    fputs(s, g->out);
    fputc('\n', g->out);
    free(s);
    return CLI_EXIT_OK;
}

/* ---- writes ---- */

static bool built(const hansa_receipt *r)
{
    for (size_t i = 0; i < sizeof r->tx_id; i++)
        if (r->tx_id[i] != 0)
            return true;
    return false;
}

/* The node's own sentence of a refusal, without the SDK's "refused at
 * admission: NAME: " lead (the result is printed beside it). */
static const char *refusal_text(const hansa_error *err)
{
    static const char lead[] = "refused at admission: ";
    const char *m = err->message, *name = hansa_result_name(err->result);
    if (strncmp(m, lead, sizeof lead - 1) == 0)
        m += sizeof lead - 1;
    if (strncmp(m, name, strlen(name)) == 0 && strncmp(m + strlen(name), ": ", 2) == 0)
        m += strlen(name) + 2;
    return m;
}

static int outcome_json(struct cli *g, hansa_code code, const hansa_receipt *r,
                        const hansa_error *err)
{
    Hansa__Receipt j = HANSA__RECEIPT__INIT;
    j.tx_id = (ProtobufCBinaryData){sizeof r->tx_id, (uint8_t *)(uintptr_t)r->tx_id};
    if (r->committed) {
        j.height = r->height;
        j.index = r->index;
        j.result = (Hansa__ResultCode)r->result;
        j.message = (char *)(uintptr_t)r->message;
        j.block_time_ms = r->block_time_ms;
    } else if (code == HANSA_CODE_REFUSED) {
        j.result = (Hansa__ResultCode)err->result;
        j.message = (char *)(uintptr_t)refusal_text(err);
    } else {
        j.result = RES(OK); /* admitted, not (yet) committed */
        j.message = (char *)(uintptr_t)(code == HANSA_CODE_OK ? "" : err->message);
    }
    return cli_print_json(g, &j);
}

static void outcome_text(struct cli *g, hansa_code code, const hansa_receipt *r,
                         const hansa_error *err, uint32_t wait_ms)
{
    char id[65], when[CLI_VALUE_TEXT_MAX];
    cli_hex(r->tx_id, sizeof r->tx_id, id);
    struct cli_table t;
    cli_table_init(&t, 2, NULL);
    if (r->committed) {
        if (r->result == RES(OK))
            cli_kv(&t, "result", "OK");
        else
            cli_kv(&t, "result", "%s (committed as a rejection: nothing changed)",
                   hansa_result_name(r->result));
        if (r->message[0])
            cli_kv(&t, "message", "%s", r->message);
        cli_kv(&t, "tx id", "%s", id);
        cli_kv(&t, "height", "%llu", (unsigned long long)r->height);
        cli_kv(&t, "index", "%u", (unsigned)r->index);
        cli_format_time(r->block_time_ms, when, sizeof when);
        cli_kv(&t, "block time", "%s", when);
    } else if (code == HANSA_CODE_REFUSED) {
        cli_kv(&t, "result", "%s (refused at admission: not in any block)",
               hansa_result_name(err->result));
        cli_kv(&t, "message", "%s", refusal_text(err));
        cli_kv(&t, "tx id", "%s", id);
    } else if (code == HANSA_CODE_OK) {
        cli_kv(&t, "result", "ADMITTED (not waiting for the commit)");
        cli_kv(&t, "tx id", "%s", id);
        cli_kv(&t, "receipt", "hansa tx get %s --wait 30000", id);
    } else {
        cli_kv(&t, "result", "PENDING (admitted; not committed within %u ms)", (unsigned)wait_ms);
        cli_kv(&t, "tx id", "%s", id);
        cli_kv(&t, "receipt", "hansa tx get %s --wait 30000", id);
    }
    cli_table_print(&t, g->out, NULL);
    cli_table_free(&t);
}

/* A submit in flight: the SDK's callback fills it, the main thread waits. */
struct pending {
    pthread_mutex_t mu;
    pthread_cond_t cond; /* monotonic clock */
    bool done;
    hansa_code code;
    hansa_receipt receipt;
    hansa_error err;
};

static void on_done(void *arg, hansa_code code, const hansa_receipt *receipt,
                    const hansa_error *err)
{
    struct pending *p = arg;
    pthread_mutex_lock(&p->mu);
    p->code = code;
    if (receipt != NULL)
        p->receipt = *receipt;
    if (err != NULL)
        p->err = *err;
    p->done = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

/* Wait for the callback, saying every CLI_PROGRESS_MS on stderr that the
 * commit is still awaited (a write can wait 30 s by default). */
#define CLI_PROGRESS_MS 5000u

static void await(struct cli *g, struct pending *p)
{
    unsigned waited_s = 0;
    pthread_mutex_lock(&p->mu);
    while (!p->done) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += CLI_PROGRESS_MS / 1000u;
        if (pthread_cond_timedwait(&p->cond, &p->mu, &ts) == ETIMEDOUT && !p->done) {
            waited_s += CLI_PROGRESS_MS / 1000u;
            fprintf(g->err, "hansa %s: waiting for the commit (%u s)...\n", g->cmd_name, waited_s);
            fflush(g->err);
        }
    }
    pthread_mutex_unlock(&p->mu);
}

/* hansa_submit, with a progress line while the commit is awaited. */
static hansa_code submit(struct cli *g, Hansa__TxBody__ActionCase action, const void *msg,
                         const hansa_submit_options *o, hansa_receipt *r, hansa_error *err)
{
    struct pending p;
    memset(&p, 0, sizeof p);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p.cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&p.mu, NULL);
    hansa_code code = hansa_submit_async(g->client, action, msg, o, on_done, &p, err);
    if (code == HANSA_CODE_OK) {
        await(g, &p);
        code = p.code;
        *r = p.receipt;
        *err = p.err;
    }
    pthread_cond_destroy(&p.cond);
    pthread_mutex_destroy(&p.mu);
    return code;
}

int cli_submit(struct cli *g, const struct cli_args *a, Hansa__TxBody__ActionCase action,
               const void *msg)
{
    hansa_submit_options o = {.no_wait = cli_flag(a, "no-wait")};
    const char *w = cli_arg(a, "wait");
    if (w != NULL) {
        uint64_t ms;
        if (!cli_parse_u64(w, 3600000, &ms) || ms == 0)
            return cli_usage(g, "--wait %s: expected milliseconds, 1-3600000", w);
        o.wait_ms = (uint32_t)ms;
    }
    hansa_receipt r;
    hansa_error err;
    memset(&r, 0, sizeof r);
    hansa_code code = submit(g, action, msg, &o, &r, &err);
    bool known = code == HANSA_CODE_OK || code == HANSA_CODE_REFUSED ||
                 code == HANSA_CODE_REJECTED || code == HANSA_CODE_TIMEOUT;
    if (!built(&r) || !known) {
        if (built(&r)) {
            char id[65];
            cli_hex(r.tx_id, sizeof r.tx_id, id);
            fprintf(g->err, "hansa %s: tx id %s\n", g->cmd_name, id);
        }
        return cli_fail_sdk(g, code, &err);
    }
    if (g->json)
        outcome_json(g, code, &r, &err);
    else
        outcome_text(g, code, &r, &err, o.wait_ms != 0 ? o.wait_ms : 30000);
    fflush(g->out);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    return CLI_EXIT_OK;
}
