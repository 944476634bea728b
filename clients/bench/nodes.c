/*
 * The benchmark's network: writes a testnet with `hansad testnet` on free
 * loopback ports below 32768, reads each node's config.ini (endpoints, CA,
 * chain id), starts the hansad processes that are not already answering,
 * and stops exactly the ones it started (SIGTERM, then SIGKILL after a
 * timeout). Nothing here is measured.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "bench.h"

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

/* A base port P with P + 10 i + {0..3} free for every node, P + 10 n < 32768. */
static int pick_base_port(int n)
{
    srand((unsigned)(time(NULL) ^ getpid()));
    for (int attempt = 0; attempt < 200; attempt++) {
        int base = 20000 + (rand() % ((32000 - 10 * n - 20000) / 10)) * 10;
        bool ok = true;
        for (int i = 0; i < n && ok; i++)
            for (int k = 0; k < 4 && ok; k++)
                ok = port_free(base + 10 * i + k);
        if (ok)
            return base;
    }
    return -1;
}

static int run_wait(char *const argv[], const char *log_path)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int bench_net_create(const char *hansad_path, const char *dir, int n)
{
    int base = pick_base_port(n);
    if (base < 0) {
        fprintf(stderr, "hansa-bench: no free ports for %d nodes below 32768\n", n);
        return -1;
    }
    char nbuf[16], pbuf[16], log[700];
    snprintf(nbuf, sizeof nbuf, "%d", n);
    snprintf(pbuf, sizeof pbuf, "%d", base);
    snprintf(log, sizeof log, "%s.testnet.log", dir);
    char *argv[] = {(char *)hansad_path, "testnet",     "--validators", nbuf, "--dir",
                    (char *)dir,         "--base-port", pbuf,           NULL};
    int rv = run_wait(argv, log);
    if (rv != 0) {
        fprintf(stderr, "hansa-bench: `hansad testnet` failed (%d); see %s\n", rv, log);
        return -1;
    }
    printf("testnet: %d validators in %s, ports %d..%d\n", n, dir, base, base + 10 * (n - 1) + 3);
    return 0;
}

static void trim(char *s)
{
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
        s[--len] = 0;
}

/* Resolve a config path relative to the config's directory. */
static void resolve(char *out, size_t out_len, const char *home, const char *value)
{
    if (value[0] == '/')
        snprintf(out, out_len, "%s", value);
    else
        snprintf(out, out_len, "%s/%s", home, value);
}

static int node_load(struct bench_net *net, struct bench_node *nd, const char *home)
{
    char path[700];
    snprintf(path, sizeof path, "%s/config.ini", home);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    snprintf(nd->home, sizeof nd->home, "%s", home);
    char line[1024], section[64] = "";
    while (fgets(line, sizeof line, f) != NULL) {
        trim(line);
        if (line[0] == '[') {
            snprintf(section, sizeof section, "%.*s", (int)strcspn(line + 1, "]"), line + 1);
            continue;
        }
        char *eq = strchr(line, '=');
        if (line[0] == '#' || line[0] == ';' || eq == NULL)
            continue;
        *eq = 0;
        char *key = line, *value = eq + 1;
        trim(key);
        while (*value == ' ')
            value++;
        if (strcmp(section, "node") == 0 && strcmp(key, "id") == 0)
            snprintf(nd->id, sizeof nd->id, "%s", value);
        else if (strcmp(section, "node") == 0 && strcmp(key, "chain_id") == 0)
            snprintf(net->chain_id, sizeof net->chain_id, "%s", value);
        else if (strcmp(section, "paths") == 0 && strcmp(key, "tls_ca") == 0)
            resolve(net->ca_path, sizeof net->ca_path, home, value);
        else if (strcmp(section, "api") == 0 && strcmp(key, "listen_tls") == 0)
            snprintf(nd->api_tls, sizeof nd->api_tls, "%s", value);
        else if (strcmp(section, "api") == 0 && strcmp(key, "listen_tcp") == 0)
            snprintf(nd->api_tcp, sizeof nd->api_tcp, "%s", value);
        else if (strcmp(section, "events") == 0 && strcmp(key, "listen") == 0)
            snprintf(nd->events, sizeof nd->events, "%s", value);
    }
    fclose(f);
    return nd->id[0] && nd->api_tls[0] && nd->events[0] ? 0 : -1;
}

int bench_net_load(const char *dir, struct bench_net *net)
{
    memset(net, 0, sizeof *net);
    snprintf(net->dir, sizeof net->dir, "%s", dir);
    for (int i = 0; i < BENCH_NODES_MAX; i++) {
        char home[600];
        snprintf(home, sizeof home, "%s/node%d", dir, i);
        struct stat st;
        if (stat(home, &st) != 0)
            break;
        if (node_load(net, &net->node[i], home) != 0) {
            fprintf(stderr, "hansa-bench: cannot read %s/config.ini\n", home);
            return -1;
        }
        net->n = i + 1;
    }
    if (net->n == 0 || net->chain_id[0] == 0 || net->ca_path[0] == 0) {
        fprintf(stderr, "hansa-bench: no testnet in %s\n", dir);
        return -1;
    }
    return 0;
}

static Hansa__Response *status_of(const char *url, uint32_t timeout_ms)
{
    nng_socket s;
    if (url[0] == 0 || nng_req0_open(&s) != 0)
        return NULL;
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, (nng_duration)timeout_ms);
    nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, (nng_duration)timeout_ms);
    Hansa__Response *resp = NULL;
    if (nng_dial(s, url, NULL, 0) == 0) {
        Hansa__StatusRequest sr = HANSA__STATUS_REQUEST__INIT;
        Hansa__Request r = HANSA__REQUEST__INIT;
        r.request_id = 1;
        r.kind_case = HANSA__REQUEST__KIND_STATUS;
        r.status = &sr;
        uint8_t buf[128];
        size_t len = hansa__request__pack(&r, buf);
        void *ans = NULL;
        size_t ans_len = 0;
        if (nng_send(s, buf, len, 0) == 0 && nng_recv(s, &ans, &ans_len, NNG_FLAG_ALLOC) == 0) {
            if (wire_response_decode(ans, ans_len, &resp) != HANSA_OK)
                resp = NULL;
            nng_free(ans, ans_len);
        }
    }
    bench_close(&s, 1);
    if (resp != NULL && resp->kind_case != HANSA__RESPONSE__KIND_STATUS) {
        wire_free(resp);
        resp = NULL;
    }
    return resp;
}

uint64_t bench_node_height(const struct bench_net *net, int i)
{
    Hansa__Response *r = status_of(net->node[i].api_tcp, 2000);
    uint64_t h = r ? r->status->latest_height : 0;
    if (r)
        wire_free(r);
    return h;
}

long bench_node_mempool(const struct bench_net *net, int i)
{
    Hansa__Response *r = status_of(net->node[i].api_tcp, 2000);
    long n = r ? (long)r->status->mempool_txs : -1;
    if (r)
        wire_free(r);
    return n;
}

static bool answers(const struct bench_node *nd)
{
    Hansa__Response *r = status_of(nd->api_tcp, 500);
    if (r)
        wire_free(r);
    return r != NULL;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int bench_net_start(const char *hansad_path, struct bench_net *net, uint32_t timeout_ms)
{
    for (int i = 0; i < net->n; i++) {
        struct bench_node *nd = &net->node[i];
        if (answers(nd))
            continue;
        char log[700];
        snprintf(log, sizeof log, "%s/node.log", nd->home);
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
            execl(hansad_path, hansad_path, "start", "--home", nd->home, (char *)NULL);
            _exit(127);
        }
        nd->pid = pid;
    }
    uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (int i = 0; i < net->n; i++) {
        while (!answers(&net->node[i])) {
            if (net->node[i].pid > 0 && waitpid(net->node[i].pid, NULL, WNOHANG) != 0) {
                fprintf(stderr, "hansa-bench: %s exited; see %s/node.log\n", net->node[i].id,
                        net->node[i].home);
                net->node[i].pid = 0;
                return -1;
            }
            if (bench_now_ns() > deadline) {
                fprintf(stderr, "hansa-bench: %s does not answer\n", net->node[i].id);
                return -1;
            }
            sleep_ms(100);
        }
    }
    return 0;
}

void bench_net_stop(struct bench_net *net, uint32_t timeout_ms)
{
    for (int i = 0; i < net->n; i++)
        if (net->node[i].pid > 0)
            kill(net->node[i].pid, SIGTERM);
    uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (int i = 0; i < net->n; i++) {
        struct bench_node *nd = &net->node[i];
        while (nd->pid > 0) {
            pid_t w = waitpid(nd->pid, NULL, WNOHANG);
            if (w == nd->pid || (w < 0 && errno == ECHILD)) {
                nd->pid = 0;
            } else if (bench_now_ns() > deadline) {
                kill(nd->pid, SIGKILL);
                waitpid(nd->pid, NULL, 0);
                nd->pid = 0;
            } else {
                sleep_ms(50);
            }
        }
    }
}

uint64_t bench_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    uint64_t kib = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %" SCNu64, &kib) == 1)
            break;
    fclose(f);
    return kib;
}

uint64_t bench_cpu_us(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which is in parentheses and may hold
     * spaces: state is field 3, utime 14 and stime 15 (proc(5)). */
    const char *p = strrchr(buf, ')');
    unsigned long long utime = 0, stime = 0;
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return 0;
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? (uint64_t)(utime + stime) * 1000000u / (uint64_t)hz : 0;
}
