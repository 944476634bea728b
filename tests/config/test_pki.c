/*
 * Consortium PKI: a node certificate verifies against its CA for its own
 * name and for localhost, and fails for another name and against another
 * CA; private keys are mode 0600; nothing is ever overwritten; a CA key
 * others can read, a leaf posing as a CA and a key of another certificate
 * are refused.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <criterion/criterion.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

#include "pki.h"
#include "testdir.h"

static char dir[128];
static char ca_crt[256], ca_key[256], node_crt[256], node_key[256];
/* The current time: certificates that are verified must be valid now. */
static uint64_t now_ms;
/* 2025-11-26T05:00:00Z, for the test that checks dates. */
static const uint64_t fixed_ms = UINT64_C(1764133200000);

static void setup(void)
{
    td_make(dir, sizeof dir, "pki");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    now_ms = (uint64_t)ts.tv_sec * 1000u;
    td_path(ca_crt, sizeof ca_crt, dir, "ca.crt");
    td_path(ca_key, sizeof ca_key, dir, "ca.key");
    td_path(node_crt, sizeof node_crt, dir, "node1.crt");
    td_path(node_key, sizeof node_key, dir, "node1.key");
}

static void teardown(void)
{
    td_remove(dir);
}

TestSuite(pki, .init = setup, .fini = teardown);

/* A CA at (crt, key) and a certificate for name signed by it, at time t_ms. */
static void make_pair_at(const char *crt, const char *key, const char *name, const char *leaf_crt,
                         const char *leaf_key, uint64_t t_ms)
{
    char why[512] = "";
    cr_assert_eq(pki_ca_create(crt, key, "hansa-test-1", t_ms, why, sizeof why), HANSA_OK, "%s",
                 why);
    struct pki_ca ca;
    pki_ca_init(&ca);
    cr_assert_eq(pki_ca_open(&ca, crt, key, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(pki_cert_issue(&ca, name, leaf_crt, leaf_key, t_ms, why, sizeof why), HANSA_OK,
                 "%s", why);
    pki_ca_close(&ca);
}

static void make_pair(const char *crt, const char *key, const char *name, const char *leaf_crt,
                      const char *leaf_key)
{
    make_pair_at(crt, key, name, leaf_crt, leaf_key, now_ms);
}

/* mbedtls_x509_crt_verify of leaf against ca for name; returns the flags
 * (0 = verified). */
static uint32_t verify(const char *ca_path, const char *leaf_path, const char *name)
{
    mbedtls_x509_crt ca, leaf;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&leaf);
    cr_assert_eq(mbedtls_x509_crt_parse_file(&ca, ca_path), 0);
    cr_assert_eq(mbedtls_x509_crt_parse_file(&leaf, leaf_path), 0);
    uint32_t flags = 0;
    int ret = mbedtls_x509_crt_verify(&leaf, &ca, NULL, name, &flags, NULL, NULL);
    cr_assert_eq(ret == 0, flags == 0, "ret %d flags %x", ret, flags);
    mbedtls_x509_crt_free(&leaf);
    mbedtls_x509_crt_free(&ca);
    return flags;
}

Test(pki, node_cert_verifies_for_its_cn_and_localhost_only)
{
    make_pair(ca_crt, ca_key, "node1", node_crt, node_key);
    cr_assert_eq(verify(ca_crt, node_crt, "node1"), 0);
    cr_assert_eq(verify(ca_crt, node_crt, "localhost"), 0, "DNS SAN localhost");
    uint32_t flags = verify(ca_crt, node_crt, "node2");
    cr_assert(flags & MBEDTLS_X509_BADCERT_CN_MISMATCH, "flags %x", flags);
    flags = verify(ca_crt, node_crt, "127.0.0.1");
    cr_assert(flags & MBEDTLS_X509_BADCERT_CN_MISMATCH, "IP addresses never match");
}

Test(pki, node_cert_fails_against_another_ca)
{
    char other_crt[256], other_key[256], other_leaf[256], other_leaf_key[256];
    td_path(other_crt, sizeof other_crt, dir, "other-ca.crt");
    td_path(other_key, sizeof other_key, dir, "other-ca.key");
    td_path(other_leaf, sizeof other_leaf, dir, "other-node1.crt");
    td_path(other_leaf_key, sizeof other_leaf_key, dir, "other-node1.key");
    make_pair(ca_crt, ca_key, "node1", node_crt, node_key);
    make_pair(other_crt, other_key, "node1", other_leaf, other_leaf_key);
    uint32_t flags = verify(other_crt, node_crt, "node1");
    cr_assert(flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED, "flags %x", flags);
    flags = verify(ca_crt, other_leaf, "node1");
    cr_assert(flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED, "flags %x", flags);
    TD_EXPECT_NO_LEAKS();
}

Test(pki, certificates_carry_the_documented_fields)
{
    make_pair_at(ca_crt, ca_key, "node1", node_crt, node_key, fixed_ms);
    mbedtls_x509_crt ca, leaf;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&leaf);
    cr_assert_eq(mbedtls_x509_crt_parse_file(&ca, ca_crt), 0);
    cr_assert_eq(mbedtls_x509_crt_parse_file(&leaf, node_crt), 0);
    char name[256];
    cr_assert_gt(mbedtls_x509_dn_gets(name, sizeof name, &ca.subject), 0);
    cr_assert_str_eq(name, "CN=Hansa Consortium CA, O=hansa-test-1");
    cr_assert_gt(mbedtls_x509_dn_gets(name, sizeof name, &leaf.subject), 0);
    cr_assert_str_eq(name, "CN=node1, O=hansa-test-1");
    cr_assert(ca.ca_istrue);
    cr_assert_not(leaf.ca_istrue);
    cr_assert_eq(ca.sig_md, MBEDTLS_MD_SHA256);
    cr_assert_eq(mbedtls_pk_get_type(&leaf.pk), MBEDTLS_PK_ECKEY);
    cr_assert_eq(mbedtls_pk_get_bitlen(&leaf.pk), 256);
    /* Validity: from one hour before now (04:00:00) for 10 years (CA), 5 (leaf). */
    cr_assert_eq(ca.valid_from.year, 2025);
    cr_assert_eq(ca.valid_from.mon, 11);
    cr_assert_eq(ca.valid_from.day, 26);
    cr_assert_eq(ca.valid_from.hour, 4);
    cr_assert_eq(ca.valid_to.year, 2035);
    cr_assert_eq(ca.valid_to.hour, 5);
    cr_assert_eq(leaf.valid_to.year, 2030);
    cr_assert_neq(memcmp(ca.serial.p, leaf.serial.p, ca.serial.len), 0);
    cr_assert(leaf.ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME);
    const mbedtls_x509_sequence *san = &leaf.subject_alt_names;
    cr_assert_eq(san->buf.len, 5);
    cr_assert_eq(memcmp(san->buf.p, "node1", 5), 0);
    cr_assert_not_null(san->next);
    cr_assert_eq(memcmp(san->next->buf.p, "localhost", 9), 0);
    cr_assert_null(san->next->next);
    mbedtls_x509_crt_free(&leaf);
    mbedtls_x509_crt_free(&ca);
}

Test(pki, leaf_never_outlives_its_ca)
{
    char why[512] = "";
    cr_assert_eq(pki_ca_create(ca_crt, ca_key, "hansa-test-1", now_ms, why, sizeof why), HANSA_OK);
    struct pki_ca ca;
    pki_ca_init(&ca);
    cr_assert_eq(pki_ca_open(&ca, ca_crt, ca_key, why, sizeof why), HANSA_OK, "%s", why);
    /* Issued 8 years later: 5 years would pass the CA's 10. */
    uint64_t later_ms = now_ms + UINT64_C(8) * 365 * 24 * 3600 * 1000;
    cr_assert_eq(pki_cert_issue(&ca, "node1", node_crt, node_key, later_ms, why, sizeof why),
                 HANSA_OK, "%s", why);
    mbedtls_x509_crt leaf;
    mbedtls_x509_crt_init(&leaf);
    cr_assert_eq(mbedtls_x509_crt_parse_file(&leaf, node_crt), 0);
    cr_assert_eq(leaf.valid_to.year, ca.cert.valid_to.year);
    cr_assert_eq(leaf.valid_to.mon, ca.cert.valid_to.mon);
    cr_assert_eq(leaf.valid_to.day, ca.cert.valid_to.day);
    mbedtls_x509_crt_free(&leaf);
    pki_ca_close(&ca);
}

Test(pki, private_keys_are_mode_0600_and_certs_0644)
{
    make_pair(ca_crt, ca_key, "node1", node_crt, node_key);
    cr_assert_eq(td_mode(ca_key), 0600);
    cr_assert_eq(td_mode(node_key), 0600);
    cr_assert_eq(td_mode(ca_crt), 0644);
    cr_assert_eq(td_mode(node_crt), 0644);
    char *pem = td_read(node_key, NULL);
    cr_assert(strstr(pem, "-----BEGIN EC PRIVATE KEY-----") != NULL);
    free(pem);
}

Test(pki, never_overwrites_and_writes_nothing_when_one_file_exists)
{
    make_pair(ca_crt, ca_key, "node1", node_crt, node_key);
    char why[512] = "";
    char *before = td_read(ca_key, NULL);
    cr_assert_eq(pki_ca_create(ca_crt, ca_key, "x", now_ms, why, sizeof why), HANSA_EEXIST);
    char *after = td_read(ca_key, NULL);
    cr_assert_str_eq(before, after);
    free(before);
    free(after);

    struct pki_ca ca;
    pki_ca_init(&ca);
    cr_assert_eq(pki_ca_open(&ca, ca_crt, ca_key, why, sizeof why), HANSA_OK, "%s", why);
    char fresh_key[256];
    td_path(fresh_key, sizeof fresh_key, dir, "fresh.key");
    cr_assert_eq(pki_cert_issue(&ca, "node2", node_crt, fresh_key, now_ms, why, sizeof why),
                 HANSA_EEXIST);
    cr_assert(strstr(why, "node1.crt already exists") != NULL, "%s", why);
    cr_assert_eq(td_mode(fresh_key), -1, "no key without its certificate");
    pki_ca_close(&ca);
    TD_EXPECT_NO_LEAKS();
}

Test(pki, ca_open_refuses_readable_key_leaf_cert_and_foreign_key)
{
    make_pair(ca_crt, ca_key, "node1", node_crt, node_key);
    char why[512] = "";
    struct pki_ca ca;
    pki_ca_init(&ca);
    cr_assert_eq(chmod(ca_key, 0640), 0);
    cr_assert_eq(pki_ca_open(&ca, ca_crt, ca_key, why, sizeof why), HANSA_EPERM);
    cr_assert(strstr(why, "chmod 600") != NULL, "%s", why);
    cr_assert_eq(chmod(ca_key, 0600), 0);

    cr_assert_eq(pki_ca_open(&ca, node_crt, node_key, why, sizeof why), HANSA_EFORMAT);
    cr_assert(strstr(why, "is not a consortium CA certificate") != NULL, "%s", why);

    cr_assert_eq(pki_ca_open(&ca, ca_crt, node_key, why, sizeof why), HANSA_EBADKEY);
    cr_assert(strstr(why, "does not belong to its certificate") != NULL, "%s", why);

    char missing[256];
    td_path(missing, sizeof missing, dir, "missing.crt");
    cr_assert_eq(pki_ca_open(&ca, missing, ca_key, why, sizeof why), HANSA_ENOENT);
    pki_ca_close(&ca);
    pki_ca_close(&ca); /* closing twice is harmless */
    TD_EXPECT_NO_LEAKS();
}

Test(pki, cert_check_reports_each_problem_in_words)
{
    make_pair(ca_crt, ca_key, "node1", node_crt, node_key);
    char why[512] = "";
    cr_assert_eq(pki_cert_check(ca_crt, node_crt, node_key, "node1", why, sizeof why), HANSA_OK,
                 "%s", why);
    cr_assert_eq(pki_cert_check(ca_crt, node_crt, NULL, "node2", why, sizeof why), HANSA_EBADKEY);
    cr_assert(strstr(why, "does not verify for \"node2\"") != NULL, "%s", why);
    cr_assert(strstr(why, "CN") != NULL, "%s", why);
    cr_assert_eq(pki_cert_check(ca_crt, node_crt, ca_key, "node1", why, sizeof why), HANSA_EBADKEY);
    cr_assert(strstr(why, "does not belong") != NULL, "%s", why);
    td_write(node_crt + 0, ""); /* truncate: no longer a certificate */
    cr_assert_eq(pki_cert_check(ca_crt, node_crt, NULL, "node1", why, sizeof why), HANSA_EFORMAT);
    TD_EXPECT_NO_LEAKS();
}

Test(pki, bad_names_and_times_are_refused)
{
    char why[512] = "";
    cr_assert_eq(pki_ca_create(ca_crt, ca_key, "bad,org", now_ms, why, sizeof why), HANSA_EINVAL);
    cr_assert_eq(pki_ca_create(ca_crt, ca_key, "", now_ms, why, sizeof why), HANSA_EINVAL);
    cr_assert_eq(pki_ca_create(ca_crt, ca_key, "ok", UINT64_MAX, why, sizeof why), HANSA_EINVAL);
    cr_assert_eq(td_mode(ca_crt), -1);
    make_pair(ca_crt, ca_key, "node1", node_crt, node_key);
    struct pki_ca ca;
    pki_ca_init(&ca);
    cr_assert_eq(pki_ca_open(&ca, ca_crt, ca_key, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(pki_cert_issue(&ca, "CN=evil,O=x", "/nonexistent/a", "/nonexistent/b", now_ms, why,
                                sizeof why),
                 HANSA_EINVAL);
    pki_ca_close(&ca);
    TD_EXPECT_NO_LEAKS();
}
