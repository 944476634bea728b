/*
 * The generated PKI works with nng's TLS (mbedTLS engine) the way the node
 * uses it (LIBNOTES 1.6): a rep0 listener on tls+tcp://127.0.0.1:0 requiring
 * client certificates, a req0 dialer that names the server it expects.
 * Certificates from pki_cert_issue complete a mutual-TLS round trip; a
 * client certificate of a second CA, a server of a second CA and a wrong
 * server name are refused. Sockets are bounded by timeouts and the tests by
 * Criterion's .timeout (LIBNOTES 1.9: closes can hang in nng 1.5.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "pki.h"
#include "testdir.h"

#define IO_TIMEOUT_MS 5000

static char dir[128];

/* One CA and its node0 and client certificates, by file path. */
struct pki_files {
    char ca[256], ca_key[256];
    char node_crt[256], node_key[256];
    char client_crt[256], client_key[256];
};

static struct pki_files good, other;

static void make_pki(struct pki_files *f, const char *prefix)
{
    char name[64], why[512] = "";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now_ms = (uint64_t)ts.tv_sec * 1000u;
#define FILE_OF(field, suffix)                                                                     \
    snprintf(name, sizeof name, "%s-%s", prefix, suffix);                                          \
    td_path(f->field, sizeof f->field, dir, name)
    FILE_OF(ca, "ca.crt");
    FILE_OF(ca_key, "ca.key");
    FILE_OF(node_crt, "node0.crt");
    FILE_OF(node_key, "node0.key");
    FILE_OF(client_crt, "client.crt");
    FILE_OF(client_key, "client.key");
#undef FILE_OF
    cr_assert_eq(pki_ca_create(f->ca, f->ca_key, prefix, now_ms, why, sizeof why), HANSA_OK, "%s",
                 why);
    struct pki_ca ca;
    pki_ca_init(&ca);
    cr_assert_eq(pki_ca_open(&ca, f->ca, f->ca_key, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(pki_cert_issue(&ca, "node0", f->node_crt, f->node_key, now_ms, why, sizeof why),
                 HANSA_OK, "%s", why);
    cr_assert_eq(
        pki_cert_issue(&ca, "client", f->client_crt, f->client_key, now_ms, why, sizeof why),
        HANSA_OK, "%s", why);
    pki_ca_close(&ca);
}

static void setup(void)
{
    td_make(dir, sizeof dir, "tls");
    make_pki(&good, "good");
    make_pki(&other, "other");
}

static void teardown(void)
{
    td_remove(dir);
    /* No nng_fini() here: Criterion talks to its runner over nng in this
     * very process. */
}

TestSuite(tls, .init = setup, .fini = teardown, .timeout = 30);

/* A TLS config with own cert/key and CA (PEM strings read from files). */
static nng_tls_config *tls_config(nng_tls_mode mode, const char *ca, const char *crt,
                                  const char *key, const char *server_name)
{
    nng_tls_config *c;
    cr_assert_eq(nng_tls_config_alloc(&c, mode), 0);
    char *ca_pem = td_read(ca, NULL), *crt_pem = td_read(crt, NULL), *key_pem = td_read(key, NULL);
    cr_assert(ca_pem && crt_pem && key_pem);
    cr_assert_eq(nng_tls_config_ca_chain(c, ca_pem, NULL), 0);
    cr_assert_eq(nng_tls_config_own_cert(c, crt_pem, key_pem, NULL), 0);
    cr_assert_eq(nng_tls_config_auth_mode(c, NNG_TLS_AUTH_MODE_REQUIRED), 0);
    if (server_name != NULL)
        cr_assert_eq(nng_tls_config_server_name(c, server_name), 0);
    free(ca_pem);
    free(crt_pem);
    free(key_pem);
    return c;
}

/* A rep0 server on tls+tcp://127.0.0.1:0 with the node0 certificate of f;
 * *port receives the bound port. */
static nng_socket start_server(const struct pki_files *f, int *port)
{
    nng_socket s;
    nng_listener l;
    cr_assert_eq(nng_rep0_open(&s), 0);
    cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, IO_TIMEOUT_MS), 0);
    cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, IO_TIMEOUT_MS), 0);
    cr_assert_eq(nng_listener_create(&l, s, "tls+tcp://127.0.0.1:0"), 0);
    nng_tls_config *c = tls_config(NNG_TLS_MODE_SERVER, f->ca, f->node_crt, f->node_key, NULL);
    cr_assert_eq(nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, c), 0);
    nng_tls_config_free(c); /* the listener holds its own reference */
    cr_assert_eq(nng_listener_set_size(l, NNG_OPT_RECVMAXSZ, 4096), 0);
    cr_assert_eq(nng_listener_start(l, 0), 0);
    cr_assert_eq(nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, port), 0);
    return s;
}

/* Dial the server synchronously with the client certificate (crt, key),
 * trusting ca and expecting server_name; returns nng's result. */
static int dial(nng_socket *s, int port, const char *ca, const char *crt, const char *key,
                const char *server_name)
{
    char url[64];
    nng_dialer d;
    snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%d", port);
    cr_assert_eq(nng_req0_open(s), 0);
    cr_assert_eq(nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, IO_TIMEOUT_MS), 0);
    cr_assert_eq(nng_socket_set_ms(*s, NNG_OPT_SENDTIMEO, IO_TIMEOUT_MS), 0);
    cr_assert_eq(nng_dialer_create(&d, *s, url), 0);
    nng_tls_config *c = tls_config(NNG_TLS_MODE_CLIENT, ca, crt, key, server_name);
    cr_assert_eq(nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, c), 0);
    nng_tls_config_free(c);
    return nng_dialer_start(d, 0); /* blocking: the handshake result */
}

Test(tls, generated_certs_complete_a_mutual_tls_round_trip)
{
    int port;
    nng_socket server = start_server(&good, &port), client;
    cr_assert_eq(dial(&client, port, good.ca, good.client_crt, good.client_key, "node0"), 0);

    cr_assert_eq(nng_send(client, "ping", 5, 0), 0);
    char *buf = NULL;
    size_t len = 0;
    cr_assert_eq(nng_recv(server, &buf, &len, NNG_FLAG_ALLOC), 0);
    cr_assert_eq(len, 5);
    cr_assert_str_eq(buf, "ping");

    nng_free(buf, len);
    cr_assert_eq(nng_send(server, "pong", 5, 0), 0);
    cr_assert_eq(nng_recv(client, &buf, &len, NNG_FLAG_ALLOC), 0);
    cr_assert_str_eq(buf, "pong");
    nng_free(buf, len);
    nng_close(client);
    nng_close(server);
}

Test(tls, client_cert_of_another_ca_is_refused)
{
    int port;
    nng_socket server = start_server(&good, &port), client;
    /* The client trusts the right CA but presents a certificate of another. */
    int rv = dial(&client, port, good.ca, other.client_crt, other.client_key, "node0");
    cr_assert_neq(rv, 0, "a foreign client certificate was accepted");
    cr_assert(rv == NNG_ECRYPTO || rv == NNG_ECONNSHUT || rv == NNG_ECLOSED, "%s",
              nng_strerror(rv));
    nng_close(client);

    /* The listener still serves a good client afterwards. */
    cr_assert_eq(dial(&client, port, good.ca, good.client_crt, good.client_key, "node0"), 0);
    nng_close(client);
    nng_close(server);
}

Test(tls, server_cert_of_another_ca_is_refused)
{
    int port;
    nng_socket server = start_server(&other, &port), client;
    int rv = dial(&client, port, good.ca, good.client_crt, good.client_key, "node0");
    cr_assert_eq(rv, NNG_ECRYPTO, "%s", nng_strerror(rv));
    nng_close(client);
    nng_close(server);
}

Test(tls, wrong_server_name_is_refused)
{
    int port;
    nng_socket server = start_server(&good, &port), client;
    int rv = dial(&client, port, good.ca, good.client_crt, good.client_key, "node1");
    cr_assert_eq(rv, NNG_ECRYPTO, "%s", nng_strerror(rv));
    nng_close(client);
    nng_close(server);
}
