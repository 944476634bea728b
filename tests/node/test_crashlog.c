/*
 * crashlog: the NODE-CRASH line has log.c's layout (UTC timestamp, level,
 * padded id, node), names the signal and where it came from, and never
 * writes past its buffer. The handler itself (a real signal, the stack in
 * the log, the exit status) is tested on a running hansad in
 * tests/cluster/test_crash.c.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "crashlog.h"

static char line[512];

static const char *format(int64_t ms, const char *node, struct crashlog_event e)
{
    size_t n = crashlog_format(line, sizeof line - 1, ms, node, &e);
    cr_assert_lt(n, sizeof line);
    line[n] = '\0';
    return line;
}

Test(crashlog, a_fault_names_the_signal_and_the_address_in_the_log_layout)
{
    const char *l =
        format(1795707227812, "node0",
               (struct crashlog_event){.sig = SIGSEGV, .addr = 0x18, .image_base = 0x55d0c09f0000});
    const char *want = "2026-11-26T15:33:47.812Z ERROR NODE-CRASH           node0 fatal SIGSEGV "
                       "(11) at address 0x18; hansad loaded at 0x55d0c09f0000; ";
    cr_assert(strncmp(l, want, strlen(want)) == 0, "got: %s", l);
    cr_assert_eq(l[strlen(l) - 1], '\n');
    cr_assert_not_null(strstr(l, "addr2line"), "the line says how to resolve the frames");
}

Test(crashlog, a_sent_signal_names_the_sender_not_an_address)
{
    const char *l =
        format(0, "val-7", (struct crashlog_event){.sig = SIGABRT, .sent = true, .pid = 4242});
    const char *want = "1970-01-01T00:00:00.000Z ERROR NODE-CRASH           val-7 fatal SIGABRT "
                       "(6) sent by process 4242; ";
    cr_assert(strncmp(l, want, strlen(want)) == 0, "got: %s", l);
    cr_assert_null(strstr(l, "at address"));
    cr_assert_null(strstr(l, "loaded at"), "no load address when it is unknown");
}

Test(crashlog, dates_are_utc_across_leap_days_and_centuries)
{
    static const struct {
        int64_t ms;
        const char *stamp;
    } cases[] = {
        {1709251199999, "2024-02-29T23:59:59.999Z"},
        {951868800000, "2000-03-01T00:00:00.000Z"},
        {4133937600001, "2100-12-31T12:00:00.001Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *l = format(cases[i].ms, "n", (struct crashlog_event){.sig = SIGBUS});
        cr_assert(strncmp(l, cases[i].stamp, strlen(cases[i].stamp)) == 0, "%s: got %s",
                  cases[i].stamp, l);
    }
}

Test(crashlog, no_node_prefix_and_unknown_signals_still_make_a_line)
{
    const char *l = format(0, "", (struct crashlog_event){.sig = SIGFPE});
    cr_assert_not_null(strstr(l, "NODE-CRASH           fatal SIGFPE (8) at address 0x0;"), "%s", l);
    l = format(0, NULL, (struct crashlog_event){.sig = 64, .sent = true, .pid = 1});
    cr_assert_not_null(strstr(l, "fatal signal (64) sent by process 1;"), "%s", l);
}

Test(crashlog, a_short_buffer_is_filled_and_never_overrun)
{
    char buf[40];
    memset(buf, 'x', sizeof buf);
    struct crashlog_event e = {.sig = SIGSEGV, .addr = 0xdeadbeef};
    size_t n = crashlog_format(buf, 30, 1795707227812, "node0", &e);
    cr_assert_eq(n, 30);
    cr_assert(memcmp(buf, "2026-11-26T15:33:47.812Z ERROR", 30) == 0);
    for (size_t i = 30; i < sizeof buf; i++)
        cr_assert_eq(buf[i], 'x', "byte %zu written", i);
}
