/* See peers_fixture.h. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>

#include "peers_fixture.h"
#include "pki.h"
#include "testdir.h"
#include "tls.h"

static char dir[128];

/* What a test opened, for pf_teardown. */
#define PF_OPEN_MAX 16
static struct peers *open_peers[PF_OPEN_MAX];
static struct node_config *configs[PF_OPEN_MAX];
static nng_socket raw_sockets[PF_OPEN_MAX];
static size_t n_raw;
/* pf_log_capture: the file that stands in for stderr, and the real one. */
static char log_path[256];
static int saved_stderr = -1;

static void remember(void **slots, void *ptr)
{
    for (size_t i = 0; i < PF_OPEN_MAX; i++) {
        if (slots[i] == NULL) {
            slots[i] = ptr;
            return;
        }
    }
    cr_assert_fail("fixture: more than %d open objects", PF_OPEN_MAX);
}

static void pf_path(char *out, size_t len, const char *ca, const char *name, const char *ext)
{
    char file[96];
    snprintf(file, sizeof file, "%s-%s.%s", ca, name, ext);
    td_path(out, len, dir, file);
}

/* A CA named ca with a certificate for each of names. */
static void make_ca(const char *ca_name, size_t n, const char *const names[], uint64_t now_ms)
{
    char crt[256], key[256], why[512] = "";
    pf_path(crt, sizeof crt, ca_name, "ca", "crt");
    pf_path(key, sizeof key, ca_name, "ca", "key");
    cr_assert_eq(pki_ca_create(crt, key, ca_name, now_ms, why, sizeof why), HANSA_OK, "%s", why);
    struct pki_ca ca;
    pki_ca_init(&ca);
    cr_assert_eq(pki_ca_open(&ca, crt, key, why, sizeof why), HANSA_OK, "%s", why);
    for (size_t i = 0; i < n; i++) {
        char leaf_crt[256], leaf_key[256];
        pf_path(leaf_crt, sizeof leaf_crt, ca_name, names[i], "crt");
        pf_path(leaf_key, sizeof leaf_key, ca_name, names[i], "key");
        cr_assert_eq(pki_cert_issue(&ca, names[i], leaf_crt, leaf_key, now_ms, why, sizeof why),
                     HANSA_OK, "%s", why);
    }
    pki_ca_close(&ca);
}

void pf_setup(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
    td_make(dir, sizeof dir, "peers");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now_ms = (uint64_t)ts.tv_sec * 1000u;
    static const char *const good[] = {"A", "B", "C", "mallory"};
    static const char *const other[] = {"B"};
    make_ca("good", 4, good, now_ms);
    make_ca("other", 1, other, now_ms);
}

void pf_teardown(void)
{
    for (size_t i = 0; i < PF_OPEN_MAX; i++) {
        peers_close(open_peers[i]);
        free(configs[i]);
    }
    for (size_t i = 0; i < n_raw; i++)
        nng_close(raw_sockets[i]);
    if (saved_stderr >= 0) {
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
    }
    td_remove(dir);
}

void pf_trust(struct node_config *cfg, const char *ca)
{
    pf_path(cfg->tls_ca_path, sizeof cfg->tls_ca_path, ca, "ca", "crt");
}

void pf_log_capture(void)
{
    cr_assert(saved_stderr < 0, "fixture: log already captured");
    td_path(log_path, sizeof log_path, dir, "log.txt");
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    cr_assert(fd >= 0, "fixture: cannot create %s", log_path);
    saved_stderr = dup(STDERR_FILENO);
    cr_assert(saved_stderr >= 0);
    cr_assert(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
}

size_t pf_log_count(const char *a, const char *b)
{
    cr_assert(saved_stderr >= 0, "fixture: log not captured");
    FILE *f = fopen(log_path, "r");
    cr_assert(f != NULL, "fixture: cannot read %s", log_path);
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL))
            n++;
    fclose(f);
    return n;
}

bool pf_log_last(const char *needle, char *line, size_t len)
{
    cr_assert(saved_stderr >= 0, "fixture: log not captured");
    FILE *f = fopen(log_path, "r");
    cr_assert(f != NULL, "fixture: cannot read %s", log_path);
    char buf[4096];
    bool found = false;
    while (fgets(buf, sizeof buf, f) != NULL) {
        if (strstr(buf, needle) != NULL) {
            snprintf(line, len, "%s", buf);
            found = true;
        }
    }
    fclose(f);
    return found;
}

bool pf_log_wait(const char *a, const char *b, uint32_t timeout_ms)
{
    for (uint32_t waited = 0;; waited += 50) {
        if (pf_log_count(a, b) > 0)
            return true;
        if (waited >= timeout_ms)
            return false;
        struct timespec slice = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
        nanosleep(&slice, NULL);
    }
}

void pf_tls_hang_up_on_server_cert(uint16_t port, bool reset)
{
    char ca_crt[256], crt[256], key[256], port_s[8];
    pf_path(ca_crt, sizeof ca_crt, "other", "ca", "crt");
    pf_path(crt, sizeof crt, "other", "B", "crt");
    pf_path(key, sizeof key, "other", "B", "key");
    snprintf(port_s, sizeof port_s, "%u", (unsigned)port);
    mbedtls_net_context fd;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca, own;
    mbedtls_pk_context pk;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_net_init(&fd);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&own);
    mbedtls_pk_init(&pk);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    cr_assert_eq(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0), 0);
    cr_assert_eq(mbedtls_x509_crt_parse_file(&ca, ca_crt), 0);
    cr_assert_eq(mbedtls_x509_crt_parse_file(&own, crt), 0);
    cr_assert_eq(mbedtls_pk_parse_keyfile(&pk, key, NULL), 0);
    cr_assert_eq(mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
                                             MBEDTLS_SSL_TRANSPORT_STREAM,
                                             MBEDTLS_SSL_PRESET_DEFAULT),
                 0);
    /* OPTIONAL: the handshake goes on past an untrusted certificate, so
     * mbedTLS sends no alert; this client decides and hangs up itself. */
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    cr_assert_eq(mbedtls_ssl_conf_own_cert(&conf, &own, &pk), 0);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    cr_assert_eq(mbedtls_ssl_setup(&ssl, &conf), 0);
    cr_assert_eq(mbedtls_ssl_set_hostname(&ssl, "A"), 0);
    cr_assert_eq(mbedtls_net_connect(&fd, "127.0.0.1", port_s, MBEDTLS_NET_PROTO_TCP), 0);
    mbedtls_ssl_set_bio(&ssl, &fd, mbedtls_net_send, mbedtls_net_recv, NULL);
    /* Up to and including the server's Certificate message. */
    while (ssl.state != MBEDTLS_SSL_SERVER_KEY_EXCHANGE) {
        int rv = mbedtls_ssl_handshake_step(&ssl);
        cr_assert_eq(rv, 0, "handshake step in state %d: -0x%04x", ssl.state, (unsigned)-rv);
        cr_assert(ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER);
    }
    cr_assert_neq(mbedtls_ssl_get_verify_result(&ssl), 0,
                  "the other CA trusts the listener's certificate");
    if (reset) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        cr_assert_eq(setsockopt(fd.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    }
    mbedtls_net_free(&fd); /* close(2), no alert */
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&own);
    mbedtls_pk_free(&pk);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
}

void pf_close(struct peers *p)
{
    for (size_t i = 0; i < PF_OPEN_MAX; i++)
        if (open_peers[i] == p)
            open_peers[i] = NULL;
    peers_close(p);
}

uint16_t pf_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void set_url(struct node_url *u, uint16_t port)
{
    char url[64], why[256] = "";
    snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%u", (unsigned)port);
    cr_assert_eq(node_url_parse(url, u, why, sizeof why), HANSA_OK, "%s", why);
}

struct node_config *pf_config(const char *id, const char *ca, uint16_t port, size_t n,
                              const char *const peer_ids[], const uint16_t peer_ports[])
{
    struct node_config *c = malloc(sizeof *c);
    cr_assert(c != NULL);
    remember((void **)configs, c);
    node_config_init(c);
    snprintf(c->node_id, sizeof c->node_id, "%s", id);
    snprintf(c->chain_id, sizeof c->chain_id, "%s", PF_CHAIN);
    pf_path(c->tls_ca_path, sizeof c->tls_ca_path, "good", "ca", "crt");
    pf_path(c->tls_cert_path, sizeof c->tls_cert_path, ca, id, "crt");
    pf_path(c->tls_key_path, sizeof c->tls_key_path, ca, id, "key");
    set_url(&c->p2p_listen, port);
    cr_assert(n <= HANSA_PEERS_MAX);
    for (size_t i = 0; i < n; i++) {
        snprintf(c->peers[i].id, sizeof c->peers[i].id, "%s", peer_ids[i]);
        set_url(&c->peers[i].addr, peer_ports[i]);
    }
    c->n_peers = n;
    return c;
}

struct peers *pf_open(const struct node_config *cfg, size_t queue_max)
{
    struct peers *p = NULL;
    char why[512] = "";
    hansa_err err = peers_open(cfg, queue_max, &p, why, sizeof why);
    cr_assert_eq(err, HANSA_OK, "peers_open %s: %s: %s", cfg->node_id, hansa_strerror(err), why);
    cr_assert(p != NULL);
    remember((void **)open_peers, p);
    return p;
}

void pf_status(Hansa__ConsensusMessage *m, Hansa__PeerStatus *st, uint64_t seq, uint32_t tag)
{
    *st = (Hansa__PeerStatus)HANSA__PEER_STATUS__INIT;
    st->committed_height = seq;
    st->round = tag;
    *m = (Hansa__ConsensusMessage)HANSA__CONSENSUS_MESSAGE__INIT;
    m->kind_case = HANSA__CONSENSUS_MESSAGE__KIND_STATUS;
    m->status = st;
}

uint64_t pf_expect_status(struct peers *p, const char *sender, uint32_t *tag, uint32_t timeout_ms)
{
    Hansa__ConsensusMessage *m = peers_next(p, timeout_ms);
    cr_assert(m != NULL, "no message from %s within %u ms", sender, timeout_ms);
    cr_assert_str_eq(m->sender, sender);
    cr_assert_str_eq(m->chain_id, PF_CHAIN);
    cr_assert_eq(m->kind_case, HANSA__CONSENSUS_MESSAGE__KIND_STATUS);
    uint64_t seq = m->status->committed_height;
    if (tag != NULL)
        *tag = m->status->round;
    wire_free(m);
    return seq;
}

nng_socket pf_raw_dial(const struct node_config *cfg, const char *server_name, uint16_t port)
{
    nng_socket s;
    nng_dialer d;
    char url[64], why[512] = "";
    snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%u", (unsigned)port);
    cr_assert_eq(nng_push0_open(&s), 0);
    cr_assert(n_raw < PF_OPEN_MAX);
    raw_sockets[n_raw++] = s;
    cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 10000), 0);
    cr_assert_eq(nng_dialer_create(&d, s, url), 0);
    cr_assert_eq(nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 50), 0);
    cr_assert_eq(nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, 200), 0);
    nng_tls_config *tls = NULL;
    cr_assert_eq(net_tls_client(cfg, server_name, &tls, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls), 0);
    nng_tls_config_free(tls);
    cr_assert_eq(nng_dialer_start(d, NNG_FLAG_NONBLOCK), 0);
    return s;
}

void pf_raw_send(nng_socket s, const void *buf, size_t len)
{
    nng_msg *m = NULL;
    cr_assert_eq(nng_msg_alloc(&m, 0), 0);
    cr_assert_eq(nng_msg_append(m, buf, len), 0);
    int rv = nng_sendmsg(s, m, 0);
    if (rv != 0)
        nng_msg_free(m);
    cr_assert_eq(rv, 0, "raw send: %s", nng_strerror(rv));
}

void pf_encode(const char *chain_id, const char *sender, bool with_payload, uint64_t seq,
               uint8_t **buf, size_t *len)
{
    Hansa__ConsensusMessage m;
    Hansa__PeerStatus st;
    pf_status(&m, &st, seq, 0);
    if (!with_payload) {
        m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND__NOT_SET;
        m.status = NULL;
    }
    m.chain_id = (char *)chain_id;
    m.sender = (char *)sender;
    cr_assert_eq(wire_encode(&m.base, HANSA_PEER_MESSAGE_BYTES_MAX, buf, len), HANSA_OK);
}
