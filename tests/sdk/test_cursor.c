/*
 * The cursor file of durable subscriptions (clients/sdk/src/cursor.c):
 * round trip, a missing file, malformed files, a stale temporary file, and
 * crash safety: a writer process killed with SIGKILL at arbitrary points
 * while it saves cursors leaves a file that loads and holds a cursor it
 * saved, never a torn one.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "internal.h"

static char dir[64], path[128];

static void setup(void)
{
    strcpy(dir, "/tmp/hansa-sdk-cursor-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/alerts.cursor", dir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(cursor, .init = setup, .fini = teardown, .timeout = 120);

static void write_text(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    cr_assert(fputs(text, f) >= 0);
    cr_assert_eq(fclose(f), 0);
}

Test(cursor, saves_and_loads_a_cursor)
{
    hansa_error err;
    hansa_cursor c = {18446744073709ull, 4294967295u}, got = {0, 0};
    bool found = false;
    cr_assert_eq(sdk_cursor_save(path, c, &err), HANSA_CODE_OK, "%s", err.message);
    cr_assert_eq(sdk_cursor_load(path, &got, &found, &err), HANSA_CODE_OK, "%s", err.message);
    cr_assert(found);
    cr_assert_eq(got.height, c.height);
    cr_assert_eq(got.ordinal, c.ordinal);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cr_assert_neq(access(tmp, F_OK), 0, "the temporary file is left behind");
}

Test(cursor, a_missing_file_is_not_found_and_not_an_error)
{
    hansa_error err;
    hansa_cursor got = {7, 7};
    bool found = true;
    cr_assert_eq(sdk_cursor_load(path, &got, &found, &err), HANSA_CODE_OK);
    cr_assert(!found);
    cr_assert_eq(got.height, 7u, "the cursor is untouched");
}

Test(cursor, refuses_malformed_files)
{
    const char *bad[] = {
        "",
        "{\"type\": \"hansa-alert-cursor\", \"version\": 1, \"height\": 4}",
        "{\"type\": \"hansa-alert-cursor\", \"version\": 2, \"height\": 4, \"ordinal\": 1}",
        "{\"type\": \"hansa-alert-cursor\", \"version\": 1, \"height\": -4, \"ordinal\": 1}",
        "{\"type\": \"hansa-alert-cursor\", \"version\": 1, \"height\": 4, \"ordinal\": "
        "4294967296}",
        "{\"type\": \"other\", \"version\": 1, \"height\": 4, \"ordinal\": 1}",
        "{\"type\": \"hansa-alert-cursor\", \"version\": 1, \"height\": 4, \"ordinal\": 1, "
        "\"x\": 0}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(path, bad[i]);
        hansa_error err;
        hansa_cursor got;
        bool found = false;
        cr_assert_eq(sdk_cursor_load(path, &got, &found, &err), HANSA_CODE_IO, "case %zu", i);
    }
}

Test(cursor, a_stale_temporary_file_changes_nothing)
{
    hansa_error err;
    cr_assert_eq(sdk_cursor_save(path, (hansa_cursor){5, 2}, &err), HANSA_CODE_OK);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    write_text(tmp, "{\"type\": \"hansa-alert-cu"); /* a crash mid-write */
    hansa_cursor got;
    bool found = false;
    cr_assert_eq(sdk_cursor_load(path, &got, &found, &err), HANSA_CODE_OK);
    cr_assert_eq(got.height, 5u);
    cr_assert_eq(sdk_cursor_save(path, (hansa_cursor){6, 0}, &err), HANSA_CODE_OK);
    cr_assert_eq(sdk_cursor_load(path, &got, &found, &err), HANSA_CODE_OK);
    cr_assert_eq(got.height, 6u);
}

Test(cursor, a_failed_save_keeps_the_old_cursor)
{
    hansa_error err;
    cr_assert_eq(sdk_cursor_save(path, (hansa_cursor){9, 1}, &err), HANSA_CODE_OK);
    cr_assert_eq(chmod(dir, 0500), 0); /* no new files in the directory */
    hansa_code code = sdk_cursor_save(path, (hansa_cursor){10, 0}, &err);
    cr_assert_eq(chmod(dir, 0700), 0);
    if (geteuid() == 0)
        cr_assert_eq(code, HANSA_CODE_OK, "root ignores directory modes");
    else
        cr_assert_eq(code, HANSA_CODE_IO);
    hansa_cursor got;
    bool found = false;
    cr_assert_eq(sdk_cursor_load(path, &got, &found, &err), HANSA_CODE_OK);
    cr_assert(got.height == 9 || (geteuid() == 0 && got.height == 10));
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir/cursor", dir);
    cr_assert_eq(sdk_cursor_save(missing, (hansa_cursor){1, 1}, &err), HANSA_CODE_IO);
}

/* The child saves cursors 1, 2, 3, ... and reports each saved height on
 * the pipe; it never returns. */
static void writer(int report_fd)
{
    for (uint64_t h = 1;; h++) {
        hansa_error err;
        if (sdk_cursor_save(path, (hansa_cursor){h, (uint32_t)(h % 7)}, &err) != HANSA_CODE_OK)
            _exit(3);
        uint8_t one = 1;
        if (write(report_fd, &one, 1) != 1)
            _exit(4);
    }
}

Test(cursor, survives_a_writer_killed_at_any_point)
{
    for (int round = 0; round < 25; round++) {
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
            close(fds[0]);
            writer(fds[1]);
        }
        close(fds[1]);
        /* Let it save a varying number of cursors, then kill it wherever it
         * is: mid-write, before the rename, before the directory sync. */
        uint64_t acked = 0;
        uint64_t want = 3 + (uint64_t)round * 7;
        uint8_t buf[64];
        while (acked < want) {
            ssize_t n = read(fds[0], buf, sizeof buf);
            cr_assert_gt(n, 0, "the writer died by itself");
            acked += (uint64_t)n;
        }
        cr_assert_eq(kill(pid, SIGKILL), 0);
        int status = 0;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status), "the writer failed (status %d)", status);
        ssize_t n;
        while ((n = read(fds[0], buf, sizeof buf)) > 0)
            acked += (uint64_t)n;
        close(fds[0]);
        hansa_cursor got = {0, 0};
        bool found = false;
        hansa_error err;
        cr_assert_eq(sdk_cursor_load(path, &got, &found, &err), HANSA_CODE_OK, "round %d: %s",
                     round, err.message);
        cr_assert(found);
        /* The last reported save, or the one after it that was under way. */
        cr_assert(got.height == acked || got.height == acked + 1,
                  "round %d: cursor %llu after %llu acknowledged saves", round,
                  (unsigned long long)got.height, (unsigned long long)acked);
        cr_assert_eq(got.ordinal, (uint32_t)(got.height % 7));
        unlink(path);
    }
}
