/*
 * control.c: the node's control socket answers each bad request with a
 * reason (unknown command, relative path, a line too long), is a 0600 file
 * that replaces a stale one, and a client that connects and says nothing
 * holds it for at most CONTROL_IO_TIMEOUT_MS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "control.h"
#include "store.h"

static char home[64], data[96], sock[100];
static struct store *store;
static struct control *ctl;

static void setup(void)
{
    strcpy(home, "/tmp/hansa-control-XXXXXX");
    cr_assert_not_null(mkdtemp(home));
    snprintf(data, sizeof data, "%s/data", home);
    snprintf(sock, sizeof sock, "%s/%s", home, CONTROL_SOCKET_NAME);
    char why[256] = "";
    cr_assert_eq(store_open(data, &store, why, sizeof why), HANSA_OK, "%s", why);
    FILE *stale = fopen(sock, "w"); /* left by a killed node */
    cr_assert_not_null(stale);
    fclose(stale);
    cr_assert_eq(control_open(home, store, &ctl, why, sizeof why), HANSA_OK, "%s", why);
}

static void teardown(void)
{
    control_close(ctl);
    store_close(store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", home);
}

TestSuite(control, .init = setup, .fini = teardown, .timeout = 60);

static const char *call(const char *request)
{
    static char ans[8192];
    char why[256] = "";
    cr_assert_eq(control_call(home, request, ans, sizeof ans, 10000, why, sizeof why), HANSA_OK,
                 "%s", why);
    return ans;
}

Test(control, the_socket_is_the_owners_only_and_replaces_a_stale_file)
{
    struct stat st;
    cr_assert_eq(stat(sock, &st), 0);
    cr_assert(S_ISSOCK(st.st_mode), "not a socket");
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
    control_close(ctl);
    ctl = NULL;
    cr_assert_neq(stat(sock, &st), 0, "the socket file outlived its node");
    char ans[64], why[256] = "";
    cr_assert_eq(control_call(home, "backup /x", ans, sizeof ans, 1000, why, sizeof why),
                 HANSA_ENOENT);
    cr_assert(strstr(why, "no node answers") != NULL, "%s", why);
}

Test(control, bad_requests_get_a_reason)
{
    cr_assert_str_eq(call("status"), "error unknown command (known: backup <absolute dir>)");
    cr_assert_str_eq(call("backup relative/dir"),
                     "error the backup directory must be an absolute path: relative/dir");
    char existing[128];
    snprintf(existing, sizeof existing, "backup %s", data);
    const char *a = call(existing);
    cr_assert(strncmp(a, "error ", 6) == 0 && strstr(a, "already exists") != NULL, "%s", a);
    char *longer = malloc(CONTROL_REQUEST_BYTES_MAX + 1);
    memset(longer, 'a', CONTROL_REQUEST_BYTES_MAX);
    longer[CONTROL_REQUEST_BYTES_MAX] = '\0';
    char ans[256], why[256] = "";
    cr_assert_eq(control_call(home, longer, ans, sizeof ans, 10000, why, sizeof why), HANSA_OK,
                 "%s", why);
    cr_assert(strstr(ans, "error no request line within the time or size limit") == ans, "%s", ans);
    free(longer);
}

Test(control, a_silent_client_holds_the_socket_only_for_the_io_timeout)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_str_eq(call("status"), "error unknown command (known: backup <absolute dir>)");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(s, (CONTROL_IO_TIMEOUT_MS + 4000) / 1000.0, "waited %.1f s", s);
    char buf[128] = "";
    cr_assert_gt(read(fd, buf, sizeof buf - 1), 0, "the silent client got no answer");
    cr_assert(strstr(buf, "error no request line") == buf, "%s", buf);
    close(fd);
}
