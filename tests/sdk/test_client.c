/*
 * What the SDK does without a node to talk to: key files (hansa_keygen
 * writes what libhansa_wire reads, never overwrites), option checks at
 * hansa_client_open, a refused connection reported at once as
 * HANSA_CODE_CONNECT, writes and reads needing a key, a write given the
 * wrong message for its action, and page token text.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "hansa/hansa.h"
#include "hansa/wire.h"

static char dir[64];

static void setup(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
    strcpy(dir, "/tmp/hansa-sdk-client-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(client, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A loopback port nobody listens on (bound, then released). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

Test(client, keygen_writes_a_key_file_wire_reads)
{
    char path[128];
    snprintf(path, sizeof path, "%s/BANK-Z.key", dir);
    uint8_t pub[32];
    hansa_error err;
    cr_assert_eq(hansa_keygen(path, "BANK-Z", pub, &err), HANSA_CODE_OK, "%s", err.message);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    struct wire_keypair kp;
    char party[65], why[256];
    cr_assert_eq(wire_keyfile_load(path, &kp, party, sizeof party, why, sizeof why), HANSA_OK, "%s",
                 why);
    cr_assert_str_eq(party, "BANK-Z");
    cr_assert_arr_eq(kp.public_key, pub, 32);
    /* And a client opens with it, as BANK-Z. */
    hansa_client *c = NULL;
    hansa_client_options o = {.url = "tcp://127.0.0.1:1", .key_path = path};
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_OK, "%s", err.message);
    cr_assert_str_eq(hansa_client_party(c), "BANK-Z");
    cr_assert_str_eq(hansa_client_chain(c), "", "no chain id before the first request");
    hansa_client_close(c);
}

Test(client, keygen_never_overwrites_and_checks_the_party_id)
{
    char path[128];
    snprintf(path, sizeof path, "%s/k.key", dir);
    uint8_t a[32], b[32];
    hansa_error err;
    cr_assert_eq(hansa_keygen(path, NULL, a, &err), HANSA_CODE_OK, "%s", err.message);
    cr_assert_eq(hansa_keygen(path, "X", b, &err), HANSA_CODE_IO);
    cr_assert_not_null(strstr(err.message, "already exists"), "%s", err.message);
    snprintf(path, sizeof path, "%s/bad.key", dir);
    cr_assert_eq(hansa_keygen(path, "no/slash", b, &err), HANSA_CODE_INVALID_ARGUMENT);
    cr_assert_neq(access(path, F_OK), 0);
}

Test(client, open_refuses_bad_keys_and_bad_options)
{
    char path[128];
    snprintf(path, sizeof path, "%s/open.key", dir);
    uint8_t pub[32];
    hansa_error err;
    cr_assert_eq(hansa_keygen(path, "MER-X", pub, &err), HANSA_CODE_OK);
    hansa_client *c = (hansa_client *)1;
    hansa_client_options o = {.url = "tcp://127.0.0.1:1", .key_path = path};
    cr_assert_eq(chmod(path, 0644), 0);
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_KEY, "a key others may read");
    cr_assert_null(c);
    o.key_path = "/nonexistent/x.key";
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_KEY);
    o.key_path = NULL;
    o.url = "http://127.0.0.1:1";
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_INVALID_ARGUMENT);
    o.url = NULL;
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_INVALID_ARGUMENT);
    o.url = "tls+tcp://127.0.0.1:1";
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_INVALID_ARGUMENT, "TLS without a CA");
    o.ca_path = "/nonexistent/ca.crt";
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_IO);
    cr_assert_eq(hansa_client_open(NULL, &c, &err), HANSA_CODE_INVALID_ARGUMENT);
    hansa_client_close(NULL);
}

Test(client, a_refused_connection_fails_at_once_with_connect)
{
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", closed_port());
    hansa_client *c = NULL;
    hansa_error err;
    hansa_client_options o = {.url = url, .timeout_ms = 20000};
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_OK, "connecting is lazy");
    Hansa__NodeStatus *st = NULL;
    uint64_t t0 = mono_ms();
    cr_assert_eq(hansa_status(c, &st, &err), HANSA_CODE_CONNECT, "%s", err.message);
    cr_assert_lt(mono_ms() - t0, 2000, "a refused connection must not wait for the timeout");
    cr_assert_eq(err.code, HANSA_CODE_CONNECT);
    cr_assert_not_null(strstr(err.message, url), "%s", err.message);
    cr_assert_null(st);
    /* Again: nothing was left behind by the first attempt. */
    cr_assert_eq(hansa_status(c, &st, &err), HANSA_CODE_CONNECT);
    hansa_client_close(c);
}

Test(client, writes_and_signed_reads_need_a_key)
{
    hansa_client *c = NULL;
    hansa_error err;
    hansa_client_options o = {.url = "tcp://127.0.0.1:1"};
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_OK);
    cr_assert_str_eq(hansa_client_party(c), "");
    hansa_receipt r;
    cr_assert_eq(hansa_order_cancel(c, "MER-SZ-0001", "ORD-1", &r, &err),
                 HANSA_CODE_INVALID_ARGUMENT);
    cr_assert_not_null(strstr(err.message, "key"), "%s", err.message);
    Hansa__Order *ord = NULL;
    cr_assert_eq(hansa_order_get(c, "MER-SZ-0001", "ORD-1", &ord, &err),
                 HANSA_CODE_INVALID_ARGUMENT);
    hansa_subscription *s = NULL;
    hansa_subscription_options so = {.on_alert = NULL};
    cr_assert_eq(hansa_subscribe(c, &so, &s, &err), HANSA_CODE_INVALID_ARGUMENT);
    hansa_client_close(c);
}

Test(client, a_write_with_the_wrong_message_for_its_action_is_refused_locally)
{
    char path[128];
    snprintf(path, sizeof path, "%s/m.key", dir);
    uint8_t pub[32];
    hansa_error err;
    cr_assert_eq(hansa_keygen(path, "MER-X", pub, &err), HANSA_CODE_OK);
    hansa_client *c = NULL;
    hansa_client_options o = {.url = "tcp://127.0.0.1:1", .key_path = path};
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_OK);
    Hansa__CancelOrder cancel = HANSA__CANCEL_ORDER__INIT;
    hansa_receipt r;
    cr_assert_eq(hansa_submit(c, HANSA__TX_BODY__ACTION_CREATE_ORDER, &cancel, NULL, &r, &err),
                 HANSA_CODE_INVALID_ARGUMENT);
    cr_assert_not_null(strstr(err.message, "hansa.CreateOrder"), "%s", err.message);
    cr_assert_eq(hansa_submit(c, (Hansa__TxBody__ActionCase)3, &cancel, NULL, &r, &err),
                 HANSA_CODE_INVALID_ARGUMENT, "field 3 of TxBody is no action");
    cr_assert_eq(hansa_order_create(c, NULL, &r, &err), HANSA_CODE_INVALID_ARGUMENT);
    hansa_client_close(c);
}

Test(client, page_tokens_are_written_as_hex)
{
    uint8_t raw[] = "order/MER-1/A";
    ProtobufCBinaryData t = {sizeof raw - 1, raw};
    char out[HANSA_PAGE_TOKEN_TEXT_MAX];
    hansa_error err;
    cr_assert_eq(hansa_page_token_text(&t, out, sizeof out, &err), HANSA_CODE_OK);
    cr_assert_str_eq(out, "6f726465722f4d45522d312f41");
    char small[4];
    cr_assert_eq(hansa_page_token_text(&t, small, sizeof small, &err), HANSA_CODE_INVALID_ARGUMENT);
    ProtobufCBinaryData none = {0, NULL};
    cr_assert_eq(hansa_page_token_text(&none, out, sizeof out, &err), HANSA_CODE_OK);
    cr_assert_str_eq(out, "");
}
