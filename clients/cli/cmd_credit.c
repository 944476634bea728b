/*
 * Trade credit: `hansa credit open|limit|suspend|resume|close|get`, `hansa
 * finance request|approve|reject|disburse|repay|default|get` and `hansa
 * exposure`.
 *
 * A bank acts on its own lines, so line commands take only --line-id (the
 * bank is the key's party). Financing decisions name the financing by its
 * merchant and id. Amounts whose currency the command line does not state
 * (a new limit, a repayment) are read in the currency of the line or
 * financing, which the command reads first unless --currency is given.
 */
#include <string.h>

#include "cli.h"

#define ACTION(x) HANSA__TX_BODY__ACTION_##x

static Hansa__LineRef *own_line(struct cli *g, const struct cli_args *a, struct cli_arena *ar,
                                int *rv)
{
    const char *id;
    *rv = cli_id_opt(g, a, "line-id", false, &id);
    if (*rv != CLI_EXIT_OK)
        return NULL;
    Hansa__LineRef *l = cli_arena_alloc(ar, sizeof *l);
    hansa__line_ref__init(l);
    l->bank = cli_arena_strdup(ar, cli_party(g));
    l->line_id = cli_arena_strdup(ar, id);
    return l;
}

static Hansa__FinancingRef *financing_ref(struct cli *g, const struct cli_args *a,
                                          struct cli_arena *ar, int *rv)
{
    const char *merchant, *id;
    *rv = cli_id_opt(g, a, "merchant", false, &merchant);
    if (*rv == CLI_EXIT_OK)
        *rv = cli_id_opt(g, a, "financing-id", false, &id);
    if (*rv != CLI_EXIT_OK)
        return NULL;
    Hansa__FinancingRef *f = cli_arena_alloc(ar, sizeof *f);
    hansa__financing_ref__init(f);
    f->merchant = cli_arena_strdup(ar, merchant);
    f->financing_id = cli_arena_strdup(ar, id);
    return f;
}

/* The currency of --currency, or of the record read with get. */
static int currency_of(struct cli *g, const struct cli_args *a, struct cli_arena *ar,
                       const Hansa__LineRef *line, const Hansa__FinancingRef *fin, const char **out)
{
    const char *c = cli_arg(a, "currency");
    if (c != NULL) {
        *out = c;
        return CLI_EXIT_OK;
    }
    hansa_error err;
    hansa_code code;
    if (line != NULL) {
        Hansa__CreditLine *l = NULL;
        code = hansa_credit_get(g->client, line->bank, line->line_id, &l, &err);
        if (code == HANSA_CODE_OK)
            *out = cli_arena_strdup(ar, l->currency);
        hansa_free(l);
    } else {
        Hansa__Financing *f = NULL;
        code = hansa_finance_get(g->client, fin->merchant, fin->financing_id, &f, &err);
        if (code == HANSA_CODE_OK)
            *out = cli_arena_strdup(ar, f->currency);
        hansa_free(f);
    }
    if (code != HANSA_CODE_OK) {
        fprintf(g->err,
                "hansa %s: cannot read the %s to learn its currency "
                "(give --currency to skip this)\n",
                g->cmd_name, line != NULL ? "line" : "financing");
        return cli_fail_sdk(g, code, &err);
    }
    return CLI_EXIT_OK;
}

/* ---- credit lines ---- */

static int credit_open(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(OPEN_CREDIT_LINE), cli_doc_line);
}

static int limit_doc(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out)
{
    int rv;
    Hansa__ChangeCreditLimit *m = cli_arena_alloc(ar, sizeof *m);
    hansa__change_credit_limit__init(m);
    *out = m;
    m->line = own_line(g, a, ar, &rv);
    const char *currency = NULL;
    if (rv == CLI_EXIT_OK && cli_arg(a, "limit") == NULL)
        rv = cli_usage(g, "--limit is required");
    if (rv == CLI_EXIT_OK)
        rv = currency_of(g, a, ar, m->line, NULL, &currency);
    if (rv == CLI_EXIT_OK)
        rv = cli_amount_opt(g, a, "limit", currency, true, &m->limit_minor);
    return rv;
}

static int credit_limit(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(CHANGE_CREDIT_LIMIT), limit_doc);
}

/* SuspendCreditLine, ResumeCreditLine and CloseCreditLine are one field,
 * the line: one builder per message type. */
#define LINE_DOC(fn, type, init)                                                                   \
    static int fn(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out)       \
    {                                                                                              \
        int rv;                                                                                    \
        type *m = cli_arena_alloc(ar, sizeof *m);                                                  \
        init(m);                                                                                   \
        m->line = own_line(g, a, ar, &rv);                                                         \
        *out = m;                                                                                  \
        return rv;                                                                                 \
    }
LINE_DOC(suspend_doc, Hansa__SuspendCreditLine, hansa__suspend_credit_line__init)
LINE_DOC(resume_doc, Hansa__ResumeCreditLine, hansa__resume_credit_line__init)
LINE_DOC(close_doc, Hansa__CloseCreditLine, hansa__close_credit_line__init)

static int credit_suspend(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(SUSPEND_CREDIT_LINE), suspend_doc);
}

static int credit_resume(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(RESUME_CREDIT_LINE), resume_doc);
}

static int credit_close(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(CLOSE_CREDIT_LINE), close_doc);
}

static int credit_get(struct cli *g, const struct cli_args *a)
{
    const char *bank, *id;
    int rv = cli_connect(g, true);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "bank", true, &bank);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "line-id", false, &id);
    if (rv != CLI_EXIT_OK)
        return rv;
    Hansa__CreditLine *l = NULL;
    hansa_error err;
    hansa_code code = hansa_credit_get(g->client, bank, id, &l, &err);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    if (g->json)
        rv = cli_print_json(g, l);
    else
        cli_render_line(g->out, l);
    hansa_free(l);
    return rv;
}

/* ---- financing ---- */

static int finance_request(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(REQUEST_FINANCING), cli_doc_financing);
}

/* Approve, reject, disburse and default are one field, the financing. */
#define FIN_DOC(fn, type, init)                                                                    \
    static int fn(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out)       \
    {                                                                                              \
        int rv;                                                                                    \
        type *m = cli_arena_alloc(ar, sizeof *m);                                                  \
        init(m);                                                                                   \
        m->financing = financing_ref(g, a, ar, &rv);                                               \
        *out = m;                                                                                  \
        return rv;                                                                                 \
    }
FIN_DOC(approve_doc, Hansa__ApproveFinancing, hansa__approve_financing__init)
FIN_DOC(reject_doc, Hansa__RejectFinancing, hansa__reject_financing__init)
FIN_DOC(disburse_doc, Hansa__DisburseFinancing, hansa__disburse_financing__init)
FIN_DOC(default_doc, Hansa__DeclareDefault, hansa__declare_default__init)

static int repay_doc(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out)
{
    int rv;
    Hansa__RecordRepayment *m = cli_arena_alloc(ar, sizeof *m);
    hansa__record_repayment__init(m);
    *out = m;
    m->financing = financing_ref(g, a, ar, &rv);
    const char *currency = NULL;
    if (rv == CLI_EXIT_OK && cli_arg(a, "amount") == NULL)
        rv = cli_usage(g, "--amount is required");
    if (rv == CLI_EXIT_OK)
        rv = currency_of(g, a, ar, NULL, m->financing, &currency);
    if (rv == CLI_EXIT_OK)
        rv = cli_amount_opt(g, a, "amount", currency, true, &m->amount_minor);
    return rv;
}

static int finance_approve(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(APPROVE_FINANCING), approve_doc);
}

static int finance_reject(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(REJECT_FINANCING), reject_doc);
}

static int finance_disburse(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(DISBURSE_FINANCING), disburse_doc);
}

static int finance_repay(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(RECORD_REPAYMENT), repay_doc);
}

static int finance_default(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(DECLARE_DEFAULT), default_doc);
}

static int finance_get(struct cli *g, const struct cli_args *a)
{
    const char *merchant, *id;
    int rv = cli_connect(g, true);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "merchant", true, &merchant);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "financing-id", false, &id);
    if (rv != CLI_EXIT_OK)
        return rv;
    Hansa__Financing *f = NULL;
    hansa_error err;
    hansa_code code = hansa_finance_get(g->client, merchant, id, &f, &err);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    if (g->json)
        rv = cli_print_json(g, f);
    else
        cli_render_financing(g->out, f);
    hansa_free(f);
    return rv;
}

static int exposure(struct cli *g, const struct cli_args *a)
{
    const char *borrower;
    int rv = cli_connect(g, true);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "borrower", false, &borrower);
    if (rv != CLI_EXIT_OK)
        return rv;
    Hansa__Exposure *e = NULL;
    hansa_error err;
    hansa_code code = hansa_exposure_get(g->client, borrower, &e, &err);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    if (g->json)
        rv = cli_print_json(g, e);
    else
        cli_render_exposure(g->out, e);
    hansa_free(e);
    return rv;
}

/* ---- options ---- */

static const struct cli_opt open_opts[] = {
    {"line-id", CLI_OPT_VALUE, NULL},
    {"borrower", CLI_OPT_VALUE, NULL},
    {"currency", CLI_OPT_VALUE, NULL},
    {"limit", CLI_OPT_VALUE, NULL},
    {"advance-rate-bps", CLI_OPT_VALUE, NULL},
    {"expiry", CLI_OPT_VALUE, NULL},
    CLI_WRITE_OPTS,
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt limit_opts[] = {
    {"line-id", CLI_OPT_VALUE, NULL},  {"limit", CLI_OPT_VALUE, NULL},
    {"currency", CLI_OPT_VALUE, NULL}, CLI_WRITE_OPTS,
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt line_opts[] = {
    {"line-id", CLI_OPT_VALUE, NULL},
    CLI_WRITE_OPTS,
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt line_get_opts[] = {
    {"bank", CLI_OPT_VALUE, NULL},
    {"line-id", CLI_OPT_VALUE, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt request_opts[] = {
    {"financing-id", CLI_OPT_VALUE, NULL},
    {"bank", CLI_OPT_VALUE, NULL},
    {"line-id", CLI_OPT_VALUE, NULL},
    {"order", CLI_OPT_LIST, NULL},
    {"order-no", CLI_OPT_LIST, "order"},
    {"amount", CLI_OPT_VALUE, NULL},
    {"currency", CLI_OPT_VALUE, NULL},
    {"maturity", CLI_OPT_VALUE, NULL},
    CLI_WRITE_OPTS,
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt fin_opts[] = {
    {"merchant", CLI_OPT_VALUE, NULL},
    {"financing-id", CLI_OPT_VALUE, NULL},
    CLI_WRITE_OPTS,
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt repay_opts[] = {
    {"merchant", CLI_OPT_VALUE, NULL},
    {"financing-id", CLI_OPT_VALUE, NULL},
    {"amount", CLI_OPT_VALUE, NULL},
    {"currency", CLI_OPT_VALUE, NULL},
    CLI_WRITE_OPTS,
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt fin_get_opts[] = {
    {"merchant", CLI_OPT_VALUE, NULL},
    {"financing-id", CLI_OPT_VALUE, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt exposure_opts[] = {
    {"borrower", CLI_OPT_VALUE, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

/* ---- help ---- */

#define WRITE_HELP                                                                                 \
    "Write options:\n"                                                                             \
    "  --file FILE     the whole document as JSON (hansa.proto field names; '-'\n"                 \
    "                  reads stdin) instead of the options above\n"                                \
    "  --wait MS       wait this long for the commit (default 30000)\n"                            \
    "  --no-wait       return once the node admitted it\n"                                         \
    "The signer is the key's party. Prints the result code, tx id and height.\n"

static const char help_open[] =
    "Open a credit line to a merchant, as a bank.\n"
    "\n"
    "  --line-id ID            your line id, unique (required)\n"
    "  --borrower ID           the borrowing merchant (required)\n"
    "  --currency CODE         currency of the line and all its financing (required)\n"
    "  --limit AMOUNT          limit in major units, e.g. 1000000.00 (required)\n"
    "  --advance-rate-bps N    most a financing may be of its orders' value, basis\n"
    "                          points 1-10000 (default: the chain's, 8000 = 80 %)\n"
    "  --expiry TIME           when the line expires: 2027-06-30, +365d ... (required)\n"
    "\n" WRITE_HELP "\n"
    "Example:\n"
    "  hansa credit open --line-id LINE-MER-1 --borrower MER-SZ-0001 --currency CNY \\\n"
    "    --limit 1000000.00 --advance-rate-bps 8000 --expiry +365d\n";

static const char help_limit[] =
    "Change the limit of one of your lines (also below what is outstanding).\n"
    "\n"
    "  --line-id ID      your line id (required)\n"
    "  --limit AMOUNT    the new limit in major units (required)\n"
    "  --currency CODE   the line's currency (default: read from the line)\n"
    "\n" WRITE_HELP "\n"
    "Example:\n"
    "  hansa credit limit --line-id LINE-MER-1 --limit 2000000.00\n";

static const char help_suspend[] =
    "Suspend one of your lines: no new requests, approvals or disbursals.\n"
    "\n"
    "  --line-id ID   your line id (required)\n"
    "\n" WRITE_HELP "\n"
    "Example:\n"
    "  hansa credit suspend --line-id LINE-MER-1\n";

static const char help_resume[] = "Resume one of your suspended lines.\n"
                                  "\n"
                                  "  --line-id ID   your line id (required)\n"
                                  "\n" WRITE_HELP "\n"
                                  "Example:\n"
                                  "  hansa credit resume --line-id LINE-MER-1\n";

static const char help_close[] =
    "Close one of your lines for good; only with nothing outstanding or approved.\n"
    "\n"
    "  --line-id ID   your line id (required)\n"
    "\n" WRITE_HELP "\n"
    "Example:\n"
    "  hansa credit close --line-id LINE-MER-1\n";

static const char help_line_get[] = "Show a credit line: limit, available, outstanding, status.\n"
                                    "\n"
                                    "  --bank ID      the line's bank (default: the key's party)\n"
                                    "  --line-id ID   the line id (required)\n"
                                    "\n"
                                    "Example:\n"
                                    "  hansa credit get --bank BANK-A --line-id LINE-MER-1\n";

static const char help_request[] =
    "Request financing against your matched orders on a line of which you are the\n"
    "borrower, as a merchant.\n"
    "\n"
    "  --financing-id ID   your financing id, unique (required)\n"
    "  --bank ID           the line's bank (required)\n"
    "  --line-id ID        the line (required)\n"
    "  --order NO          one of your order numbers; repeat for more (required)\n"
    "  --amount AMOUNT     amount requested in major units (required)\n"
    "  --currency CODE     the line's currency (required)\n"
    "  --maturity TIME     when it falls due: 2026-12-31, +90d ... (required)\n"
    "\n" WRITE_HELP "\n"
    "Example:\n"
    "  hansa finance request --financing-id FIN-1001 --bank BANK-A \\\n"
    "    --line-id LINE-MER-1 --order SO-1001 --amount 240.00 --currency CNY \\\n"
    "    --maturity +90d\n";

#define FIN_HELP(what, example)                                                                    \
    what "\n"                                                                                      \
         "\n"                                                                                      \
         "  --merchant ID       the borrowing merchant (required)\n"                               \
         "  --financing-id ID   the merchant's financing id (required)\n"                          \
         "\n" WRITE_HELP "\n"                                                                      \
         "Example:\n"                                                                              \
         "  " example "\n"

static const char help_approve[] =
    FIN_HELP("Approve a financing requested on one of your lines, as its bank: every order it\n"
             "references is pledged to it, and no other financing at any bank can use them\n"
             "(ASSET_ALREADY_PLEDGED).",
             "hansa finance approve --merchant MER-SZ-0001 --financing-id FIN-1001");
static const char help_reject[] =
    FIN_HELP("Reject a requested financing, or withdraw an approval before disbursal;\n"
             "its pledges are released.",
             "hansa finance reject --merchant MER-SZ-0001 --financing-id FIN-1001");
static const char help_disburse[] =
    FIN_HELP("Disburse an approved financing (its full amount).",
             "hansa finance disburse --merchant MER-SZ-0001 --financing-id FIN-1001");
static const char help_default[] =
    FIN_HELP("Declare an OVERDUE financing DEFAULTED; its orders stay pledged.",
             "hansa finance default --merchant MER-SZ-0001 --financing-id FIN-1001");

static const char help_repay[] =
    "Record a repayment of principal (partial allowed), as the line's bank. Paid in\n"
    "full, the financing is SETTLED and its pledges released.\n"
    "\n"
    "  --merchant ID       the borrowing merchant (required)\n"
    "  --financing-id ID   the merchant's financing id (required)\n"
    "  --amount AMOUNT     amount repaid in major units (required)\n"
    "  --currency CODE     the financing's currency (default: read from it)\n"
    "\n" WRITE_HELP "\n"
    "Example:\n"
    "  hansa finance repay --merchant MER-SZ-0001 --financing-id FIN-1001 --amount 240.00\n";

static const char help_fin_get[] =
    "Show a financing: status, amounts, orders and pledges, its dates.\n"
    "\n"
    "  --merchant ID       the borrowing merchant (default: the key's party)\n"
    "  --financing-id ID   the financing id (required)\n"
    "\n"
    "Example:\n"
    "  hansa finance get --merchant MER-SZ-0001 --financing-id FIN-1001\n";

static const char help_exposure[] =
    "Show a borrower's aggregate outstanding across all banks, one amount per\n"
    "currency (no bank names or terms). Readable by the borrower, a bank with a\n"
    "line to it that is not closed, and regulators; audited.\n"
    "\n"
    "  --borrower ID   the borrowing merchant (required)\n"
    "\n"
    "Example:\n"
    "  hansa exposure --borrower MER-SZ-0001\n";

const struct cli_cmd cli_cmds_credit[] = {
    {"credit", "open", "open a credit line (bank)", help_open,
     "hansa credit open --line-id ID --borrower ID --currency CODE --limit AMOUNT "
     "--expiry TIME [--advance-rate-bps N]",
     open_opts, 0, credit_open},
    {"credit", "limit", "change a line's limit (bank)", help_limit,
     "hansa credit limit --line-id ID --limit AMOUNT [--currency CODE]", limit_opts, 0,
     credit_limit},
    {"credit", "suspend", "suspend a line (bank)", help_suspend,
     "hansa credit suspend --line-id ID", line_opts, 0, credit_suspend},
    {"credit", "resume", "resume a suspended line (bank)", help_resume,
     "hansa credit resume --line-id ID", line_opts, 0, credit_resume},
    {"credit", "close", "close a line (bank)", help_close, "hansa credit close --line-id ID",
     line_opts, 0, credit_close},
    {"credit", "get", "show a credit line", help_line_get,
     "hansa credit get [--bank ID] --line-id ID", line_get_opts, 0, credit_get},
    {"finance", "request", "request financing against orders (merchant)", help_request,
     "hansa finance request --financing-id ID --bank ID --line-id ID --order NO... "
     "--amount AMOUNT --currency CODE --maturity TIME",
     request_opts, 0, finance_request},
    {"finance", "approve", "approve and pledge the orders (bank)", help_approve,
     "hansa finance approve --merchant ID --financing-id ID", fin_opts, 0, finance_approve},
    {"finance", "reject", "reject, or withdraw an approval (bank)", help_reject,
     "hansa finance reject --merchant ID --financing-id ID", fin_opts, 0, finance_reject},
    {"finance", "disburse", "disburse an approved financing (bank)", help_disburse,
     "hansa finance disburse --merchant ID --financing-id ID", fin_opts, 0, finance_disburse},
    {"finance", "repay", "record a repayment (bank)", help_repay,
     "hansa finance repay --merchant ID --financing-id ID --amount AMOUNT", repay_opts, 0,
     finance_repay},
    {"finance", "default", "declare an overdue financing defaulted (bank)", help_default,
     "hansa finance default --merchant ID --financing-id ID", fin_opts, 0, finance_default},
    {"finance", "get", "show a financing", help_fin_get,
     "hansa finance get [--merchant ID] --financing-id ID", fin_get_opts, 0, finance_get},
    {"exposure", NULL, "a borrower's aggregate outstanding (banks, regulators)", help_exposure,
     "hansa exposure --borrower ID", exposure_opts, 0, exposure},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL},
};
