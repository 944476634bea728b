/* See proc.h. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

uint64_t proc_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int proc_spawn(struct proc *p, char *const argv[], const char *log_path)
{
    memset(p, 0, sizeof *p);
    strncpy(p->log_path, log_path, sizeof p->log_path - 1);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], argv);
        _exit(127);
    }
    p->pid = pid;
    return 0;
}

void proc_signal(struct proc *p, int sig)
{
    if (p->pid > 0)
        kill(p->pid, sig);
}

int proc_wait(struct proc *p, uint32_t timeout_ms)
{
    if (p->pid <= 0)
        return -1;
    uint64_t deadline = proc_mono_ms() + timeout_ms;
    for (;;) {
        int status = 0;
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (r < 0 || proc_mono_ms() >= deadline)
            return -1;
        sleep_ms(10);
    }
}

int proc_run(char *const argv[], const char *log_path, uint32_t timeout_ms)
{
    struct proc p;
    if (proc_spawn(&p, argv, log_path) != 0)
        return -1;
    int rv = proc_wait(&p, timeout_ms);
    if (rv < 0) {
        proc_signal(&p, SIGKILL);
        proc_wait(&p, 5000);
    }
    return rv;
}

static bool port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* The lowest port the kernel hands out for port-0 binds and outgoing
 * connections (/proc/sys/net/ipv4/ip_local_port_range; 32768 by default).
 * Ports chosen for nodes stay below it: a port in the ephemeral range can be
 * taken by any connection between the test choosing it and the node binding
 * it (a node restarted minutes later then fails with "Address in use"). */
static int ephemeral_low(void)
{
    int low = 32768, high = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f != NULL) {
        if (fscanf(f, "%d %d", &low, &high) != 2)
            low = 32768;
        fclose(f);
    }
    return low;
}

int proc_free_port_base(int span)
{
    const int lo = 12000;
    int hi = ephemeral_low();
    if (hi - lo < 4 * span)
        return -1;
    /* Start from a pid-dependent point so parallel test processes do not
     * race for the same range; wrap around once. */
    int slots = (hi - lo - span) / (span + 7);
    int first = (int)(getpid() % slots);
    for (int k = 0; k < slots; k++) {
        int base = lo + ((first + k) % slots) * (span + 7);
        bool all = true;
        for (int i = 0; i < span && all; i++)
            all = port_free(base + i);
        if (all)
            return base;
    }
    return -1;
}

bool proc_exited(struct proc *p, int *status)
{
    if (p->pid <= 0)
        return true;
    int st = 0;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r != p->pid)
        return false;
    p->pid = 0;
    if (status != NULL)
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return true;
}

bool proc_crash_stack(const char *log_path, const char *bin, const char *out_path)
{
    FILE *f = fopen(log_path, "r");
    if (f == NULL)
        return false;
    /* The frames of bin after the last NODE-CRASH line, as offsets into the
     * file: "bin(name+0x4c)[0x55d0c0a1b2cc]" is its absolute address minus
     * the load address the NODE-CRASH line gives, less one (a return
     * address points after its call). */
    static char line[4096];
    static char args[64 * 24];
    size_t used = 0, blen = strlen(bin);
    unsigned long long base = 0;
    bool crash = false;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strstr(line, "NODE-CRASH") != NULL) {
            crash = true;
            used = 0;
            args[0] = '\0';
            const char *at = strstr(line, "loaded at 0x");
            base = at != NULL ? strtoull(at + strlen("loaded at "), NULL, 16) : 0;
            continue;
        }
        const char *br = strrchr(line, '[');
        if (!crash || base == 0 || strncmp(line, bin, blen) != 0 || line[blen] != '(' || br == NULL)
            continue;
        unsigned long long abs = strtoull(br + 1, NULL, 16);
        if (abs <= base || used + 24 >= sizeof args)
            continue;
        used += (size_t)snprintf(args + used, sizeof args - used, " 0x%llx", abs - base - 1);
    }
    fclose(f);
    if (!crash)
        return false;
    FILE *out = out_path != NULL ? fopen(out_path, "w") : stderr;
    if (out == NULL)
        return true;
    if (out_path == NULL)
        fprintf(out, "---- crash stack of %s, resolved ----\n", bin);
    fflush(out);
    static char cmd[sizeof args + 2 * 1024 + 64];
    snprintf(cmd, sizeof cmd, "addr2line -f -i -p -e '%s'%s", bin, args);
    FILE *p = used > 0 ? popen(cmd, "r") : NULL;
    size_t frames = 0;
    while (p != NULL && fgets(line, sizeof line, p) != NULL) {
        fputs(line, out);
        frames++;
    }
    if (p == NULL || pclose(p) != 0 || frames == 0)
        fprintf(out, "(no frame of %s could be resolved; the raw frames are in %s)\n", bin,
                log_path);
    if (out_path == NULL)
        fprintf(out, "---- end of crash stack ----\n");
    else
        fclose(out);
    return true;
}

bool proc_wait_until(bool (*cond)(void *arg), void *arg, uint32_t timeout_ms)
{
    uint64_t deadline = proc_mono_ms() + timeout_ms;
    for (;;) {
        if (cond(arg))
            return true;
        if (proc_mono_ms() >= deadline)
            return false;
        sleep_ms(20);
    }
}
