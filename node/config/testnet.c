/*
 * `hansad testnet` (layout, ports and parties in testnet.h).
 *
 * Order of work: check the options and the directory, then the CA, then
 * per node its validator key, TLS certificate and CA copy, then the party
 * keys, identity key and client certificate, then one genesis text written
 * byte for byte into every node directory, then the configs. Every file is
 * created with config_file_create or wire_keyfile_save, which never
 * overwrite: a second run into the same directory is refused before
 * anything is written, and a failed run leaves a directory the next run
 * refuses too (the message says to remove it).
 *
 * This is shell code: it reads the clock (genesis time, certificate
 * validity) and draws randomness (keys).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "fileio.h"
#include "genesis.h"
#include "hansa/assert.h"
#include "pki.h"
#include "risk.h"
#include "testnet.h"

#define WHY_BYTES 1024

struct opts {
    int validators;
    const char *dir;
    int base_port;
    const char *chain_id;
};

/* A demo party of genesis. */
struct demo_party {
    const char *id;
    Hansa__Role role;
    const char *country;
    const char *display_name;
};

static const struct demo_party demo_parties[] = {
    {"MER-SZ-0001", HANSA__ROLE__ROLE_MERCHANT, "CN", "Shenzhen Bright Electronics"},
    {"PLT-0001", HANSA__ROLE__ROLE_PLATFORM, "CN", "Silk Road Mall"},
    {"PAY-0001", HANSA__ROLE__ROLE_PAYMENT, "CN", "Pearl River Payments"},
    {"LOG-0001", HANSA__ROLE__ROLE_LOGISTICS, "CN", "Yangtze Express Logistics"},
    {"BANK-A", HANSA__ROLE__ROLE_BANK, "CN", "Bank A Shenzhen Branch"},
    {"BANK-B", HANSA__ROLE__ROLE_BANK, "DE", "Bank B Hamburg"},
    {"CUS-0001", HANSA__ROLE__ROLE_REGULATOR, "CN", "Shenzhen Customs"},
};
#define N_DEMO        (sizeof demo_parties / sizeof demo_parties[0])
#define N_PARTIES_MAX (N_DEMO + TESTNET_VALIDATORS_MAX)

/* Everything generated, kept until genesis and configs are written. */
struct net {
    struct opts o;
    char dir[CONFIG_PATH_BYTES_MAX]; /* absolute */
    uint64_t now_ms;
    struct pki_ca ca;
    uint8_t validator_pk[TESTNET_VALIDATORS_MAX][WIRE_PUBKEY_BYTES];
    char party_id[N_PARTIES_MAX][HANSA_ID_LEN_MAX + 1];
    char party_name[N_PARTIES_MAX][GENESIS_DISPLAY_NAME_BYTES_MAX + 1];
    uint8_t party_pk[N_PARTIES_MAX][WIRE_PUBKEY_BYTES];
    size_t n_parties;
    char why[WHY_BYTES];
};

static const char usage_text[] =
    "usage: hansad testnet --validators N --dir DIR [--base-port P] [--chain-id ID]\n"
    "\n"
    "Generate a local test network of N validators on 127.0.0.1: a consortium CA,\n"
    "node keys and TLS certificates, party keys, one genesis.json and a config.ini\n"
    "per node. Nothing existing is overwritten.\n"
    "\n"
    "  --validators N   number of validators, 1-16 (required)\n"
    "  --dir DIR        output directory; must not exist or be empty (required)\n"
    "  --base-port P    first port (default 26600); node i uses P+10*i for p2p,\n"
    "                   +1 for the TLS client API, +2 for the plain-tcp client API\n"
    "                   (127.0.0.1 only), +3 for events\n"
    "  --chain-id ID    chain id, 1-64 characters of A-Z a-z 0-9 . _ -\n"
    "                   (default hansa-local-1)\n"
    "  --help           print this help\n";

/* ---- options ------------------------------------------------------------------------ */

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    long v = 0;
    if (s == NULL || *s == '\0')
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > hi)
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* "--name value" or "--name=value"; *i advances past what was used. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        static const char missing[] = "";
        return missing; /* an empty value: refused by the caller */
    }
    return argv[++*i];
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hansad testnet: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nrun 'hansad testnet --help' for the options\n", stderr);
    return 2;
}

/* 0 to go on, -1 after --help, else the exit status of a usage error. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    *o =
        (struct opts){.base_port = TESTNET_BASE_PORT_DEFAULT, .chain_id = TESTNET_CHAIN_ID_DEFAULT};
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return -1;
        } else if ((v = option_value(argc, argv, &i, "--validators")) != NULL) {
            if (!parse_int(v, 1, TESTNET_VALIDATORS_MAX, &o->validators))
                return usage_error("--validators must be a number from 1 to 16, not \"%s\"", v);
        } else if ((v = option_value(argc, argv, &i, "--dir")) != NULL) {
            if (*v == '\0')
                return usage_error("--dir needs a directory");
            o->dir = v;
        } else if ((v = option_value(argc, argv, &i, "--base-port")) != NULL) {
            if (!parse_int(v, 1, 65535, &o->base_port))
                return usage_error("--base-port must be a port number, not \"%s\"", v);
        } else if ((v = option_value(argc, argv, &i, "--chain-id")) != NULL) {
            if (!wire_chain_id_valid(v))
                return usage_error("--chain-id \"%s\" is not 1-64 characters of A-Z a-z 0-9 . _ -",
                                   v);
            o->chain_id = v;
        } else {
            return usage_error("unknown argument \"%s\"", argv[i]);
        }
    }
    if (o->validators == 0)
        return usage_error("--validators N is required");
    if (o->dir == NULL)
        return usage_error("--dir DIR is required");
    if (o->base_port + 10 * (o->validators - 1) + 3 > 65535)
        return usage_error("--base-port is too high: the last node's ports would pass 65535");
    return 0;
}

/* ---- the output directory ------------------------------------------------------------------ */

static bool dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return false;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

static hansa_err prepare_dir(struct net *n)
{
    struct stat st;
    if (stat(n->o.dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            config_why(n->why, sizeof n->why, "%s exists and is not a directory", n->o.dir);
            return HANSA_EEXIST;
        }
        if (!dir_is_empty(n->o.dir)) {
            config_why(n->why, sizeof n->why,
                       "%s is not empty; refusing to overwrite an existing network (choose "
                       "another --dir or remove it)",
                       n->o.dir);
            return HANSA_EEXIST;
        }
    } else if (mkdir(n->o.dir, 0755) != 0) {
        config_why(n->why, sizeof n->why, "cannot create %s: %s", n->o.dir, strerror(errno));
        return HANSA_EIO;
    }
    if (config_path_absolute(n->dir, sizeof n->dir, n->o.dir, n->why, sizeof n->why) != HANSA_OK ||
        strlen(n->dir) + 64 >= sizeof n->dir) {
        config_why(n->why, sizeof n->why, "directory path %s is too long", n->o.dir);
        return HANSA_EINVAL;
    }
    return HANSA_OK;
}

/* path = DIR/a[/b]; the lengths were checked by prepare_dir. */
static void net_path(const struct net *n, char *out, const char *a, const char *b)
{
    int len = b ? snprintf(out, CONFIG_PATH_BYTES_MAX, "%s/%s/%s", n->dir, a, b)
                : snprintf(out, CONFIG_PATH_BYTES_MAX, "%s/%s", n->dir, a);
    HANSA_ASSERT(len > 0 && len < (int)CONFIG_PATH_BYTES_MAX);
}

static hansa_err copy_file(const char *from, const char *to, char *why, size_t why_len)
{
    char *data = NULL;
    size_t len = 0;
    hansa_err rv = config_file_read(from, 64 * 1024, &data, &len, why, why_len);
    if (rv == HANSA_OK)
        rv = config_file_create(to, data, len, 0644, why, why_len);
    free(data);
    return rv;
}

/* ---- identity key ---------------------------------------------------------------------------- */

hansa_err testnet_identity_key_save(const char *path, const uint8_t key[WIRE_IDENTITY_KEY_BYTES],
                                    char *why, size_t why_len)
{
    char hex[2 * WIRE_IDENTITY_KEY_BYTES + 1];
    wire_hex_encode(key, WIRE_IDENTITY_KEY_BYTES, hex);
    json_t *doc =
        json_pack("{s:s, s:i, s:s}", "type", IDENTITY_KEY_FILE_TYPE, "version", 1, "key", hex);
    sodium_memzero(hex, sizeof hex);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (doc != NULL) {
        const char *in_doc = json_string_value(json_object_get(doc, "key"));
        if (in_doc != NULL)
            sodium_memzero((char *)(uintptr_t)in_doc, strlen(in_doc));
        json_decref(doc);
    }
    if (text == NULL) {
        config_why(why, why_len, "out of memory encoding %s", path);
        return HANSA_ENOMEM;
    }
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    hansa_err rv = HANSA_ENOMEM;
    if (line != NULL) {
        text = line;
        memcpy(text + len, "\n", 2);
        rv = config_file_create(path, text, len + 1, 0600, why, why_len);
    } else {
        config_why(why, why_len, "out of memory encoding %s", path);
    }
    sodium_memzero(text, len);
    free(text);
    return rv;
}

static hansa_err identity_mode_check(const char *path, char *why, size_t why_len)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        int e = errno;
        config_why(why, why_len, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT ? HANSA_ENOENT : HANSA_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        config_why(why, why_len, "%s is not a regular file", path);
        return HANSA_EFORMAT;
    }
    if (st.st_mode & 077) {
        config_why(why, why_len,
                   "identity key %s may be read by group or others (mode %04o); refusing it", path,
                   (unsigned)(st.st_mode & 07777));
        return HANSA_EPERM;
    }
    return HANSA_OK;
}

hansa_err testnet_identity_key_load(const char *path, uint8_t key[WIRE_IDENTITY_KEY_BYTES],
                                    char *why, size_t why_len)
{
    hansa_err rv = identity_mode_check(path, why, why_len);
    char *text = NULL;
    size_t len = 0;
    if (rv == HANSA_OK)
        rv = config_file_read(path, HANSA_KEYFILE_BYTES_MAX, &text, &len, why, why_len);
    if (rv != HANSA_OK)
        return rv == HANSA_ETOOLARGE ? HANSA_EFORMAT : rv;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    sodium_memzero(text, len);
    free(text);
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *version = json_object_get(doc, "version");
    const char *hex = json_string_value(json_object_get(doc, "key"));
    rv = HANSA_EFORMAT;
    if (json_object_size(doc) != 3 || type == NULL || strcmp(type, IDENTITY_KEY_FILE_TYPE) != 0 ||
        !json_is_integer(version) || json_integer_value(version) != 1)
        config_why(why, why_len, "%s is not a version 1 " IDENTITY_KEY_FILE_TYPE " file", path);
    else if (wire_hex_decode(hex, key, WIRE_IDENTITY_KEY_BYTES) != HANSA_OK)
        config_why(why, why_len, "%s: \"key\" must be %u hex digits", path,
                   2 * WIRE_IDENTITY_KEY_BYTES);
    else
        rv = HANSA_OK;
    if (hex != NULL)
        sodium_memzero((char *)(uintptr_t)hex, strlen(hex));
    json_decref(doc);
    return rv;
}

/* ---- generation steps -------------------------------------------------------------------------
 */

static hansa_err make_ca(struct net *n)
{
    char dir[CONFIG_PATH_BYTES_MAX], crt[CONFIG_PATH_BYTES_MAX], key[CONFIG_PATH_BYTES_MAX];
    net_path(n, dir, "ca", NULL);
    net_path(n, crt, "ca", "ca.crt");
    net_path(n, key, "ca", "ca.key");
    printf("  consortium CA          %s\n", crt);
    fflush(stdout);
    hansa_err rv = config_mkdir(dir, 0700, n->why, sizeof n->why);
    if (rv == HANSA_OK)
        rv = pki_ca_create(crt, key, n->o.chain_id, n->now_ms, n->why, sizeof n->why);
    if (rv == HANSA_OK)
        rv = pki_ca_open(&n->ca, crt, key, n->why, sizeof n->why);
    return rv;
}

/* Generate an Ed25519 key, save it, keep its public half. */
static hansa_err make_keyfile(struct net *n, const char *path, const char *party,
                              uint8_t pk[WIRE_PUBKEY_BYTES])
{
    struct wire_keypair kp;
    wire_keypair_generate(&kp);
    memcpy(pk, kp.public_key, WIRE_PUBKEY_BYTES);
    hansa_err rv = wire_keyfile_save(path, &kp, party, n->why, sizeof n->why);
    wire_keypair_wipe(&kp);
    return rv;
}

static hansa_err make_node(struct net *n, int i)
{
    char node[32], dir[CONFIG_PATH_BYTES_MAX], tls[CONFIG_PATH_BYTES_MAX];
    char path[CONFIG_PATH_BYTES_MAX], key[CONFIG_PATH_BYTES_MAX], ca[CONFIG_PATH_BYTES_MAX];
    snprintf(node, sizeof node, "node%d", i);
    net_path(n, dir, node, NULL);
    net_path(n, tls, node, "tls");
    printf("  %-22s validator key, TLS certificate\n", node);
    fflush(stdout);
    hansa_err rv = config_mkdir(dir, 0755, n->why, sizeof n->why);
    if (rv == HANSA_OK)
        rv = config_mkdir(tls, 0700, n->why, sizeof n->why);
    net_path(n, path, node, "validator.key");
    if (rv == HANSA_OK)
        rv = make_keyfile(n, path, "", n->validator_pk[i]);
    net_path(n, path, node, "tls/node.crt");
    net_path(n, key, node, "tls/node.key");
    if (rv == HANSA_OK)
        rv = pki_cert_issue(&n->ca, node, path, key, n->now_ms, n->why, sizeof n->why);
    net_path(n, path, "ca", "ca.crt");
    net_path(n, ca, node, "ca.crt");
    if (rv == HANSA_OK)
        rv = copy_file(path, ca, n->why, sizeof n->why);
    return rv;
}

static hansa_err add_party(struct net *n, const char *id, const char *name)
{
    HANSA_ASSERT(n->n_parties < N_PARTIES_MAX);
    char file[HANSA_ID_LEN_MAX + 8], path[CONFIG_PATH_BYTES_MAX];
    snprintf(file, sizeof file, "%s.key", id);
    net_path(n, path, "parties", file);
    size_t k = n->n_parties++;
    snprintf(n->party_id[k], sizeof n->party_id[k], "%s", id);
    snprintf(n->party_name[k], sizeof n->party_name[k], "%s", name);
    return make_keyfile(n, path, id, n->party_pk[k]);
}

static hansa_err make_parties(struct net *n)
{
    char dir[CONFIG_PATH_BYTES_MAX], path[CONFIG_PATH_BYTES_MAX], key[CONFIG_PATH_BYTES_MAX];
    net_path(n, dir, "parties", NULL);
    printf("  %-22s %zu party keys, identity key, client certificate\n", "parties",
           N_DEMO + (size_t)n->o.validators);
    fflush(stdout);
    hansa_err rv = config_mkdir(dir, 0700, n->why, sizeof n->why);
    for (size_t i = 0; i < N_DEMO && rv == HANSA_OK; i++)
        rv = add_party(n, demo_parties[i].id, demo_parties[i].display_name);
    for (int i = 0; i < n->o.validators && rv == HANSA_OK; i++) {
        char id[32], name[64];
        snprintf(id, sizeof id, "ADMIN-NODE%d", i);
        snprintf(name, sizeof name, "Consortium admin of node%d", i);
        rv = add_party(n, id, name);
    }
    uint8_t identity[WIRE_IDENTITY_KEY_BYTES];
    randombytes_buf(identity, sizeof identity);
    net_path(n, path, "parties", "identity.key");
    if (rv == HANSA_OK)
        rv = testnet_identity_key_save(path, identity, n->why, sizeof n->why);
    sodium_memzero(identity, sizeof identity);
    net_path(n, path, "parties", "client.crt");
    net_path(n, key, "parties", "client.key");
    if (rv == HANSA_OK)
        rv = pki_cert_issue(&n->ca, "client", path, key, n->now_ms, n->why, sizeof n->why);
    net_path(n, key, "ca", "ca.crt");
    net_path(n, path, "parties", "ca.crt");
    if (rv == HANSA_OK)
        rv = copy_file(key, path, n->why, sizeof n->why);
    return rv;
}

static Hansa__Role party_role(const struct net *n, size_t k)
{
    return k < N_DEMO ? demo_parties[k].role : HANSA__ROLE__ROLE_ADMIN;
}

static const char *party_country(size_t k)
{
    return k < N_DEMO ? demo_parties[k].country : "CN";
}

/* The genesis document over n's keys; everything points into n. */
static hansa_err encode_genesis(struct net *n, char **text, size_t *len)
{
    Hansa__Party parties[N_PARTIES_MAX], *party_ptrs[N_PARTIES_MAX];
    Hansa__Role roles[N_PARTIES_MAX];
    ProtobufCBinaryData keys[N_PARTIES_MAX];
    Hansa__Validator validators[TESTNET_VALIDATORS_MAX], *validator_ptrs[TESTNET_VALIDATORS_MAX];
    char validator_ids[TESTNET_VALIDATORS_MAX][16], operators[TESTNET_VALIDATORS_MAX][32];
    struct genesis_doc g;
    memset(&g, 0, sizeof g);
    snprintf(g.chain_id, sizeof g.chain_id, "%s", n->o.chain_id);
    g.time_ms = n->now_ms;
    ledger_params_default(&g.params);
    for (size_t k = 0; k < n->n_parties; k++) {
        hansa__party__init(&parties[k]);
        roles[k] = party_role(n, k);
        keys[k] = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, n->party_pk[k]};
        parties[k].id = n->party_id[k];
        parties[k].display_name = n->party_name[k];
        parties[k].country = (char *)(uintptr_t)party_country(k);
        parties[k].n_roles = 1;
        parties[k].roles = &roles[k];
        parties[k].n_keys = 1;
        parties[k].keys = &keys[k];
        party_ptrs[k] = &parties[k];
    }
    for (int i = 0; i < n->o.validators; i++) {
        hansa__validator__init(&validators[i]);
        snprintf(validator_ids[i], sizeof validator_ids[i], "node%d", i);
        snprintf(operators[i], sizeof operators[i], "ADMIN-NODE%d", i);
        validators[i].id = validator_ids[i];
        validators[i].key = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, n->validator_pk[i]};
        validators[i].operator_party = operators[i];
        validator_ptrs[i] = &validators[i];
    }
    g.parties = party_ptrs;
    g.n_parties = n->n_parties;
    g.validators = validator_ptrs;
    g.n_validators = (size_t)n->o.validators;
    return genesis_encode(&g, text, len, n->why, sizeof n->why);
}

static hansa_err write_genesis(struct net *n)
{
    char *text = NULL;
    size_t len = 0;
    hansa_err rv = encode_genesis(n, &text, &len);
    uint8_t hash[WIRE_HASH_BYTES];
    char hex[2 * WIRE_HASH_BYTES + 1] = "";
    if (rv == HANSA_OK) {
        wire_sha256(text, len, hash);
        wire_hex_encode(hash, sizeof hash, hex);
        printf("  %-22s %zu parties, %d validators, sha256 %s\n", "genesis.json", n->n_parties,
               n->o.validators, hex);
        fflush(stdout);
    }
    for (int i = 0; i < n->o.validators && rv == HANSA_OK; i++) {
        char node[32], path[CONFIG_PATH_BYTES_MAX];
        snprintf(node, sizeof node, "node%d", i);
        net_path(n, path, node, "genesis.json");
        rv = config_file_create(path, text, len, 0644, n->why, sizeof n->why);
    }
    free(text);
    return rv;
}

static hansa_err url_of(struct node_url *u, const char *scheme, int port, char *why, size_t why_len)
{
    char url[64];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d", scheme, port);
    return node_url_parse(url, u, why, why_len);
}

static hansa_err node_ports(const struct net *n, int i, struct node_config *c, char *why,
                            size_t why_len)
{
    int base = n->o.base_port + 10 * i;
    hansa_err rv = url_of(&c->p2p_listen, "tls+tcp", base, why, why_len);
    if (rv == HANSA_OK)
        rv = url_of(&c->api_listen_tls, "tls+tcp", base + 1, why, why_len);
    if (rv == HANSA_OK)
        rv = url_of(&c->api_listen_tcp, "tcp", base + 2, why, why_len);
    if (rv == HANSA_OK)
        rv = url_of(&c->events_listen, "tls+tcp", base + 3, why, why_len);
    return rv;
}

static hansa_err write_config(struct net *n, int i, struct node_config *c)
{
    node_config_init(c);
    snprintf(c->node_id, sizeof c->node_id, "node%d", i);
    snprintf(c->chain_id, sizeof c->chain_id, "%s", n->o.chain_id);
    hansa_err rv = node_ports(n, i, c, n->why, sizeof n->why);
    for (int j = 0; j < n->o.validators && rv == HANSA_OK; j++) {
        if (j == i)
            continue;
        struct node_peer *p = &c->peers[c->n_peers++];
        snprintf(p->id, sizeof p->id, "node%d", j);
        rv = url_of(&p->addr, "tls+tcp", n->o.base_port + 10 * j, n->why, sizeof n->why);
    }
    char path[CONFIG_PATH_BYTES_MAX];
    net_path(n, path, c->node_id, "config.ini");
    if (rv == HANSA_OK)
        rv = node_config_write(path, c, n->why, sizeof n->why);
    return rv;
}

/* The default risk ruleset, the same bytes on every node (RISK.md). */
static hansa_err write_rulesets(struct net *n)
{
    const char *text = risk_ruleset_default_text();
    hansa_err rv = HANSA_OK;
    for (int i = 0; i < n->o.validators && rv == HANSA_OK; i++) {
        char node[32], path[CONFIG_PATH_BYTES_MAX];
        snprintf(node, sizeof node, "node%d", i);
        net_path(n, path, node, "ruleset.ini");
        rv = config_file_create(path, text, strlen(text), 0644, n->why, sizeof n->why);
    }
    if (rv == HANSA_OK)
        printf("  %-22s the default risk ruleset, one per node\n", "ruleset.ini");
    return rv;
}

static void print_summary(const struct net *n)
{
    printf("\nTest network %s: %d validator%s in %s\n\n", n->o.chain_id, n->o.validators,
           n->o.validators == 1 ? "" : "s", n->dir);
    for (int i = 0; i < n->o.validators; i++) {
        int base = n->o.base_port + 10 * i;
        printf("node%d  home %s/node%d\n", i, n->dir, i);
        printf("       client API  tls+tcp://127.0.0.1:%d (TLS server name node%d), "
               "tcp://127.0.0.1:%d\n",
               base + 1, i, base + 2);
        printf("       events      tls+tcp://127.0.0.1:%d\n", base + 3);
    }
    printf("\nTools: party keys in %s/parties/<ID>.key, TLS client certificate "
           "%s/parties/client.crt\n(key client.key, CA ca.crt), identity key "
           "%s/parties/identity.key.\n",
           n->dir, n->dir, n->dir);
    printf("\nNext, start every node (each in its own terminal, or with &):\n");
    for (int i = 0; i < n->o.validators; i++)
        printf("  hansad start --home %s/node%d\n", n->dir, i);
}

static hansa_err generate(struct net *n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    n->now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    printf("Generating a %d-validator test network in %s\n", n->o.validators, n->dir);
    hansa_err rv = make_ca(n);
    for (int i = 0; i < n->o.validators && rv == HANSA_OK; i++)
        rv = make_node(n, i);
    if (rv == HANSA_OK)
        rv = make_parties(n);
    if (rv == HANSA_OK)
        rv = write_genesis(n);
    struct node_config *c = malloc(sizeof *c);
    if (c == NULL && rv == HANSA_OK) {
        config_why(n->why, sizeof n->why, "out of memory");
        rv = HANSA_ENOMEM;
    }
    if (rv == HANSA_OK)
        rv = write_rulesets(n);
    if (rv == HANSA_OK)
        printf("  %-22s one per node\n", "config.ini");
    for (int i = 0; i < n->o.validators && rv == HANSA_OK; i++)
        rv = write_config(n, i, c);
    free(c);
    return rv;
}

int testnet_main(int argc, char **argv)
{
    struct net *n = calloc(1, sizeof *n);
    if (n == NULL) {
        fprintf(stderr, "hansad testnet: out of memory\n");
        return 1;
    }
    int status = parse_opts(argc, argv, &n->o);
    if (status != 0) {
        free(n);
        return status < 0 ? 0 : status;
    }
    pki_ca_init(&n->ca);
    hansa_err rv = wire_global_init();
    if (rv != HANSA_OK)
        config_why(n->why, sizeof n->why, "cannot initialise libsodium");
    bool prepared = false;
    if (rv == HANSA_OK) {
        rv = prepare_dir(n);
        prepared = rv == HANSA_OK;
    }
    if (rv == HANSA_OK)
        rv = generate(n);
    if (rv == HANSA_OK) {
        print_summary(n);
    } else {
        fprintf(stderr, "hansad testnet: %s (%s)\n", n->why, hansa_strerror(rv));
        if (prepared)
            fprintf(stderr, "hansad testnet: %s is incomplete; remove it and run again\n", n->dir);
    }
    pki_ca_close(&n->ca);
    sodium_memzero(n, sizeof *n);
    free(n);
    return rv == HANSA_OK ? 0 : 1;
}
