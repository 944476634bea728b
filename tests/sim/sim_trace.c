/*
 * The event trace: one line per event, "time validator what fields", e.g.
 *
 *      1.234 v2 recv vote pc h3 r0 4f1a09cd from v1
 *
 * Every line is hashed (FNV-1a, 64 bits) into a running digest, so two runs
 * of one seed can be compared by one number; the last SIM_TRACE_TAIL lines
 * are kept for the failure report; with print set every line goes to stdout
 * as it happens. Lines are built only from the run's own values (no
 * pointers, no clock), so they are identical on every replay.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

void sim_trace_init(struct sim_trace *t, bool print)
{
    memset(t, 0, sizeof *t);
    t->hash = UINT64_C(0xcbf29ce484222325);
    t->print = print;
}

void sim_trace(struct sim_world *w, uint32_t node, const char *fmt, ...)
{
    struct sim_trace *t = &w->trace;
    char *line = t->tail[t->lines % SIM_TRACE_TAIL];
    int len;
    if (node == UINT32_MAX)
        len = snprintf(line, SIM_TRACE_LINE, "%7llu.%03llu -- ",
                       (unsigned long long)(w->now_ms / 1000),
                       (unsigned long long)(w->now_ms % 1000));
    else
        len = snprintf(line, SIM_TRACE_LINE, "%7llu.%03llu v%u ",
                       (unsigned long long)(w->now_ms / 1000),
                       (unsigned long long)(w->now_ms % 1000), node);
    va_list ap;
    va_start(ap, fmt);
    if (len > 0 && len < (int)SIM_TRACE_LINE)
        vsnprintf(line + len, SIM_TRACE_LINE - (size_t)len, fmt, ap);
    va_end(ap);
    for (const char *p = line; *p; p++) {
        t->hash ^= (uint8_t)*p;
        t->hash *= UINT64_C(0x100000001b3);
    }
    t->hash ^= '\n';
    t->hash *= UINT64_C(0x100000001b3);
    t->lines++;
    if (t->print)
        printf("%s\n", line);
}

unsigned sim_trace_tail(const struct sim_trace *t, char out[][SIM_TRACE_LINE])
{
    uint64_t n = t->lines < SIM_TRACE_TAIL ? t->lines : SIM_TRACE_TAIL;
    for (uint64_t i = 0; i < n; i++)
        memcpy(out[i], t->tail[(t->lines - n + i) % SIM_TRACE_TAIL], SIM_TRACE_LINE);
    return (unsigned)n;
}
