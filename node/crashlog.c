/* See crashlog.h. */
#define _GNU_SOURCE /* sigaltstack, SA_ONSTACK, dladdr */
#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crashlog.h"
#include "hansa/civil.h"

/* Under AddressSanitizer or ThreadSanitizer nothing is installed. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CRASHLOG_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CRASHLOG_SANITIZED 1
#endif
#endif

#define CRASHLOG_FRAMES_MAX 64
#define CRASHLOG_ALTSTACK   (64 * 1024)

static size_t put_str(char *out, size_t at, size_t cap, const char *s)
{
    while (*s != '\0' && at < cap)
        out[at++] = *s++;
    return at;
}

/* v in decimal, zero-padded to width digits (0: as many as it needs). */
static size_t put_dec(char *out, size_t at, size_t cap, uint64_t v, int width)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && n < (int)sizeof digits);
    while (n < width && n < (int)sizeof digits)
        digits[n++] = '0';
    while (n > 0 && at < cap)
        out[at++] = digits[--n];
    return at;
}

static size_t put_hex(char *out, size_t at, size_t cap, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    at = put_str(out, at, cap, "0x");
    int shift = 60;
    while (shift > 0 && (v >> shift) == 0)
        shift -= 4;
    for (; shift >= 0 && at < cap; shift -= 4)
        out[at++] = hex[(v >> shift) & 0xfu];
    return at;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGILL:
        return "SIGILL";
    case SIGFPE:
        return "SIGFPE";
    case SIGABRT:
        return "SIGABRT";
    default:
        return "signal";
    }
}

size_t crashlog_format(char *out, size_t cap, int64_t unix_ms, const char *node,
                       const struct crashlog_event *e)
{
    int sig = e->sig;
    int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
    int64_t days = hansa_days_of_second(secs);
    int64_t in_day = secs - days * 86400;
    int64_t y;
    unsigned mo, d;
    hansa_civil_from_days(days, &y, &mo, &d); /* no library call: safe here */
    size_t at = 0;
    at = put_dec(out, at, cap, (uint64_t)(y < 0 ? 0 : y), 4);
    at = put_str(out, at, cap, "-");
    at = put_dec(out, at, cap, mo, 2);
    at = put_str(out, at, cap, "-");
    at = put_dec(out, at, cap, d, 2);
    at = put_str(out, at, cap, "T");
    at = put_dec(out, at, cap, (uint64_t)(in_day / 3600), 2);
    at = put_str(out, at, cap, ":");
    at = put_dec(out, at, cap, (uint64_t)(in_day / 60 % 60), 2);
    at = put_str(out, at, cap, ":");
    at = put_dec(out, at, cap, (uint64_t)(in_day % 60), 2);
    at = put_str(out, at, cap, ".");
    at = put_dec(out, at, cap, (uint64_t)(unix_ms - secs * 1000), 3);
    /* The columns of log.c's lines: level, then the id padded to 20. */
    at = put_str(out, at, cap, "Z ERROR NODE-CRASH           ");
    if (node != NULL && node[0] != '\0') {
        at = put_str(out, at, cap, node);
        at = put_str(out, at, cap, " ");
    }
    at = put_str(out, at, cap, "fatal ");
    at = put_str(out, at, cap, signal_name(sig));
    at = put_str(out, at, cap, " (");
    at = put_dec(out, at, cap, (uint64_t)sig, 0);
    at = put_str(out, at, cap, ")");
    if (e->sent) {
        at = put_str(out, at, cap, " sent by process ");
        at = put_dec(out, at, cap, e->pid, 0);
    } else if (sig != SIGABRT) {
        at = put_str(out, at, cap, " at address ");
        at = put_hex(out, at, cap, e->addr);
    }
    if (e->image_base != 0) {
        at = put_str(out, at, cap, "; hansad loaded at ");
        at = put_hex(out, at, cap, e->image_base);
    }
    at = put_str(out, at, cap,
                 "; the stack of the thread it hit follows (addr2line -f -e hansad "
                 "ADDRESS-LOAD gives a frame's source line)\n");
    return at;
}

#ifndef CRASHLOG_SANITIZED
static char prefix[64];
static uintptr_t image_base; /* where hansad is loaded (PIE) */
static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

static void on_fatal(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* si_code <= 0: kill(2), tgkill(2), raise(3) or abort(3), not a fault;
     * si_pid is then the sender. */
    struct crashlog_event e = {
        .sig = sig, .sent = info != NULL && info->si_code <= 0, .image_base = image_base};
    if (info != NULL && e.sent)
        e.pid = (uint64_t)info->si_pid;
    else if (info != NULL)
        e.addr = (uintptr_t)info->si_addr;
    char line[512];
    size_t n = crashlog_format(line, sizeof line, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
                               prefix, &e);
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
    void *frames[CRASHLOG_FRAMES_MAX];
    int depth = backtrace(frames, CRASHLOG_FRAMES_MAX);
    backtrace_symbols_fd(frames, depth, STDERR_FILENO);
    /* The default action now: exit status 128 + sig, and a core where the
     * limit allows one. The handler was reset on entry (SA_RESETHAND). */
    signal(sig, SIG_DFL);
    raise(sig);
}
#endif

void crashlog_install(const char *node)
{
#ifdef CRASHLOG_SANITIZED
    (void)node; /* the sanitizer's own report is better */
#else
    size_t i = 0;
    for (; node != NULL && node[i] != '\0' && i < sizeof prefix - 1; i++)
        prefix[i] = node[i];
    prefix[i] = '\0';
    Dl_info self;
    if (dladdr((void *)crashlog_install, &self) != 0)
        image_base = (uintptr_t)self.dli_fbase;
    /* backtrace() loads libgcc on its first call, which allocates: do that
     * now, not in the handler. */
    void *warm[1];
    (void)backtrace(warm, 1);
    /* A stack overflow leaves no stack to run the handler on: give this
     * thread (the event loop's) another one. */
    static stack_t alt;
    if (alt.ss_sp == NULL && (alt.ss_sp = malloc(CRASHLOG_ALTSTACK)) != NULL) {
        alt.ss_size = CRASHLOG_ALTSTACK;
        alt.ss_flags = 0;
        if (sigaltstack(&alt, NULL) != 0) {
            free(alt.ss_sp);
            alt.ss_sp = NULL;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t k = 0; k < sizeof fatal_signals / sizeof fatal_signals[0]; k++)
        sigaction(fatal_signals[k], &sa, NULL);
#endif
}
