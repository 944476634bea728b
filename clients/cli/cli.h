/*
 * The `hansa` command-line client: shared declarations.
 *
 * The CLI is a thin shell over libhansa (<hansa/hansa.h>): it parses a
 * command line into options, turns them into a protocol document (or reads
 * the document from a JSON file), calls the SDK, and prints what came back
 * as aligned text or, with --json, as one JSON object per line.
 *
 * Modules (each file says more at its top):
 *   main.c         global options, the command table, help, dispatch
 *   args.c         option parsing against a command's option list
 *   values.c       parsing and printing of values: amounts in major units,
 *                  ISO-8601 times, cursors, enum names, hex (pure)
 *   table.c        aligned tables and key-value blocks (pure)
 *   docs.c         documents from flags: order, payment, waybill, line,
 *                  financing; identity commitments
 *   render.c       records as text
 *   session.c      the connection, writes, failures and exit statuses
 *   cmd_*.c        the commands
 *
 * Invariants:
 *   1. every command returns an exit status of enum cli_exit, decided in
 *      one place (cli_exit_of) from the SDK's hansa_code;
 *   2. results go to stdout, diagnostics to stderr, so `--json` output can
 *      be piped to a JSON tool as it is;
 *   3. nothing here parses an amount or a time with floating point: amounts
 *      are decimal strings scaled by the currency's minor-unit exponent.
 */
#ifndef HANSA_CLI_H
#define HANSA_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <hansa/hansa.h>

/* Invariant checks that stay on (STYLE.md 6); never for user input. */
#define CLI_ASSERT(x)                                                                              \
    do {                                                                                           \
        if (!(x))                                                                                  \
            cli_assert_fail(#x, __FILE__, __LINE__);                                               \
    } while (0)
_Noreturn void cli_assert_fail(const char *expr, const char *file, int line);

/* ---- exit statuses (README "Exit status", `hansa --help`) ---- */

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,   /* anything not below */
    CLI_EXIT_USAGE = 2,     /* bad command line or document */
    CLI_EXIT_CONNECT = 3,   /* the node cannot be reached, or did not answer / commit in time */
    CLI_EXIT_REFUSED = 4,   /* a transaction refused at admission */
    CLI_EXIT_REJECTED = 5,  /* committed with a business rejection */
    CLI_EXIT_NOT_FOUND = 6, /* a read found nothing, or the key's party may not read it */
};

/* The exit status of an SDK outcome (invariant 1). */
int cli_exit_of(hansa_code code);

/* Longest values the CLI formats (amounts, times, cursors). */
#define CLI_VALUE_TEXT_MAX 64
/* Options one command line may carry, positional arguments included. */
#define CLI_ARGS_MAX 512

/* ---- options ---- */

enum cli_opt_kind {
    CLI_OPT_FLAG,  /* --json */
    CLI_OPT_VALUE, /* --order-no SO-1 (given once) */
    CLI_OPT_LIST,  /* --item SPEC --item SPEC (given any number of times) */
};

struct cli_opt {
    const char *name; /* without the leading "--"; NULL ends a list */
    enum cli_opt_kind kind;
    const char *alias_of; /* another spelling of this option; NULL for none */
};

/* A parsed command line: options by their canonical name, in order. */
struct cli_args {
    const char *names[CLI_ARGS_MAX];
    const char *values[CLI_ARGS_MAX]; /* "" for flags */
    size_t n;
    const char *pos[CLI_ARGS_MAX]; /* positional arguments */
    size_t n_pos;
};

/* The value of option name (the last one given), or NULL. */
const char *cli_arg(const struct cli_args *a, const char *name);
bool cli_flag(const struct cli_args *a, const char *name);
/* How many times name was given; its k-th value. */
size_t cli_arg_count(const struct cli_args *a, const char *name);
const char *cli_arg_nth(const struct cli_args *a, const char *name, size_t k);

/* ---- global options and the session ---- */

struct cli_cmd;

struct cli {
    /* global options (after the environment fallbacks) */
    const char *node;        /* --node / HANSA_NODE */
    const char *key;         /* --key / HANSA_KEY */
    const char *ca;          /* --ca / HANSA_CA */
    const char *server_name; /* --server-name / HANSA_SERVER_NAME */
    const char *events;      /* --events / HANSA_EVENTS (alerts watch) */
    uint32_t timeout_ms;     /* --timeout, 0 = the SDK's default */
    bool json;               /* --json */
    /* the command being run, for messages ("order create") */
    char cmd_name[48];
    const struct cli_cmd *cmd;
    hansa_client *client; /* opened by cli_connect */
    FILE *out, *err;
};

typedef int (*cli_run_fn)(struct cli *g, const struct cli_args *a);

struct cli_cmd {
    const char *group;          /* "order" */
    const char *name;           /* "create"; NULL for one-word commands */
    const char *summary;        /* one line for the listings */
    const char *help;           /* the text of --help after the usage line */
    const char *usage;          /* "hansa order create --order-no NO ..." */
    const struct cli_opt *opts; /* the command's own options, NULL-terminated */
    size_t max_pos;             /* positional arguments accepted */
    cli_run_fn run;
};

/* The global options every command accepts. */
extern const struct cli_opt cli_global_opts[];

/* Parse argv (after the command words) against cmd's options and the
 * global ones. Returns CLI_EXIT_OK, or CLI_EXIT_USAGE after printing why;
 * *help is set when --help / -h was given. */
int cli_parse(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *out,
              bool *help);
/* Apply global options given in a (and the environment) to g. Returns
 * CLI_EXIT_OK or CLI_EXIT_USAGE after printing why. */
int cli_globals(struct cli *g, const struct cli_args *a);
/* Print cmd's --help. */
void cli_print_help(FILE *f, const struct cli_cmd *cmd);

/* Print "hansa <cmd>: <message>" and the --help hint to stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage(struct cli *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "hansa <cmd>: <message>" to stderr; returns status. */
int cli_fail(struct cli *g, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print an SDK failure (code name and message) and return its status. */
int cli_fail_sdk(struct cli *g, hansa_code code, const hansa_error *err);

/* Open the client from the global options. need_key: the command signs
 * (writes and reads do; status does not, and then ignores --key). Returns
 * an exit status. */
int cli_connect(struct cli *g, bool need_key);
void cli_disconnect(struct cli *g);
/* The key's party id ("" before cli_connect or without a key). */
const char *cli_party(const struct cli *g);

/* Submit one action (msg is the action's message) with the options of a
 * (--no-wait, --wait MS), print the outcome, return the exit status. */
int cli_submit(struct cli *g, const struct cli_args *a, Hansa__TxBody__ActionCase action,
               const void *msg);
/* Print a protocol message as one line of JSON. Returns an exit status. */
int cli_print_json(struct cli *g, const void *msg);

/* ---- values (values.c; pure) ---- */

/* Digits after the decimal point of an ISO 4217 currency (2 unless listed:
 * JPY 0, KWD 3, ...). */
int cli_currency_exponent(const char *currency);
/* "150.00" or "150" in major units of currency -> 15000 minor units.
 * Refuses signs, exponents, more decimals than the currency has, and more
 * than 10^15 minor units (AMOUNT_MAX). */
bool cli_parse_amount(const char *text, const char *currency, int64_t *minor, char *why,
                      size_t why_len);
/* 15000 minor units of CNY -> "150.00 CNY". */
void cli_format_amount(int64_t minor, const char *currency, char *out, size_t out_len);
/* The number alone ("150.00"). */
void cli_format_major(int64_t minor, const char *currency, char *out, size_t out_len);
/* A quantity with up to 3 decimals -> thousandths ("1.5" -> 1500). */
bool cli_parse_quantity(const char *text, uint64_t *milli);
void cli_format_quantity(uint64_t milli, char *out, size_t out_len);

/* A point in time: ISO-8601 UTC ("2026-03-31", "2026-03-31T10:00:00Z",
 * "...T10:00:00.250Z", "...+08:00"), "now", a duration from now ("+90d",
 * "+12h", "+30m", "+45s"), or milliseconds since the epoch ("@1767225600000").
 */
bool cli_parse_time(const char *text, uint64_t now_ms, uint64_t *ms, char *why, size_t why_len);
/* ms since the epoch -> "2026-03-31T10:00:00.250Z"; 0 -> "-". */
void cli_format_time(uint64_t ms, char *out, size_t out_len);
uint64_t cli_now_ms(void);

/* Unsigned decimal integer no larger than max. */
bool cli_parse_u64(const char *text, uint64_t max, uint64_t *out);
/* "H:O" -> cursor. */
bool cli_parse_cursor(const char *text, hansa_cursor *out);
/* An enum value by its name: "HIGH", "high", "SEVERITY_HIGH", "out-of-
 * delivery" style (hyphens for underscores), case-insensitive; never the
 * zero (UNSPECIFIED) value. */
bool cli_parse_enum(const ProtobufCEnumDescriptor *d, const char *text, int *out);
/* The value's name without its enum's prefix ("HIGH"), or its number. */
const char *cli_enum_name(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t buf_len);
/* The names of d's values (UNSPECIFIED left out), "A, B, C". */
void cli_enum_list(const ProtobufCEnumDescriptor *d, char *out, size_t out_len);
/* Lower-case hex of n bytes into out (2n + 1 bytes); "-" when n is 0. */
void cli_hex(const uint8_t *data, size_t n, char *out);
/* Exactly n bytes from 2n hex digits (either case). */
bool cli_unhex(const char *text, uint8_t *out, size_t n);
/* An id-string: 1-64 characters of A-Z a-z 0-9 . _ - */
bool cli_id_valid(const char *text);

/* ---- order lines (values.c; pure) ---- */

/* One --item "hs=851822,name=Bluetooth speaker,qty=2,unit=H87,price=150.00"
 * (keys: hs, name (or desc), qty, unit, price, total, line; values may
 * contain "\," for a comma). total defaults to qty × price and must then
 * come out in whole minor units. Strings point into buf. */
struct cli_item {
    uint32_t line_no;
    const char *name, *hs_code, *unit;
    uint64_t quantity_milli;
    int64_t unit_price_minor, line_total_minor;
};
bool cli_parse_item(const char *spec, const char *currency, uint32_t default_line_no,
                    struct cli_item *out, char *buf, size_t buf_len, char *why, size_t why_len);

/* ---- tables (table.c; pure) ---- */

/* Rows of cells printed with aligned columns; without headers it is a
 * key-value block. Cells are copied. Out of memory ends the process with
 * status 1 (a CLI has nothing better to do). */
struct cli_table {
    size_t ncols, nrows, cap;
    char **cells; /* nrows × ncols */
    bool header;
};
void cli_table_init(struct cli_table *t, size_t ncols, const char *const *headers);
void cli_table_row(struct cli_table *t, const char *const *cells);
/* A key-value row of a two-column table, value formatted. */
void cli_kv(struct cli_table *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cli_table_print(const struct cli_table *t, FILE *f, const char *indent);
void cli_table_free(struct cli_table *t);
/* Columns a UTF-8 string takes on a terminal (East Asian wide = 2). */
size_t cli_display_width(const char *s);

/* Memory that ends the process with status 1 when exhausted. */
void *cli_xmalloc(size_t n);
char *cli_xstrdup(const char *s);

/* Allocations that live as long as one command (documents from flags). */
struct cli_arena {
    void **ptrs;
    size_t n, cap;
};
void *cli_arena_alloc(struct cli_arena *ar, size_t n); /* zeroed */
char *cli_arena_strdup(struct cli_arena *ar, const char *s);
void cli_arena_free(struct cli_arena *ar);

/* ---- documents from flags (docs.c) ---- */

/* A document builder: the action's message from the options of a into
 * *out, its memory in ar. Returns an exit status. */
typedef int (*cli_doc_fn)(struct cli *g, const struct cli_args *a, struct cli_arena *ar,
                          void **out);
int cli_doc_order(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out);
int cli_doc_payment(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out);
int cli_doc_waybill(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out);
int cli_doc_line(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out);
int cli_doc_financing(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out);
/* A write command: connect with the key, build the document with build
 * (or read it from --file), submit it, print the outcome. */
int cli_write(struct cli *g, const struct cli_args *a, Hansa__TxBody__ActionCase action,
              cli_doc_fn build);
/* A document of descriptor d from the JSON file path (freed with
 * hansa_free). Returns an exit status. */
int cli_doc_file(struct cli *g, const char *path, const ProtobufCMessageDescriptor *d, void **out);
/* A required option's value, or a usage error naming it. */
int cli_need(struct cli *g, const struct cli_args *a, const char *name, const char **out);
/* An amount option in major units of currency (NULL option -> 0 when
 * optional). Returns an exit status. */
int cli_amount_opt(struct cli *g, const struct cli_args *a, const char *name, const char *currency,
                   bool required, int64_t *minor);
/* A time option (ISO-8601, now, +90d, ...); def when absent. */
int cli_time_opt(struct cli *g, const struct cli_args *a, const char *name, uint64_t def_ms,
                 uint64_t *ms);
/* An id-string option (required), or the key's party when absent and
 * dflt_party is set. */
int cli_id_opt(struct cli *g, const struct cli_args *a, const char *name, bool dflt_party,
               const char **out);

/* ---- rendering (render.c) ---- */

void cli_render_order(FILE *f, const Hansa__Order *o);
void cli_render_payment(FILE *f, const Hansa__Payment *p);
void cli_render_waybill(FILE *f, const Hansa__Waybill *w);
void cli_render_line(FILE *f, const Hansa__CreditLine *l);
void cli_render_financing(FILE *f, const Hansa__Financing *x);
void cli_render_exposure(FILE *f, const Hansa__Exposure *e);
void cli_render_status(FILE *f, const Hansa__NodeStatus *s);
void cli_render_block(FILE *f, const Hansa__BlockAnswer *b);
void cli_render_receipt(FILE *f, const hansa_receipt *r);
void cli_render_records(FILE *f, const Hansa__RecordPage *p, Hansa__EntityType type);
void cli_render_history(FILE *f, const Hansa__HistoryPage *p);
/* Alerts as fixed-width lines (alerts list and watch): the header line
 * and one line per alert, printable as they arrive. */
void cli_render_alert_header(FILE *f);
void cli_render_alert(FILE *f, const Hansa__Alert *al);
/* "MER-SZ-0001/SO-1" */
void cli_ref(const char *owner, const char *id, char *out, size_t out_len);

/* ---- the command table (cmd_*.c) ---- */

extern const struct cli_cmd cli_cmds_chain[];  /* keygen, status, block, tx, history */
extern const struct cli_cmd cli_cmds_trade[];  /* order, payment, waybill */
extern const struct cli_cmd cli_cmds_credit[]; /* credit, finance, exposure */
extern const struct cli_cmd cli_cmds_alerts[]; /* alerts */

/* Write options every write command takes. */
/* clang-format off */
#define CLI_WRITE_OPTS \
    {"no-wait", CLI_OPT_FLAG, NULL}, {"wait", CLI_OPT_VALUE, NULL}, {"file", CLI_OPT_VALUE, NULL}
/* clang-format on */

/* The footer of every command's help: the exit statuses. */
extern const char cli_exit_help[];

#endif
