/* The node's control socket; see control.h. */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include "control.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hansa/assert.h"
#include "log.h"
#include "store.h"

/* How often the accept loop looks at the stop flag. */
#define CONTROL_POLL_MS 200

struct control {
    struct store *store;
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    pthread_t thread;
    _Atomic bool stop;
};

static hansa_err socket_path(const char *home, struct sockaddr_un *sa, char *why, size_t why_len)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    int n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", home, CONTROL_SOCKET_NAME);
    if (n < 0 || (size_t)n >= sizeof sa->sun_path) {
        snprintf(why, why_len,
                 "the control socket path %s/%s is longer than the %zu bytes a Unix socket "
                 "allows; use a shorter home directory",
                 home, CONTROL_SOCKET_NAME, sizeof sa->sun_path - 1);
        return HANSA_EINVAL;
    }
    return HANSA_OK;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Read up to the first newline within deadline; false on timeout, EOF
 * first, or a line that does not fit. */
static bool read_line(int fd, char *buf, size_t cap, uint64_t deadline)
{
    size_t n = 0;
    while (n + 1 < cap) {
        uint64_t now = mono_ms();
        if (now >= deadline)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)(deadline - now));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return false;
        ssize_t got = read(fd, buf + n, cap - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        char *nl = memchr(buf + n, '\n', (size_t)got);
        n += (size_t)got;
        if (nl != NULL) {
            *nl = '\0';
            return true;
        }
    }
    return false;
}

static void write_all(int fd, const char *s)
{
    size_t len = strlen(s);
    while (len > 0) {
        ssize_t w = send(fd, s, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the client left: nothing to tell */
        s += w;
        len -= (size_t)w;
    }
}

static void answer_backup(struct control *c, const char *dir, char *ans, size_t ans_len)
{
    if (dir[0] != '/') {
        snprintf(ans, ans_len, "error the backup directory must be an absolute path: %s", dir);
        return;
    }
    char why[512] = "";
    log_info("CONTROL-BACKUP", "writing a checkpoint of the running node to %s", dir);
    hansa_err rv = store_backup(c->store, dir, why, sizeof why);
    if (rv != HANSA_OK) {
        log_warn("CONTROL-BACKUP-FAIL", "%s", why[0] ? why : hansa_strerror(rv));
        snprintf(ans, ans_len, "error %s", why[0] ? why : hansa_strerror(rv));
        return;
    }
    /* The checkpoint holds at least this height: verified by opening it. */
    struct store *b = NULL;
    uint64_t h = 0;
    if (store_open_readonly(dir, &b, why, sizeof why) == HANSA_OK)
        h = store_height(b);
    store_close(b);
    log_info("CONTROL-BACKUP-DONE", "checkpoint at height %" PRIu64 " in %s", h, dir);
    snprintf(ans, ans_len, "ok %" PRIu64, h);
}

static void serve(struct control *c, int fd)
{
    struct ucred cred = {.uid = (uid_t)-1};
    socklen_t cl = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
        (cred.uid != geteuid() && cred.uid != 0)) {
        log_warn("CONTROL-REFUSED", "a process of another user (uid %ld) was refused",
                 (long)cred.uid);
        write_all(fd, "error not the node's user\n");
        return;
    }
    char req[CONTROL_REQUEST_BYTES_MAX];
    char ans[CONTROL_REQUEST_BYTES_MAX + 600];
    if (!read_line(fd, req, sizeof req, mono_ms() + CONTROL_IO_TIMEOUT_MS)) {
        write_all(fd, "error no request line within the time or size limit\n");
        return;
    }
    if (strncmp(req, "backup ", 7) == 0)
        answer_backup(c, req + 7, ans, sizeof ans - 1);
    else
        snprintf(ans, sizeof ans - 1, "error unknown command (known: backup <absolute dir>)");
    strcat(ans, "\n");
    write_all(fd, ans);
}

static void *control_main(void *arg)
{
    struct control *c = arg;
    while (!atomic_load(&c->stop)) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, CONTROL_POLL_MS) <= 0)
            continue;
        int fd = accept(c->fd, NULL, NULL);
        if (fd < 0)
            continue;
        serve(c, fd);
        close(fd);
    }
    return NULL;
}

hansa_err control_open(const char *home, struct store *s, struct control **out, char *why,
                       size_t why_len)
{
    HANSA_ASSERT(home != NULL && s != NULL && out != NULL);
    struct sockaddr_un sa;
    hansa_err rv = socket_path(home, &sa, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    struct control *c = calloc(1, sizeof *c);
    if (c == NULL)
        return HANSA_ENOMEM;
    c->store = s;
    memcpy(c->path, sa.sun_path, sizeof c->path);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    (void)unlink(c->path); /* a socket file left by a killed node */
    mode_t old = umask(0177);
    bool bound = c->fd >= 0 && bind(c->fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    umask(old);
    if (!bound || chmod(c->path, 0600) != 0 || listen(c->fd, 4) != 0) {
        snprintf(why, why_len, "cannot listen on the control socket %s: %s", c->path,
                 strerror(errno));
        if (c->fd >= 0)
            close(c->fd);
        free(c);
        return HANSA_EIO;
    }
    atomic_init(&c->stop, false);
    if (pthread_create(&c->thread, NULL, control_main, c) != 0) {
        snprintf(why, why_len, "cannot start the control thread");
        close(c->fd);
        (void)unlink(c->path);
        free(c);
        return HANSA_ENOMEM;
    }
    *out = c;
    return HANSA_OK;
}

void control_close(struct control *c)
{
    if (c == NULL)
        return;
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL);
    close(c->fd);
    (void)unlink(c->path);
    free(c);
}

hansa_err control_call(const char *home, const char *request, char *answer, size_t answer_len,
                       uint32_t timeout_ms, char *why, size_t why_len)
{
    struct sockaddr_un sa;
    hansa_err rv = socket_path(home, &sa, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, why_len, "socket: %s", strerror(errno));
        return HANSA_EIO;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        snprintf(why, why_len, "no node answers on %s: %s", sa.sun_path, strerror(e));
        return e == ENOENT || e == ECONNREFUSED ? HANSA_ENOENT : HANSA_EIO;
    }
    char line[CONTROL_REQUEST_BYTES_MAX + 2];
    int n = snprintf(line, sizeof line, "%s\n", request);
    if (n < 0 || (size_t)n >= sizeof line) {
        close(fd);
        snprintf(why, why_len, "the request is longer than %u bytes", CONTROL_REQUEST_BYTES_MAX);
        return HANSA_ETOOLARGE;
    }
    write_all(fd, line);
    bool ok = read_line(fd, answer, answer_len, mono_ms() + timeout_ms);
    close(fd);
    if (!ok) {
        snprintf(why, why_len, "the node at %s did not answer within %u ms", home, timeout_ms);
        return HANSA_ETIMEDOUT;
    }
    return HANSA_OK;
}
