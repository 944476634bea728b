/*
 * A validator that dies of a fatal signal says so in its log: a NODE-CRASH
 * line and the stack of the thread the signal hit (node/crashlog.h), and
 * the harness resolves the frames to source lines (proc_crash_stack), so
 * a crash seen once in CI can be read without a core. The exit status
 * stays the signal's, and the validator restarts with its chain intact.
 */
#define _GNU_SOURCE /* tgkill */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cluster.h"

static struct cluster c;

static void setup(void)
{
    cluster_init(&c, 1, "hansa-crash-1");
    cluster_start(&c, 0);
    cr_assert(cluster_wait_ready(&c, 0, 30000), "the validator did not start");
}

static void teardown(void)
{
    cluster_fini(&c, false);
}

TestSuite(crash, .init = setup, .fini = teardown, .timeout = 300);

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s", path);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Signal the validator's main thread (its event loop): its stack holds
 * hansad's own frames, whichever threads nng runs. */
static int crash_main_thread(int i, int sig)
{
    pid_t pid = c.nodes[i].pid;
    cr_assert_eq(syscall(SYS_tgkill, pid, pid, sig), 0);
    int status = proc_wait(&c.nodes[i], 20000);
    c.running[i] = false;
    return status;
}

Test(crash, a_fatal_signal_leaves_the_stack_in_the_log_and_the_node_restarts)
{
    cr_assert_eq(cluster_submit(&c, 0, 3, 20000), 3);
    uint64_t h = cluster_height(&c, 0);
    cr_assert_eq(crash_main_thread(0, SIGSEGV), 128 + SIGSEGV, "the exit status is the signal's");

    char log[400], resolved[400];
    snprintf(log, sizeof log, "%s/node0.log", c.dir);
    const char *text = slurp(log);
    char sender[64];
    snprintf(sender, sizeof sender, "fatal SIGSEGV (11) sent by process %d;", (int)getpid());
    const char *crash = strstr(text, "ERROR NODE-CRASH");
    cr_assert_not_null(crash, "no NODE-CRASH line:\n%s", text);
    cr_assert_not_null(strstr(crash, sender), "the line names the signal and its sender");
    /* The event loop's frames, named (exported) or as offsets. */
    cr_assert_geq(count_of(crash, HANSA_BIN_DIR "/hansad("), 3, "frames of hansad:\n%s", crash);
    cr_assert_not_null(strstr(crash, "cshell_run"), "the event loop's frame:\n%s", crash);

    snprintf(resolved, sizeof resolved, "%s/stack.txt", c.dir);
    cr_assert(proc_crash_stack(log, HANSA_BIN_DIR "/hansad", resolved));
    const char *stack = slurp(resolved);
    cr_assert_not_null(strstr(stack, "cshell_run at "), "the loop's frame resolved:\n%s", stack);
    cr_assert_not_null(strstr(stack, "cshell.c:"), "to a source line:\n%s", stack);
    cr_assert_not_null(strstr(stack, "main.c:"), "main's frame resolved:\n%s", stack);

    cluster_start(&c, 0);
    cr_assert(cluster_wait_ready(&c, 0, 30000), "the validator did not restart");
    cr_assert_geq(cluster_height(&c, 0), h, "the chain went back after the crash");
    cr_assert_eq(cluster_submit(&c, 0, 2, 20000), 2, "it does not serve after the restart");
}

Test(crash, an_abort_is_reported_with_its_sender_and_a_clean_stop_is_not_a_crash)
{
    cr_assert_eq(crash_main_thread(0, SIGABRT), 128 + SIGABRT);
    char log[400];
    snprintf(log, sizeof log, "%s/node0.log", c.dir);
    const char *text = slurp(log);
    cr_assert_eq(count_of(text, "NODE-CRASH"), 1, "%s", text);
    cr_assert_not_null(strstr(text, "fatal SIGABRT (6) sent by process"), "%s", text);

    cluster_start(&c, 0);
    cr_assert(cluster_wait_ready(&c, 0, 30000));
    cluster_stop(&c, 0); /* SIGTERM: exit 0, asserted by cluster_stop */
    cr_assert_eq(count_of(slurp(log), "NODE-CRASH"), 1, "a clean stop logged a crash");
}
