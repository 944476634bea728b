/*
 * config.ini reader and writer (format and rules in config.h).
 *
 * One table, keys[], describes every key of every section except [peers]:
 * where its value goes in struct node_config, how it is checked, whether it
 * is required and the comment the writer puts above it. Reader and writer
 * both walk the table, so a key cannot be readable but unwritable or
 * undocumented.
 *
 * libinih calls our handler once per "key = value" line; it does not say
 * which line. The lines come through our own reader (ini_parse_stream), so
 * the reader's line counter is the handler's line. The reader also refuses
 * lines longer than libinih's buffer (libinih would cut them silently) and
 * unknown [section] headers (libinih reports sections only through keys,
 * so an empty misspelt section would pass unnoticed). After the first error
 * the reader reports end of file, so the first error is the one reported.
 * libinih's process-wide knobs (Debian builds them as global variables:
 * ini_allow_multiline, ini_max_line, ...) are left at their defaults, since
 * other modules of the node parse INI files too.
 *
 * The writer renders the file into memory, parses that text back with the
 * same reader, and only then creates the file: a written config always
 * loads.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "config.h"
#include "fileio.h"
#include "hansa/assert.h"

#define CONFIG_FILE_NAME "config.ini"

enum key_kind {
    KEY_ID,        /* validator id */
    KEY_CHAIN_ID,  /* chain id */
    KEY_LOG_LEVEL, /* debug | info | warn | error */
    KEY_PATH,      /* a path, relative to home or absolute */
    KEY_URL_TLS,   /* tls+tcp://host:port */
    KEY_URL_LOCAL, /* tcp:// on loopback, or empty for "off" */
    KEY_URL_ANY,   /* tls+tcp://, or tcp:// on loopback */
    KEY_U32,
    KEY_U64,
};

struct key_spec {
    const char *section;
    const char *name;
    enum key_kind kind;
    size_t offset; /* in struct node_config */
    size_t size;   /* of the char array, for strings */
    uint64_t min, max;
    bool required;
    const char *help; /* the writer's comment; may hold several lines */
};

#define STR(field) offsetof(struct node_config, field), sizeof(((struct node_config *)0)->field)
#define NUM(field) offsetof(struct node_config, field), 0

static const struct key_spec keys[] = {
    {"node", "id", KEY_ID, STR(node_id), 0, 0, true,
     "This node's validator id (1-64 characters of A-Z a-z 0-9 . _ -), as listed\n"
     "in genesis.json. Its TLS certificate carries the same name (CN and DNS SAN)."},
    {"node", "chain_id", KEY_CHAIN_ID, STR(chain_id), 0, 0, true,
     "The chain this node belongs to; must equal \"chain_id\" in genesis.json."},
    {"node", "log_level", KEY_LOG_LEVEL, STR(log_level), 0, 0, false,
     "Least severe log lines to print: debug, info, warn or error."},
    {"paths", "validator_key", KEY_PATH, STR(validator_key_path), 0, 0, false,
     "Ed25519 key file (mode 0600) this node signs votes and proposals with.\n"
     "Relative paths in this section are relative to this file's directory."},
    {"paths", "data_dir", KEY_PATH, STR(data_dir), 0, 0, false,
     "Directory of the block store, state and consensus write-ahead log."},
    {"paths", "genesis", KEY_PATH, STR(genesis_path), 0, 0, false,
     "genesis.json: the same bytes on every node of the chain."},
    {"paths", "tls_ca", KEY_PATH, STR(tls_ca_path), 0, 0, false,
     "Consortium CA certificate (PEM): peers and TLS clients must present a\n"
     "certificate signed by it."},
    {"paths", "tls_cert", KEY_PATH, STR(tls_cert_path), 0, 0, false,
     "This node's TLS certificate (PEM), signed by the consortium CA."},
    {"paths", "tls_key", KEY_PATH, STR(tls_key_path), 0, 0, false,
     "Private key of tls_cert (PEM, mode 0600)."},
    {"paths", "read_audit_log", KEY_PATH, STR(read_audit_log_path), 0, 0, false,
     "Read-audit log: every read of a record that is not the reader's own,\n"
     "allowed or denied (reader, record, time, outcome)."},
    {"p2p", "listen", KEY_URL_TLS, NUM(p2p_listen), 0, 0, true,
     "Where other validators connect to this node (mutual TLS): tls+tcp://host:port."},
    {
        "api",
        "listen_tls",
        KEY_URL_TLS,
        NUM(api_listen_tls),
        0,
        0,
        true,
        "Client API over TLS (SDK, CLI, bench): tls+tcp://host:port. The node\n"
        "proves itself with tls_cert; clients prove who they are by signing.",
    },
    {"api", "listen_tcp", KEY_URL_LOCAL, NUM(api_listen_tcp), 0, 0, false,
     "Client API without TLS for tools on this host: tcp://127.0.0.1:port.\n"
     "Loopback addresses only; leave empty to turn it off."},
    {"events", "listen", KEY_URL_ANY, NUM(events_listen), 0, 0, true,
     "Live events (blocks, tx receipts, alerts) published to subscribers:\n"
     "tls+tcp://host:port, or tcp:// on a loopback address."},
    {"blocks", "heartbeat_ms", KEY_U32, NUM(block_heartbeat_ms), 0, NODE_CONFIG_HEARTBEAT_MS_MAX,
     false,
     "With no transactions waiting, propose an empty block after this many ms\n"
     "(0 = never; otherwise at least interval_ms, at most 3600000)."},
    {"blocks", "interval_ms", KEY_U32, NUM(block_interval_ms), NODE_CONFIG_INTERVAL_MS_MIN,
     NODE_CONFIG_INTERVAL_MS_MAX, false,
     "Least time between two blocks, ms (10-60000): transactions that arrive\n"
     "meanwhile wait for the next block, so a busy node makes fewer, larger\n"
     "blocks. A block follows as soon as this has passed and transactions wait."},
    {"blocks", "max_txs", KEY_U32, NUM(block_txs_max), 1, HANSA_BLOCK_TXS_MAX, false,
     "Most transactions this node puts in a block it proposes (1-10000)."},
    {"mempool", "max_txs", KEY_U32, NUM(mempool_txs_max), 1, NODE_CONFIG_MEMPOOL_TXS_MAX, false,
     "Most transactions waiting in the mempool; more are refused as busy\n"
     "(1-1000000). Each costs about 5 KiB of memory once decoded, so this,\n"
     "not max_bytes, is what bounds the node's memory under a backlog: at\n"
     "the default 20000, four blocks' worth, a validator stays near 210 MiB."},
    {"mempool", "max_bytes", KEY_U64, NUM(mempool_bytes_max), HANSA_TX_BYTES_MAX,
     NODE_CONFIG_MEMPOOL_BYTES_MAX, false,
     "Most bytes of transactions waiting in the mempool (65536-4294967296)."},
    {"consensus", "propose_timeout_ms", KEY_U32, NUM(consensus_propose_ms),
     NODE_CONFIG_TIMEOUT_MS_MIN, NODE_CONFIG_TIMEOUT_MS_MAX, false,
     "How long validators wait for a round's proposal before prevoting nil, ms\n"
     "(100-60000); each later round of a height waits half as long again more."},
    {"consensus", "vote_timeout_ms", KEY_U32, NUM(consensus_vote_ms), NODE_CONFIG_TIMEOUT_MS_MIN,
     NODE_CONFIG_TIMEOUT_MS_MAX, false,
     "How long validators wait for the remaining prevotes or precommits once 2f+1\n"
     "have arrived, ms (100-60000); grows by half per round like the above."},
    {"mempool", "verifier_threads", KEY_U32, NUM(verifier_threads), 1, NODE_CONFIG_VERIFIERS_MAX,
     false, "Threads verifying transaction signatures (1-64); about one per core."},
    {"risk", "ruleset", KEY_PATH, STR(risk_ruleset_path), 0, 0, false,
     "Risk ruleset (RISK.md): which rules run, their severities, thresholds and\n"
     "lists. Every validator must run the same file (its SHA-256 is in every\n"
     "alert). Check a file with: hansad risk check FILE; print the built-in\n"
     "default with: hansad risk default."},
    {"risk", "retention_blocks", KEY_U64, NUM(risk_retention_blocks), 0, UINT64_MAX / 2, false,
     "Keep alerts of the last this many blocks (0 = keep all). A subscriber\n"
     "whose cursor is older is told \"cursor expired\" with the earliest cursor."},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static const char *const sections[] = {"node",   "paths",  "p2p",     "peers",     "api",
                                       "events", "blocks", "mempool", "consensus", "risk"};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

#define PEERS_HELP                                                                                 \
    "Validator peers, one line each: <validator id> = tls+tcp://host:port.\n"                      \
    "The id is also the name the peer's TLS certificate must carry (CN / DNS\n"                    \
    "SAN); this node sets it as the TLS server name when dialing."

/* ---- defaults ---------------------------------------------------------------------------- */

void node_config_init(struct node_config *c)
{
    HANSA_ASSERT(c != NULL);
    memset(c, 0, sizeof *c);
    strcpy(c->log_level, "info");
    strcpy(c->validator_key_path, "validator.key");
    strcpy(c->data_dir, "data");
    strcpy(c->genesis_path, "genesis.json");
    strcpy(c->tls_ca_path, "ca.crt");
    strcpy(c->tls_cert_path, "tls/node.crt");
    strcpy(c->tls_key_path, "tls/node.key");
    strcpy(c->read_audit_log_path, "read-audit.log");
    strcpy(c->risk_ruleset_path, "ruleset.ini");
    c->block_heartbeat_ms = 5000;
    c->block_interval_ms = 50;
    c->block_txs_max = 5000;
    c->consensus_propose_ms = 3000;
    c->consensus_vote_ms = 1000;
    c->mempool_txs_max = 20000;
    c->mempool_bytes_max = UINT64_C(256) << 20;
    c->verifier_threads = 2;
}

/* ---- parsing ------------------------------------------------------------------------------- */

struct parse {
    struct node_config *c;
    const char *file; /* for messages */
    FILE *fp;
    int line; /* number of the line last handed to libinih */
    int key_line[N_KEYS];
    int peer_line[HANSA_PEERS_MAX];
    int err_line; /* 0 = no error yet */
    char err[512];
};

__attribute__((format(printf, 3, 4))) static int parse_fail(struct parse *p, int line,
                                                            const char *fmt, ...)
{
    if (p->err_line != 0)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof p->err, fmt, ap);
    va_end(ap);
    p->err_line = line > 0 ? line : -1;
    return 0;
}

static bool section_known(const char *name, size_t n)
{
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (strlen(sections[i]) == n && strncmp(sections[i], name, n) == 0)
            return true;
    return false;
}

/* A section header line: "[name]" after optional blanks. */
static void check_section_line(struct parse *p, const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line != '[')
        return;
    const char *close = strchr(line, ']');
    if (close == NULL)
        return; /* libinih reports the syntax error */
    if (!section_known(line + 1, (size_t)(close - line - 1)))
        parse_fail(p, p->line,
                   "unknown section [%.*s] (known: node, paths, p2p, peers, api, events, "
                   "blocks, mempool)",
                   (int)(close - line - 1), line + 1);
}

/* ini_reader: one whole line per call, like fgets, or NULL at the end, at
 * the first error, and for a line that does not fit libinih's buffer. */
static char *read_line(char *str, int num, void *stream)
{
    struct parse *p = stream;
    if (p->err_line != 0 || num < 4)
        return NULL;
    size_t n = 0, limit = (size_t)num - 3;
    int ch = EOF;
    bool any = false, nul = false;
    while ((ch = getc(p->fp)) != EOF) {
        any = true;
        if (ch == '\n')
            break;
        nul |= ch == '\0';
        if (n <= limit)
            str[n] = (char)ch;
        n++;
    }
    if (!any)
        return NULL;
    p->line++;
    if (n > limit) {
        parse_fail(p, p->line, "line is longer than %zu characters", limit);
        return NULL;
    }
    if (nul) {
        parse_fail(p, p->line, "line contains a NUL byte");
        return NULL;
    }
    str[n++] = '\n';
    str[n] = '\0';
    check_section_line(p, str);
    return p->err_line != 0 ? NULL : str;
}

static bool level_valid(const char *v)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(v, levels[i]) == 0)
            return true;
    return false;
}

static bool u64_parse(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static int store_string(struct parse *p, const struct key_spec *k, const char *value)
{
    char *dst = (char *)p->c + k->offset;
    if (strlen(value) >= k->size)
        return parse_fail(p, p->line, "[%s] %s: longer than %zu characters", k->section, k->name,
                          k->size - 1);
    strcpy(dst, value);
    return 1;
}

static int store_url(struct parse *p, const struct key_spec *k, const char *value)
{
    struct node_url *u = (struct node_url *)((char *)p->c + k->offset);
    char err[384];
    if (k->kind == KEY_URL_LOCAL && value[0] == '\0') {
        memset(u, 0, sizeof *u);
        return 1;
    }
    if (node_url_parse(value, u, err, sizeof err) != HANSA_OK)
        return parse_fail(p, p->line, "[%s] %s: %s", k->section, k->name, err);
    if (k->kind == KEY_URL_TLS && !u->tls)
        return parse_fail(p, p->line, "[%s] %s: must be tls+tcp:// (mutual TLS), not \"%s\"",
                          k->section, k->name, value);
    if (k->kind == KEY_URL_LOCAL && u->tls)
        return parse_fail(p, p->line, "[%s] %s: must be tcp:// (the TLS API is listen_tls)",
                          k->section, k->name);
    if (!u->tls && !node_url_is_loopback(u))
        return parse_fail(p, p->line,
                          "[%s] %s: plain tcp:// must bind a loopback address (127.0.0.1, ::1 "
                          "or localhost), not \"%s\"; use tls+tcp:// for other hosts",
                          k->section, k->name, u->host);
    return 1;
}

static int store_number(struct parse *p, const struct key_spec *k, const char *value)
{
    uint64_t v;
    if (!u64_parse(value, &v) || v < k->min || v > k->max)
        return parse_fail(p, p->line,
                          "[%s] %s: \"%s\" is not a whole number in %" PRIu64 "..%" PRIu64,
                          k->section, k->name, value, k->min, k->max);
    void *dst = (char *)p->c + k->offset;
    if (k->kind == KEY_U32)
        *(uint32_t *)dst = (uint32_t)v;
    else
        *(uint64_t *)dst = v;
    return 1;
}

static int store_value(struct parse *p, const struct key_spec *k, const char *value)
{
    switch (k->kind) {
    case KEY_ID:
        if (!wire_id_valid(value))
            return parse_fail(p, p->line,
                              "[%s] %s: \"%s\" is not 1-%u characters of A-Z a-z 0-9 . _ -",
                              k->section, k->name, value, HANSA_ID_LEN_MAX);
        return store_string(p, k, value);
    case KEY_CHAIN_ID:
        if (!wire_chain_id_valid(value))
            return parse_fail(p, p->line,
                              "[%s] %s: \"%s\" is not 1-%u characters of A-Z a-z 0-9 . _ -",
                              k->section, k->name, value, HANSA_CHAIN_ID_LEN_MAX);
        return store_string(p, k, value);
    case KEY_LOG_LEVEL:
        if (!level_valid(value))
            return parse_fail(p, p->line, "[%s] %s: \"%s\" is not debug, info, warn or error",
                              k->section, k->name, value);
        return store_string(p, k, value);
    case KEY_PATH:
        if (value[0] == '\0')
            return parse_fail(p, p->line, "[%s] %s: empty path", k->section, k->name);
        return store_string(p, k, value);
    case KEY_URL_TLS:
    case KEY_URL_LOCAL:
    case KEY_URL_ANY:
        return store_url(p, k, value);
    case KEY_U32:
    case KEY_U64:
        return store_number(p, k, value);
    }
    return parse_fail(p, p->line, "[%s] %s: unhandled kind", k->section, k->name);
}

static int on_peer(struct parse *p, const char *id, const char *value)
{
    struct node_config *c = p->c;
    if (!wire_id_valid(id))
        return parse_fail(p, p->line,
                          "[peers] \"%s\" is not a validator id (1-%u characters of A-Z a-z "
                          "0-9 . _ -)",
                          id, HANSA_ID_LEN_MAX);
    for (size_t i = 0; i < c->n_peers; i++)
        if (strcmp(c->peers[i].id, id) == 0)
            return parse_fail(p, p->line, "[peers] %s: given twice (first on line %d)", id,
                              p->peer_line[i]);
    if (c->n_peers == HANSA_PEERS_MAX)
        return parse_fail(p, p->line, "[peers] %s: more than %u peers", id, HANSA_PEERS_MAX);
    struct node_peer *peer = &c->peers[c->n_peers];
    char err[384];
    if (node_url_parse(value, &peer->addr, err, sizeof err) != HANSA_OK)
        return parse_fail(p, p->line, "[peers] %s: %s", id, err);
    if (!peer->addr.tls)
        return parse_fail(p, p->line, "[peers] %s: must be tls+tcp:// (mutual TLS), not \"%s\"", id,
                          value);
    strcpy(peer->id, id);
    p->peer_line[c->n_peers++] = p->line;
    return 1;
}

/* ini_handler: one "key = value" line of section. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct parse *p = user;
    if (section[0] == '\0')
        return parse_fail(p, p->line, "\"%s\" comes before any [section]", name);
    if (strcmp(section, "peers") == 0)
        return on_peer(p, name, value);
    if (!section_known(section, strlen(section)))
        return parse_fail(p, p->line, "unknown section [%s]", section);
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].section, section) != 0 || strcmp(keys[i].name, name) != 0)
            continue;
        if (p->key_line[i] != 0)
            return parse_fail(p, p->line,
                              "[%s] %s: given twice (first on line %d; an indented line "
                              "continues the key above it)",
                              section, name, p->key_line[i]);
        p->key_line[i] = p->line;
        return store_value(p, &keys[i], value);
    }
    return parse_fail(p, p->line, "[%s] %s: unknown key", section, name);
}

/* ---- checks after parsing ---------------------------------------------------------------------
 */

static const struct key_spec *key_at(size_t i, int *line, const struct parse *p)
{
    *line = p->key_line[i];
    return &keys[i];
}

static bool check_required(struct parse *p)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].required && p->key_line[i] == 0) {
            parse_fail(p, -1, "missing required key [%s] %s", keys[i].section, keys[i].name);
            return false;
        }
    return true;
}

/* No two listeners on one address (the later one would fail to bind). */
static bool check_listeners(struct parse *p)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        int li;
        const struct key_spec *ki = key_at(i, &li, p);
        if (ki->kind != KEY_URL_TLS && ki->kind != KEY_URL_LOCAL && ki->kind != KEY_URL_ANY)
            continue;
        const struct node_url *a = (const void *)((const char *)p->c + ki->offset);
        for (size_t j = 0; j < i && a->url[0] != '\0'; j++) {
            int lj;
            const struct key_spec *kj = key_at(j, &lj, p);
            if (kj->kind != KEY_URL_TLS && kj->kind != KEY_URL_LOCAL && kj->kind != KEY_URL_ANY)
                continue;
            const struct node_url *b = (const void *)((const char *)p->c + kj->offset);
            bool same_host =
                strcmp(a->host, b->host) == 0 || node_url_is_wildcard(a) || node_url_is_wildcard(b);
            if (b->url[0] != '\0' && a->port == b->port && same_host) {
                parse_fail(p, li > lj ? li : lj, "[%s] %s and [%s] %s both listen on port %u",
                           kj->section, kj->name, ki->section, ki->name, a->port);
                return false;
            }
        }
    }
    return true;
}

static size_t key_index(const char *section, const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
            return i;
    HANSA_ASSERT(!"key not in the table");
    return 0;
}

static bool check_relations(struct parse *p)
{
    const struct node_config *c = p->c;
    if (c->block_heartbeat_ms != 0 && c->block_heartbeat_ms < c->block_interval_ms) {
        size_t i = key_index("blocks", "heartbeat_ms"), j = key_index("blocks", "interval_ms");
        int line = p->key_line[i] > p->key_line[j] ? p->key_line[i] : p->key_line[j];
        parse_fail(p, line,
                   "[blocks] heartbeat_ms (%" PRIu32 ") must be 0 or at least interval_ms (%" PRIu32
                   ")",
                   c->block_heartbeat_ms, c->block_interval_ms);
        return false;
    }
    for (size_t i = 0; i < c->n_peers; i++)
        if (strcmp(c->peers[i].id, c->node_id) == 0) {
            parse_fail(p, p->peer_line[i], "[peers] %s: is this node's own id", c->node_id);
            return false;
        }
    return true;
}

/* Turn every relative path into home/path. */
static bool resolve_paths(struct parse *p, const char *home)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (keys[i].kind != KEY_PATH)
            continue;
        char *path = (char *)p->c + keys[i].offset;
        if (path[0] == '/')
            continue;
        char joined[NODE_CONFIG_PATH_BYTES_MAX];
        if (config_path_join(joined, sizeof joined, home, path, NULL, 0) != HANSA_OK) {
            parse_fail(p, p->key_line[i], "[%s] %s: %s/%s is longer than %u bytes", keys[i].section,
                       keys[i].name, home, path, NODE_CONFIG_PATH_BYTES_MAX - 1);
            return false;
        }
        strcpy(path, joined);
    }
    return true;
}

/* Parse fp into c (already initialised). HANSA_OK or HANSA_EFORMAT/EIO with
 * why "<file>:<line>: ...". */
static hansa_err parse_stream(FILE *fp, const char *file, const char *home, struct node_config *c,
                              char *why, size_t why_len)
{
    struct parse *p = calloc(1, sizeof *p);
    if (p == NULL) {
        config_why(why, why_len, "%s: out of memory", file);
        return HANSA_ENOMEM;
    }
    *p = (struct parse){.c = c, .file = file, .fp = fp};
    int rv = ini_parse_stream(read_line, p, on_key, p);
    hansa_err err = HANSA_OK;
    if (rv < 0 && p->err_line == 0) {
        config_why(why, why_len, "%s: cannot be read (libinih error %d)", file, rv);
        err = HANSA_EIO;
    } else if (rv > 0 && (p->err_line <= 0 || rv < p->err_line)) {
        config_why(why, why_len, "%s:%d: expected [section] or key = value", file, rv);
        err = HANSA_EFORMAT;
    } else if (p->err_line == 0 && ferror(fp)) {
        config_why(why, why_len, "%s: read error: %s", file, strerror(errno));
        err = HANSA_EIO;
    } else if (p->err_line == 0 && check_required(p) && check_listeners(p) && check_relations(p) &&
               resolve_paths(p, home)) {
        err = HANSA_OK;
    } else {
        HANSA_ASSERT(p->err_line != 0);
        if (p->err_line > 0)
            config_why(why, why_len, "%s:%d: %s", file, p->err_line, p->err);
        else
            config_why(why, why_len, "%s: %s", file, p->err);
        err = HANSA_EFORMAT;
    }
    free(p);
    return err;
}

hansa_err node_config_load(const char *home, struct node_config *c, char *why, size_t why_len)
{
    HANSA_ASSERT(home != NULL && c != NULL);
    node_config_init(c);
    struct stat st;
    hansa_err rv = config_path_absolute(c->home, sizeof c->home, home, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    if (stat(c->home, &st) != 0) {
        int e = errno;
        config_why(why, why_len, "home directory %s: %s", c->home, strerror(e));
        return e == ENOENT ? HANSA_ENOENT : HANSA_EIO;
    }
    if (!S_ISDIR(st.st_mode)) {
        config_why(why, why_len, "home directory %s is not a directory", c->home);
        return HANSA_ENOENT;
    }
    rv = config_path_join(c->file, sizeof c->file, c->home, CONFIG_FILE_NAME, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    FILE *fp = fopen(c->file, "r");
    if (fp == NULL) {
        int e = errno;
        config_why(why, why_len, "cannot open %s: %s", c->file, strerror(e));
        return e == ENOENT ? HANSA_ENOENT : HANSA_EIO;
    }
    rv = parse_stream(fp, c->file, c->home, c, why, why_len);
    fclose(fp);
    return rv;
}

/* ---- writing
 * -------------------------------------------------------------------------------------- */

static void write_comment(FILE *out, const char *help)
{
    fputs("; ", out);
    for (const char *s = help; *s; s++) {
        fputc(*s, out);
        if (*s == '\n')
            fputs("; ", out);
    }
    fputc('\n', out);
}

/* Paths are the only free text: refuse what an INI line cannot carry. */
static bool ini_safe(const char *v)
{
    size_t n = strlen(v);
    if (n > 0 && (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1])))
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] == ';' || v[i] == '#' || iscntrl((unsigned char)v[i]))
            return false;
    return true;
}

static bool write_value(FILE *out, const struct node_config *c, const struct key_spec *k, char *why,
                        size_t why_len)
{
    const char *at = (const char *)c + k->offset;
    switch (k->kind) {
    case KEY_U32:
        fprintf(out, "%s = %" PRIu32 "\n", k->name, *(const uint32_t *)at);
        return true;
    case KEY_U64:
        fprintf(out, "%s = %" PRIu64 "\n", k->name, *(const uint64_t *)at);
        return true;
    case KEY_URL_TLS:
    case KEY_URL_LOCAL:
    case KEY_URL_ANY:
        at = ((const struct node_url *)(const void *)at)->url;
        break;
    default:
        break;
    }
    if (!ini_safe(at)) {
        config_why(why, why_len, "[%s] %s: \"%s\" cannot be written to an INI file", k->section,
                   k->name, at);
        return false;
    }
    fprintf(out, "%s = %s\n", k->name, at);
    return true;
}

static bool render(FILE *out, const struct node_config *c, char *why, size_t why_len)
{
    fputs("; Hansa node configuration (hansad). Every key is explained above it.\n"
          "; Unknown sections and keys are errors; a line holds at most 197 characters.\n",
          out);
    for (size_t s = 0; s < N_SECTIONS; s++) {
        fprintf(out, "\n[%s]\n", sections[s]);
        if (strcmp(sections[s], "peers") == 0) {
            write_comment(out, PEERS_HELP);
            for (size_t i = 0; i < c->n_peers; i++)
                fprintf(out, "%s = %s\n", c->peers[i].id, c->peers[i].addr.url);
            continue;
        }
        for (size_t i = 0; i < N_KEYS; i++) {
            if (strcmp(keys[i].section, sections[s]) != 0)
                continue;
            write_comment(out, keys[i].help);
            if (!write_value(out, c, &keys[i], why, why_len))
                return false;
        }
    }
    return true;
}

hansa_err node_config_write(const char *path, const struct node_config *c, char *why,
                            size_t why_len)
{
    HANSA_ASSERT(path != NULL && c != NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL) {
        config_why(why, why_len, "out of memory rendering %s", path);
        return HANSA_ENOMEM;
    }
    bool ok = render(out, c, why, why_len);
    if (fclose(out) != 0 || text == NULL) {
        free(text);
        config_why(why, why_len, "out of memory rendering %s", path);
        return HANSA_ENOMEM;
    }
    hansa_err rv = ok ? HANSA_OK : HANSA_EINVAL;
    if (rv == HANSA_OK) {
        /* Parse the text back exactly as node_config_load would. */
        struct node_config *back = malloc(sizeof *back);
        FILE *in = back ? fmemopen(text, len, "r") : NULL;
        if (in == NULL) {
            config_why(why, why_len, "out of memory checking %s", path);
            rv = HANSA_ENOMEM;
        } else {
            node_config_init(back);
            rv = parse_stream(in, path, "/", back, why, why_len);
            fclose(in);
            if (rv == HANSA_EFORMAT)
                rv = HANSA_EINVAL;
        }
        free(back);
    }
    if (rv == HANSA_OK)
        rv = config_file_create(path, text, len, 0644, why, why_len);
    free(text);
    return rv;
}

/* ---- genesis cross-check and lookups
 * ---------------------------------------------------------------- */

const struct node_peer *node_config_peer(const struct node_config *c, const char *id)
{
    for (size_t i = 0; i < c->n_peers; i++)
        if (strcmp(c->peers[i].id, id) == 0)
            return &c->peers[i];
    return NULL;
}

hansa_err node_config_check_genesis(const struct node_config *c, const struct genesis_doc *g,
                                    char *why, size_t why_len)
{
    HANSA_ASSERT(c != NULL && g != NULL);
    if (strcmp(c->chain_id, g->chain_id) != 0) {
        config_why(why, why_len, "%s: chain_id %s differs from genesis chain_id %s", c->file,
                   c->chain_id, g->chain_id);
        return HANSA_EINVAL;
    }
    if (genesis_validator(g, c->node_id) == NULL) {
        config_why(why, why_len, "%s: node id %s is not a validator in genesis", c->file,
                   c->node_id);
        return HANSA_EINVAL;
    }
    for (size_t i = 0; i < c->n_peers; i++)
        if (genesis_validator(g, c->peers[i].id) == NULL) {
            config_why(why, why_len, "%s: peer %s is not a validator in genesis", c->file,
                       c->peers[i].id);
            return HANSA_EINVAL;
        }
    for (size_t i = 0; i < g->n_validators; i++) {
        const char *id = g->validators[i]->id;
        if (strcmp(id, c->node_id) != 0 && node_config_peer(c, id) == NULL) {
            config_why(why, why_len, "%s: validator %s of genesis has no line in [peers]", c->file,
                       id);
            return HANSA_EINVAL;
        }
    }
    return HANSA_OK;
}
