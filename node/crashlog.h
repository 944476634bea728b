/*
 * A validator that dies of a fatal signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
 * SIGABRT) leaves a record in its log before it goes:
 *
 *   2026-11-26T15:33:47.812Z ERROR NODE-CRASH           node0 fatal SIGSEGV (11) at address 0x18;
 * hansad loaded at 0x55d0c09f0000; the stack of the thread it hit follows ...
 *   build/bin/hansad(peers_next+0x4c)[0x55d0c0a1b2cc]
 *   build/bin/hansad(+0x3f1a2)[0x55d0c0a3f1a2]
 *   ...
 *
 * one NODE-CRASH line with hansad's load address, then the stack of the
 * thread the signal hit, one frame a line (glibc's backtrace_symbols_fd:
 * exported names or +0x offsets, and the absolute address in brackets;
 * `addr2line -f -e hansad ADDRESS-LOAD` turns a frame into a function and a
 * source line, which tests/support's proc_crash_stack does for a test).
 * Then the signal's default action runs: the exit status is still 128 + the
 * signal, and a core is written where the core limit allows one.
 *
 * Everything the handler does is async-signal-safe except backtrace(3),
 * which is safe once warmed up (crashlog_install calls it once). In builds
 * with AddressSanitizer or ThreadSanitizer nothing is installed: their own
 * reports say more.
 */
#ifndef HANSA_CRASHLOG_H
#define HANSA_CRASHLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Install the handlers for the whole process; lines carry node as prefix
 * (copied, at most 63 bytes). The calling thread also gets an alternate
 * signal stack, so that a stack overflow on it is reported too. */
void crashlog_install(const char *node);

/* One fatal signal: which, and a fault at addr or sent by process pid
 * (kill, abort); image_base is where hansad is loaded (0 if unknown), so
 * that a frame's address minus it is an offset addr2line resolves. */
struct crashlog_event {
    int sig;
    bool sent;
    uint64_t pid;
    uintptr_t addr;
    uintptr_t image_base;
};

/* The NODE-CRASH line (with its newline) for e at unix_ms, into out (at
 * most cap bytes, not NUL-terminated); returns its length. Pure, and safe
 * in a signal handler. */
size_t crashlog_format(char *out, size_t cap, int64_t unix_ms, const char *node,
                       const struct crashlog_event *e);

#endif
