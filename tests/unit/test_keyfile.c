/*
 * Key files: JSON, mode 0600, never overwritten, refused when group or others
 * can read them, when they are not regular files, and when the public key
 * does not match the seed. Every test works in its own mkdtemp directory
 * (Criterion runs tests in parallel processes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "hansa/wire.h"
#include "leakcheck.h"

static char dir[64];

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(path);
}

static void setup(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
    snprintf(dir, sizeof dir, "/tmp/hansa-keyfile-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
    if (dir[0] != '\0')
        remove_tree(dir);
}

TestSuite(keyfile, .init = setup, .fini = teardown);

static void path_in_dir(char *out, size_t out_len, const char *name)
{
    int n = snprintf(out, out_len, "%s/%s", dir, name);
    cr_assert(n > 0 && (size_t)n < out_len);
}

static void test_keypair(struct wire_keypair *kp, uint8_t first)
{
    uint8_t seed[WIRE_SEED_BYTES];
    for (unsigned i = 0; i < sizeof seed; i++)
        seed[i] = (uint8_t)(first + i);
    wire_keypair_from_seed(kp, seed);
}

/* Write text to path with exactly mode (fchmod: not subject to the umask). */
static void write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    cr_assert_eq(fchmod(fd, mode), 0);
    close(fd);
}

/* A key file in the documented format, written by hand. */
static void write_keyfile_json(const char *path, const char *type, const char *version,
                               const char *party, const char *pk_hex, const char *seed_hex)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"type\": \"%s\", \"version\": %s, \"party\": \"%s\",\n"
             " \"public_key\": \"%s\", \"seed\": \"%s\"}\n",
             type, version, party, pk_hex, seed_hex);
    write_text(path, text, 0600);
}

/* RFC 8032 test 1: a seed and its public key. */
#define SEED1 "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define PK1   "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define PK2   "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"

static hansa_err load(const char *path, struct wire_keypair *kp, char *party, size_t party_len,
                      char *why, size_t why_len)
{
    memset(kp, 0, sizeof *kp);
    if (why != NULL)
        why[0] = '\0';
    return wire_keyfile_load(path, kp, party, party_len, why, why_len);
}

/* ---- saving and loading ---------------------------------------------------------------------- */

Test(keyfile, save_then_load_round_trips_key_and_party)
{
    char path[256], party[HANSA_ID_LEN_MAX + 1], why[512];
    path_in_dir(path, sizeof path, "bank-a.key");
    struct wire_keypair kp, back;
    test_keypair(&kp, 1);
    cr_assert_eq(wire_keyfile_save(path, &kp, "BANK-A", why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(load(path, &back, party, sizeof party, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_arr_eq(back.public_key, kp.public_key, WIRE_PUBKEY_BYTES);
    cr_assert_arr_eq(back.secret_key, kp.secret_key, WIRE_SECKEY_BYTES);
    cr_assert_str_eq(party, "BANK-A");
    EXPECT_NO_LEAKS();
}

Test(keyfile, validator_key_with_empty_party_round_trips)
{
    char path[256], party[16] = "junk", why[512];
    path_in_dir(path, sizeof path, "validator.key");
    struct wire_keypair kp, back;
    test_keypair(&kp, 9);
    cr_assert_eq(wire_keyfile_save(path, &kp, NULL, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(load(path, &back, party, sizeof party, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_arr_eq(back.secret_key, kp.secret_key, WIRE_SECKEY_BYTES);
    cr_assert_str_eq(party, "");
}

Test(keyfile, hand_written_file_in_the_documented_format_loads)
{
    char path[256], party[32], why[512];
    path_in_dir(path, sizeof path, "hand.key");
    write_keyfile_json(path, "hansa-ed25519-key", "1", "MER-SZ-0001", PK1, SEED1);
    struct wire_keypair kp;
    cr_assert_eq(load(path, &kp, party, sizeof party, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_str_eq(party, "MER-SZ-0001");
    uint8_t pk[WIRE_PUBKEY_BYTES];
    cr_assert_eq(wire_hex_decode(PK1, pk, sizeof pk), HANSA_OK);
    cr_assert_arr_eq(kp.public_key, pk, sizeof pk);
}

Test(keyfile, saved_file_has_mode_0600_and_no_temporary_file_is_left)
{
    char path[256], why[512];
    path_in_dir(path, sizeof path, "k.key");
    struct wire_keypair kp;
    test_keypair(&kp, 1);
    umask(0); /* a permissive umask must not widen the mode */
    cr_assert_eq(wire_keyfile_save(path, &kp, "BANK-A", why, sizeof why), HANSA_OK, "%s", why);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert(S_ISREG(st.st_mode));
    cr_assert_eq(st.st_mode & 07777, 0600, "mode %04o", (unsigned)(st.st_mode & 07777));

    DIR *d = opendir(dir);
    cr_assert(d != NULL);
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            entries++;
            cr_assert_str_eq(e->d_name, "k.key", "stray file %s", e->d_name);
        }
    closedir(d);
    cr_assert_eq(entries, 1);
}

Test(keyfile, saved_file_holds_the_seed_and_public_key_in_hex)
{
    char path[256], why[512];
    path_in_dir(path, sizeof path, "k.key");
    uint8_t seed[WIRE_SEED_BYTES];
    cr_assert_eq(wire_hex_decode(SEED1, seed, sizeof seed), HANSA_OK);
    struct wire_keypair kp;
    wire_keypair_from_seed(&kp, seed);
    cr_assert_eq(wire_keyfile_save(path, &kp, "BANK-A", why, sizeof why), HANSA_OK, "%s", why);
    char text[2048] = {0};
    FILE *fp = fopen(path, "r");
    cr_assert(fp != NULL);
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    cr_assert_gt(n, 0);
    cr_assert(strstr(text, "\"hansa-ed25519-key\"") != NULL, "%s", text);
    cr_assert(strstr(text, "\"" SEED1 "\"") != NULL, "%s", text);
    cr_assert(strstr(text, "\"" PK1 "\"") != NULL, "%s", text);
    cr_assert(strstr(text, "\"BANK-A\"") != NULL, "%s", text);
}

Test(keyfile, second_save_to_the_same_path_is_eexist_and_keeps_the_first)
{
    char path[256], why[512], party[32];
    path_in_dir(path, sizeof path, "k.key");
    struct wire_keypair first, second, back;
    test_keypair(&first, 1);
    test_keypair(&second, 2);
    cr_assert_eq(wire_keyfile_save(path, &first, "BANK-A", why, sizeof why), HANSA_OK);
    why[0] = '\0';
    cr_assert_eq(wire_keyfile_save(path, &second, "BANK-B", why, sizeof why), HANSA_EEXIST);
    cr_assert_neq(why[0], '\0', "EEXIST comes with an explanation");
    cr_assert_eq(load(path, &back, party, sizeof party, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_arr_eq(back.secret_key, first.secret_key, WIRE_SECKEY_BYTES);
    cr_assert_str_eq(party, "BANK-A");
    EXPECT_NO_LEAKS();
}

Test(keyfile, save_refuses_an_invalid_party_id)
{
    char path[256], why[512] = "";
    path_in_dir(path, sizeof path, "k.key");
    struct wire_keypair kp;
    test_keypair(&kp, 1);
    cr_assert_eq(wire_keyfile_save(path, &kp, "BANK A", why, sizeof why), HANSA_EINVAL);
    cr_assert_neq(why[0], '\0');
    cr_assert_eq(access(path, F_OK), -1, "nothing is written");
}

/* ---- permissions ----------------------------------------------------------------------------- */

static void expect_eperm_for_mode(mode_t mode)
{
    char path[256], why[512];
    path_in_dir(path, sizeof path, "k.key");
    struct wire_keypair kp;
    test_keypair(&kp, 1);
    cr_assert_eq(wire_keyfile_save(path, &kp, "BANK-A", why, sizeof why), HANSA_OK);
    cr_assert_eq(chmod(path, mode), 0);
    cr_assert_eq(load(path, &kp, NULL, 0, why, sizeof why), HANSA_EPERM, "mode %04o accepted",
                 (unsigned)mode);
    cr_assert(strstr(why, "chmod 600") != NULL, "why: %s", why);
    cr_assert(strstr(why, path) != NULL, "why names the file: %s", why);
    static const struct wire_keypair zero;
    cr_assert_arr_eq(&kp, &zero, sizeof kp, "no key material handed out");
}

Test(keyfile, world_readable_0644_is_eperm_and_why_says_chmod_600)
{
    expect_eperm_for_mode(0644);
}

Test(keyfile, group_readable_0640_is_eperm)
{
    expect_eperm_for_mode(0640);
}

Test(keyfile, other_writable_0602_is_eperm)
{
    expect_eperm_for_mode(0602);
}

Test(keyfile, owner_read_only_0400_loads)
{
    char path[256], why[512];
    path_in_dir(path, sizeof path, "k.key");
    struct wire_keypair kp, back;
    test_keypair(&kp, 1);
    cr_assert_eq(wire_keyfile_save(path, &kp, "BANK-A", why, sizeof why), HANSA_OK);
    cr_assert_eq(chmod(path, 0400), 0);
    cr_assert_eq(load(path, &back, NULL, 0, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_arr_eq(back.secret_key, kp.secret_key, WIRE_SECKEY_BYTES);
}

/* ---- bad contents ---------------------------------------------------------------------------- */

static void expect_eformat(const char *text, const char *why_mentions)
{
    char path[256], why[512];
    path_in_dir(path, sizeof path, "bad.key");
    unlink(path);
    write_text(path, text, 0600);
    struct wire_keypair kp;
    cr_assert_eq(load(path, &kp, NULL, 0, why, sizeof why), HANSA_EFORMAT, "accepted: %s", text);
    cr_assert(strstr(why, why_mentions) != NULL, "why '%s' should mention '%s'", why, why_mentions);
    EXPECT_NO_LEAKS();
}

Test(keyfile, public_key_not_matching_the_seed_is_eformat)
{
    char path[256], why[512];
    path_in_dir(path, sizeof path, "k.key");
    write_keyfile_json(path, "hansa-ed25519-key", "1", "BANK-A", PK2, SEED1);
    struct wire_keypair kp;
    cr_assert_eq(load(path, &kp, NULL, 0, why, sizeof why), HANSA_EFORMAT);
    cr_assert(strstr(why, "does not match") != NULL, "why: %s", why);
    static const struct wire_keypair zero;
    cr_assert_arr_eq(&kp, &zero, sizeof kp, "the mismatched key is wiped");
    EXPECT_NO_LEAKS();
}

Test(keyfile, bad_json_is_eformat)
{
    expect_eformat("{\"type\": \"hansa-ed25519-key\", ", "line");
    expect_eformat("", "line");
    expect_eformat("not json at all", "line");
}

Test(keyfile, wrong_type_is_eformat)
{
    expect_eformat("{\"type\": \"ssh-ed25519\", \"version\": 1, \"party\": \"\", "
                   "\"public_key\": \"" PK1 "\", \"seed\": \"" SEED1 "\"}",
                   "\"type\"");
    expect_eformat("{\"type\": 7, \"version\": 1, \"party\": \"\", "
                   "\"public_key\": \"" PK1 "\", \"seed\": \"" SEED1 "\"}",
                   "\"type\"");
    expect_eformat("[1, 2, 3]", "\"type\"");
}

Test(keyfile, wrong_version_is_eformat)
{
    expect_eformat("{\"type\": \"hansa-ed25519-key\", \"version\": 2, \"party\": \"\", "
                   "\"public_key\": \"" PK1 "\", \"seed\": \"" SEED1 "\"}",
                   "version");
    expect_eformat("{\"type\": \"hansa-ed25519-key\", \"version\": \"1\", \"party\": \"\", "
                   "\"public_key\": \"" PK1 "\", \"seed\": \"" SEED1 "\"}",
                   "version");
    expect_eformat("{\"type\": \"hansa-ed25519-key\", \"party\": \"\", "
                   "\"public_key\": \"" PK1 "\", \"seed\": \"" SEED1 "\"}",
                   "version");
}

Test(keyfile, bad_hex_is_eformat)
{
    /* A 'g' in the seed, a short public key, a missing seed. */
    expect_eformat(
        "{\"type\": \"hansa-ed25519-key\", \"version\": 1, \"party\": \"\", "
        "\"public_key\": \"" PK1 "\", "
        "\"seed\": \"g d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\"}",
        "\"seed\"");
    expect_eformat("{\"type\": \"hansa-ed25519-key\", \"version\": 1, \"party\": \"\", "
                   "\"public_key\": \"d75a98\", \"seed\": \"" SEED1 "\"}",
                   "\"public_key\"");
    expect_eformat("{\"type\": \"hansa-ed25519-key\", \"version\": 1, \"party\": \"\", "
                   "\"public_key\": \"" PK1 "\"}",
                   "\"seed\"");
}

Test(keyfile, invalid_party_in_the_file_is_eformat)
{
    expect_eformat("{\"type\": \"hansa-ed25519-key\", \"version\": 1, \"party\": \"BANK A\", "
                   "\"public_key\": \"" PK1 "\", \"seed\": \"" SEED1 "\"}",
                   "\"party\"");
}

Test(keyfile, duplicate_json_keys_are_eformat)
{
    /* Which "seed" would count? Neither: the file is refused. */
    expect_eformat("{\"type\": \"hansa-ed25519-key\", \"version\": 1, \"party\": \"\", "
                   "\"public_key\": \"" PK1 "\", \"seed\": \"" SEED1 "\", \"seed\": \"" SEED1 "\"}",
                   "line");
}

Test(keyfile, file_over_the_size_limit_is_eformat)
{
    char *big = malloc(HANSA_KEYFILE_BYTES_MAX + 100);
    cr_assert(big != NULL);
    memset(big, ' ', HANSA_KEYFILE_BYTES_MAX + 99);
    big[0] = '{';
    big[HANSA_KEYFILE_BYTES_MAX + 98] = '}';
    big[HANSA_KEYFILE_BYTES_MAX + 99] = '\0';
    expect_eformat(big, "bytes");
    free(big);
}

Test(keyfile, party_longer_than_the_callers_buffer_is_refused)
{
    char path[256], why[512], party[4];
    path_in_dir(path, sizeof path, "k.key");
    struct wire_keypair kp;
    test_keypair(&kp, 1);
    cr_assert_eq(wire_keyfile_save(path, &kp, "BANK-A", why, sizeof why), HANSA_OK);
    cr_assert_neq(load(path, &kp, party, sizeof party, why, sizeof why), HANSA_OK);
    char bigger[7];
    cr_assert_eq(load(path, &kp, bigger, sizeof bigger, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_str_eq(bigger, "BANK-A");
}

/* ---- not a key file at all ------------------------------------------------------------------- */

Test(keyfile, missing_file_is_enoent)
{
    char path[256], why[512];
    path_in_dir(path, sizeof path, "absent.key");
    struct wire_keypair kp;
    cr_assert_eq(load(path, &kp, NULL, 0, why, sizeof why), HANSA_ENOENT);
    cr_assert(strstr(why, path) != NULL, "why: %s", why);
}

Test(keyfile, directory_is_refused)
{
    char path[256], why[512];
    path_in_dir(path, sizeof path, "d.key");
    cr_assert_eq(mkdir(path, 0700), 0);
    struct wire_keypair kp;
    hansa_err rv = load(path, &kp, NULL, 0, why, sizeof why);
    cr_assert_neq(rv, HANSA_OK);
    cr_assert_neq(why[0], '\0', "refusal without an explanation (%s)", hansa_errname(rv));
    EXPECT_NO_LEAKS();
}

Test(keyfile, symlink_to_a_valid_key_file_is_refused)
{
    char target[256], link_path[256], why[512];
    path_in_dir(target, sizeof target, "real.key");
    path_in_dir(link_path, sizeof link_path, "link.key");
    struct wire_keypair kp;
    test_keypair(&kp, 1);
    cr_assert_eq(wire_keyfile_save(target, &kp, "BANK-A", why, sizeof why), HANSA_OK);
    cr_assert_eq(symlink(target, link_path), 0);
    cr_assert_eq(load(target, &kp, NULL, 0, why, sizeof why), HANSA_OK, "the target is fine");
    hansa_err rv = load(link_path, &kp, NULL, 0, why, sizeof why);
    cr_assert_neq(rv, HANSA_OK, "a symlinked key file is followed");
    cr_assert_neq(why[0], '\0');
    EXPECT_NO_LEAKS();
}

Test(keyfile, why_may_be_null)
{
    char path[256];
    path_in_dir(path, sizeof path, "absent.key");
    struct wire_keypair kp;
    cr_assert_eq(wire_keyfile_load(path, &kp, NULL, 0, NULL, 0), HANSA_ENOENT);
    test_keypair(&kp, 1);
    cr_assert_eq(wire_keyfile_save(path, &kp, "BANK-A", NULL, 0), HANSA_OK);
    cr_assert_eq(wire_keyfile_save(path, &kp, "BANK-A", NULL, 0), HANSA_EEXIST);
}
