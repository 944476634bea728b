/*
 * Read-audit log: see audit.h. Each line is built in a stack buffer and
 * handed to the kernel in one write(2) on an O_APPEND descriptor; POSIX
 * makes the seek-to-end and the write one atomic step for regular files.
 * Strings are JSON-escaped (quotes, backslashes and control characters);
 * ids are [A-Za-z0-9._-] and keys add '/', so escaping is a safeguard.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "hansa/assert.h"
#include "log.h"

struct audit {
    int fd;
    atomic_uint_fast64_t failures;
};

hansa_err audit_open(const char *path, struct audit **out, char *why, size_t why_len)
{
    HANSA_ASSERT(path != NULL && out != NULL);
    *out = NULL;
    if (path[0] == '\0') {
        snprintf(why, why_len, "no read-audit log path is configured");
        return HANSA_EINVAL;
    }
    struct audit *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(why, why_len, "out of memory");
        return HANSA_ENOMEM;
    }
    a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (a->fd < 0) {
        snprintf(why, why_len, "cannot open read-audit log %s: %s", path, strerror(errno));
        free(a);
        return HANSA_EIO;
    }
    atomic_init(&a->failures, 0);
    *out = a;
    return HANSA_OK;
}

void audit_close(struct audit *a)
{
    if (a == NULL)
        return;
    if (a->fd >= 0)
        close(a->fd);
    free(a);
}

/* Append s as a JSON string body to buf[*n..cap), leaving room for tail
 * bytes; cut with "..." when it does not fit. */
static void put_escaped(char *buf, size_t *n, size_t cap, const char *s, size_t tail)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[7];
        size_t k = 0;
        if (ch == '"' || ch == '\\') {
            esc[k++] = '\\';
            esc[k++] = (char)ch;
        } else if (ch < 0x20) {
            memcpy(esc, "\\u00", 4);
            k = 4;
            esc[k++] = hex[ch >> 4];
            esc[k++] = hex[ch & 15];
        } else {
            esc[k++] = (char)ch;
        }
        if (*n + k + 3 + tail > cap) {
            memcpy(buf + *n, "...", 3);
            *n += 3;
            return;
        }
        memcpy(buf + *n, esc, k);
        *n += k;
    }
}

static void put_raw(char *buf, size_t *n, size_t cap, const char *s)
{
    size_t k = strlen(s);
    HANSA_ASSERT(*n + k <= cap);
    memcpy(buf + *n, s, k);
    *n += k;
}

void audit_record(struct audit *a, uint64_t time_ms, const char *reader, const char *record,
                  bool allowed)
{
    HANSA_ASSERT(a != NULL && reader != NULL && record != NULL);
    char line[AUDIT_LINE_BYTES_MAX];
    /* The fixed parts after each string: the rest of the line must fit. */
    static const char *const tail_record = "\",\"allowed\":false}\n";
    size_t tail = strlen(tail_record);
    int head =
        snprintf(line, sizeof line, "{\"time_ms\":%llu,\"reader\":\"", (unsigned long long)time_ms);
    HANSA_ASSERT(head > 0 && (size_t)head < sizeof line);
    size_t n = (size_t)head;
    put_escaped(line, &n, sizeof line / 2, reader, tail);
    put_raw(line, &n, sizeof line, "\",\"record\":\"");
    put_escaped(line, &n, sizeof line, record, tail);
    put_raw(line, &n, sizeof line, allowed ? "\",\"allowed\":true}\n" : tail_record);

    ssize_t w = write(a->fd, line, n);
    if (w != (ssize_t)n) {
        atomic_fetch_add(&a->failures, 1);
        log_warn("API-AUDIT-WRITE", "read-audit line for %s on %s not written: %s", reader, record,
                 w < 0 ? strerror(errno) : "short write");
    }
}

uint64_t audit_failures(const struct audit *a)
{
    return a == NULL ? 0 : (uint64_t)atomic_load(&((struct audit *)a)->failures);
}
