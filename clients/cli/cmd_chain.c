/*
 * Keys and the chain itself: `hansa keygen`, `hansa status`, `hansa block
 * get`, `hansa tx get` and `hansa history`.
 *
 * keygen works offline (it writes a key file; governance registers the
 * public key it prints). status is the one command that needs no key: the
 * node answers it unsigned. Everything else is a signed read.
 */
#include <string.h>

#include "cli.h"

/* ---- keygen ---- */

/* s as a JSON string (keygen prints no protocol message). */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static int keygen(struct cli *g, const struct cli_args *a)
{
    const char *path, *party = cli_arg(a, "party");
    int rv = cli_need(g, a, "out", &path);
    if (rv != CLI_EXIT_OK)
        return rv;
    if (party != NULL && !cli_id_valid(party))
        return cli_usage(g, "--party '%s': expected 1-64 characters of A-Z a-z 0-9 . _ -", party);
    uint8_t pk[32];
    hansa_error err;
    hansa_code code = hansa_keygen(path, party, pk, &err);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    char hexpk[65];
    cli_hex(pk, sizeof pk, hexpk);
    if (g->json) {
        fputs("{\"path\":", g->out);
        json_string(g->out, path);
        fputs(",\"party\":", g->out);
        json_string(g->out, party != NULL ? party : "");
        fprintf(g->out, ",\"public_key\":\"%s\"}\n", hexpk);
        return CLI_EXIT_OK;
    }
    struct cli_table t;
    cli_table_init(&t, 2, NULL);
    cli_kv(&t, "key file", "%s", path);
    cli_kv(&t, "party", "%s", party != NULL ? party : "-");
    cli_kv(&t, "public key", "%s", hexpk);
    cli_table_print(&t, g->out, NULL);
    cli_table_free(&t);
    fputs("The key signs once governance registers its public key for the party\n"
          "(an AddParty or RotateKey proposal).\n",
          g->out);
    return CLI_EXIT_OK;
}

/* ---- status ---- */

static int status(struct cli *g, const struct cli_args *a)
{
    (void)a;
    int rv = cli_connect(g, false);
    if (rv != CLI_EXIT_OK)
        return rv;
    Hansa__NodeStatus *s = NULL;
    hansa_error err;
    hansa_code code = hansa_status(g->client, &s, &err);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    if (g->json)
        rv = cli_print_json(g, s);
    else
        cli_render_status(g->out, s);
    hansa_free(s);
    return rv;
}

/* ---- block get ---- */

static int block_get(struct cli *g, const struct cli_args *a)
{
    uint64_t height = 0;
    if (a->n_pos == 1 && (!cli_parse_u64(a->pos[0], UINT64_MAX, &height) || height == 0))
        return cli_usage(g, "'%s' is not a block height (1, 2, ...)", a->pos[0]);
    int rv = cli_connect(g, true);
    if (rv != CLI_EXIT_OK)
        return rv;
    Hansa__BlockAnswer *b = NULL;
    hansa_error err;
    hansa_code code = hansa_block_get(g->client, height, &b, &err);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    if (g->json)
        rv = cli_print_json(g, b);
    else
        cli_render_block(g->out, b);
    hansa_free(b);
    return rv;
}

/* ---- tx get ---- */

static int tx_get(struct cli *g, const struct cli_args *a)
{
    uint8_t id[32];
    uint64_t wait_ms = 0;
    if (a->n_pos != 1)
        return cli_usage(g, "which transaction? Give its tx id (64 hex digits)");
    if (!cli_unhex(a->pos[0], id, sizeof id))
        return cli_usage(g, "'%s' is not a tx id (64 hex digits)", a->pos[0]);
    const char *w = cli_arg(a, "wait");
    if (w != NULL && !cli_parse_u64(w, 3600000, &wait_ms))
        return cli_usage(g, "--wait %s: expected milliseconds, 0-3600000", w);
    int rv = cli_connect(g, true);
    if (rv != CLI_EXIT_OK)
        return rv;
    hansa_receipt r;
    hansa_error err;
    hansa_code code = hansa_tx_get(g->client, id, (uint32_t)wait_ms, &r, &err);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    if (!g->json) {
        cli_render_receipt(g->out, &r);
        return CLI_EXIT_OK;
    }
    Hansa__Receipt rec = HANSA__RECEIPT__INIT;
    rec.tx_id = (ProtobufCBinaryData){sizeof r.tx_id, r.tx_id};
    rec.height = r.height;
    rec.index = r.index;
    rec.result = (Hansa__ResultCode)r.result;
    rec.message = r.message;
    rec.block_time_ms = r.block_time_ms;
    Hansa__ReceiptAnswer ans = HANSA__RECEIPT_ANSWER__INIT;
    ans.tx_id = rec.tx_id;
    ans.status =
        r.committed ? HANSA__TX_STATUS__TX_STATUS_COMMITTED : HANSA__TX_STATUS__TX_STATUS_PENDING;
    ans.receipt = r.committed ? &rec : NULL;
    return cli_print_json(g, &ans);
}

/* ---- history ---- */

static bool entity_type(const char *text, Hansa__EntityType *out)
{
    int v;
    if (strcmp(text, "line") == 0)
        v = HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE;
    else if (strcmp(text, "proposal") == 0)
        v = HANSA__ENTITY_TYPE__ENTITY_TYPE_GOVERNANCE_PROPOSAL;
    else if (!cli_parse_enum(&hansa__entity_type__descriptor, text, &v))
        return false;
    *out = (Hansa__EntityType)v;
    return true;
}

/* Types whose entities have no owner (EntityRef table in hansa.proto). */
static bool ownerless(Hansa__EntityType t)
{
    return t == HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY ||
           t == HANSA__ENTITY_TYPE__ENTITY_TYPE_GOVERNANCE_PROPOSAL ||
           t == HANSA__ENTITY_TYPE__ENTITY_TYPE_VALIDATOR ||
           t == HANSA__ENTITY_TYPE__ENTITY_TYPE_NODE;
}

static int history(struct cli *g, const struct cli_args *a)
{
    Hansa__EntityType type;
    if (a->n_pos < 2)
        return cli_usage(g, "expected <type> <owner> <id>, e.g. history order MER-SZ-0001 SO-1");
    if (!entity_type(a->pos[0], &type))
        return cli_usage(g,
                         "'%s' is not an entity type (order, payment, waybill, line, "
                         "financing, party, proposal, validator)",
                         a->pos[0]);
    const char *owner = "", *id;
    if (a->n_pos == 3) {
        owner = strcmp(a->pos[1], "-") == 0 ? "" : a->pos[1];
        id = a->pos[2];
    } else if (ownerless(type)) {
        id = a->pos[1];
    } else {
        return cli_usage(g, "history %s needs the owner and the id: history %s <owner> <id>",
                         a->pos[0], a->pos[0]);
    }
    uint64_t limit = 0;
    const char *l = cli_arg(a, "limit");
    if (l != NULL && (!cli_parse_u64(l, 100, &limit) || limit == 0))
        return cli_usage(g, "--limit %s: expected 1-100", l);
    int rv = cli_connect(g, true);
    if (rv != CLI_EXIT_OK)
        return rv;
    const char *token = cli_arg(a, "page-token");
    Hansa__HistoryPage *p = NULL;
    hansa_error err;
    hansa_code code = hansa_history(g->client, type, owner, id, token != NULL ? token : "",
                                    (uint32_t)limit, &p, &err);
    if (code == HANSA_CODE_INVALID_ARGUMENT)
        return cli_usage(g, "%s", err.message);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    if (g->json) {
        rv = cli_print_json(g, p);
    } else {
        cli_render_history(g->out, p);
        char next[HANSA_PAGE_TOKEN_TEXT_MAX];
        if (p->next_page_token.len > 0 &&
            hansa_page_token_text(&p->next_page_token, next, sizeof next, &err) == HANSA_CODE_OK)
            fprintf(g->out, "… more, use --page-token %s\n", next);
    }
    hansa_free(p);
    return rv;
}

/* ---- options and help ---- */

static const struct cli_opt keygen_opts[] = {
    {"out", CLI_OPT_VALUE, NULL},
    {"party", CLI_OPT_VALUE, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt no_opts[] = {
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt tx_opts[] = {
    {"wait", CLI_OPT_VALUE, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt history_opts[] = {
    {"limit", CLI_OPT_VALUE, NULL},
    {"page-token", CLI_OPT_VALUE, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

static const char help_keygen[] =
    "Write a new Ed25519 party key file (mode 0600; an existing file is never\n"
    "overwritten) and print its public key, which governance registers for the\n"
    "party. Works offline.\n"
    "\n"
    "  --out FILE    the key file to write (required)\n"
    "  --party ID    the party the key belongs to, recorded in the file\n"
    "\n"
    "Example:\n"
    "  hansa keygen --out bank-c.key --party BANK-C\n";

static const char help_status[] =
    "Show the node's status: chain, height and latest block, consensus, peers,\n"
    "mempool, the risk engine's progress and the newest alert. Needs no key.\n"
    "\n"
    "Example:\n"
    "  hansa --node tcp://127.0.0.1:26602 status\n";

static const char help_block[] =
    "Show a committed block: header, hashes, its commit and the result of each\n"
    "transaction (the transactions themselves only for regulators, in --json).\n"
    "\n"
    "  HEIGHT   the block (default: the latest)\n"
    "\n"
    "Example:\n"
    "  hansa block get 12\n";

static const char help_tx[] =
    "Show where a transaction is: committed (height, index, result) or pending.\n"
    "Not found (exit 6) when the node knows nothing of it.\n"
    "\n"
    "  TXID        the tx id a write printed (64 hex digits)\n"
    "  --wait MS   wait up to this long for it to commit (default 0)\n"
    "\n"
    "Example:\n"
    "  hansa tx get 3b1c...e9 --wait 5000\n";

static const char help_history[] =
    "Show every change of one entity, oldest first: height, block time, the change\n"
    "(status, or the credit event with its amount) and the transaction.\n"
    "\n"
    "  TYPE                order, payment, waybill, line, financing, party, proposal\n"
    "                      or validator\n"
    "  OWNER ID            the entity: merchant and order no, institution and pay id,\n"
    "                      carrier and logistics no, bank and line id, merchant and\n"
    "                      financing id; for a party, proposal or validator only ID\n"
    "  --limit N           entries per page, 1-100 (default 50)\n"
    "  --page-token TOKEN  the next page, as printed after the previous one\n"
    "\n"
    "Example:\n"
    "  hansa history financing MER-SZ-0001 FIN-1001\n";

const struct cli_cmd cli_cmds_chain[] = {
    {"keygen", NULL, "write a new party key file", help_keygen,
     "hansa keygen --out FILE [--party ID]", keygen_opts, 0, keygen},
    {"status", NULL, "the node's status", help_status, "hansa status", no_opts, 0, status},
    {"block", "get", "show a block", help_block, "hansa block get [HEIGHT]", no_opts, 1, block_get},
    {"tx", "get", "show a transaction's receipt", help_tx, "hansa tx get TXID [--wait MS]", tx_opts,
     1, tx_get},
    {"history", NULL, "every change of an entity", help_history,
     "hansa history TYPE OWNER ID [--limit N] [--page-token TOKEN]", history_opts, 3, history},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL},
};
