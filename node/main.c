/*
 * hansad: the Hansa node.
 *
 *   hansad testnet --validators N --dir DIR [--base-port P] [--chain-id ID]
 *   hansad start --home DIR
 *   hansad backup --home DIR --out DIR
 *   hansad risk check FILE | risk default | risk rules
 *   hansad version
 *
 * Exit status: 0 success, 1 runtime failure, 2 usage error.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "crashlog.h"
#include "log.h"
#include "memtrim.h"
#include "node.h"
#include "risk.h"
#include "store.h"
#include "testnet.h"

#define EXIT_USAGE 2
/* How long `hansad backup` waits for a running node to write its checkpoint. */
#define BACKUP_WAIT_MS (30u * 60 * 1000)

static void usage(FILE *f)
{
    fprintf(f, "usage: hansad <command> [options]\n"
               "\n"
               "commands:\n"
               "  testnet --validators N --dir DIR [--base-port P] [--chain-id ID]\n"
               "          write keys, certificates, genesis and configs for N local validators\n"
               "  start --home DIR\n"
               "          run the node whose config.ini is in DIR, in the foreground;\n"
               "          stops cleanly on SIGTERM or SIGINT\n"
               "  backup --home DIR --out DIR\n"
               "          write a verified copy of a stopped node's database to a new directory\n"
               "  risk check FILE | risk default | risk rules\n"
               "          validate a risk ruleset; print the default ruleset; list the rules\n"
               "  version\n"
               "\n"
               "Run 'hansad <command> --help' for a command's options.\n");
}

/* The only thread that handles SIGTERM/SIGINT: it calls node_stop, which is
 * not async-signal-safe and so may not run in a signal handler. */
struct signal_waiter {
    sigset_t set;
    struct node *node;
};

static void *signal_thread(void *arg)
{
    struct signal_waiter *w = arg;
    int sig = 0;
    if (sigwait(&w->set, &sig) == 0) {
        log_info("NODE-SIGNAL", "received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        node_stop(w->node);
    }
    return NULL;
}

/* Shutdown watchdog. nng 1.5.2 can hang for good in nng_close (LIBNOTES
 * 1.9: #1543 and a close deadlock fixed only in 1.9.0); seen once here with
 * the validator links' pull socket. node_close closes the store before any
 * nng socket and every block commit is a synced batch, so once the close
 * has run this long nothing is lost by ending the process: say so and exit. */
#define NODE_CLOSE_TIMEOUT_S 15

static pthread_mutex_t close_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t close_cv = PTHREAD_COND_INITIALIZER;
static bool closed;

static void *close_watchdog(void *arg)
{
    (void)arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += NODE_CLOSE_TIMEOUT_S;
    pthread_mutex_lock(&close_mu);
    int rv = 0;
    while (!closed && rv != ETIMEDOUT)
        rv = pthread_cond_timedwait(&close_cv, &close_mu, &until);
    bool hung = !closed;
    pthread_mutex_unlock(&close_mu);
    if (hung) {
        log_warn("NODE-CLOSE-TIMEOUT",
                 "closing the network sockets did not finish in %d s (an nng 1.5.2 defect); "
                 "the store is closed and everything committed is on disk: exiting",
                 NODE_CLOSE_TIMEOUT_S);
        _exit(0);
    }
    return NULL;
}

static const char *flag_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "hansad: %s needs a value\n", argv[*i]);
        exit(EXIT_USAGE);
    }
    return argv[++*i];
}

static int cmd_start(int argc, char **argv)
{
    const char *home = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0)
            home = flag_value(argc, argv, &i);
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: hansad start --home DIR\n\n"
                   "Runs the node configured by DIR/config.ini in the foreground (written by\n"
                   "'hansad testnet'). Logs go to stderr, one line per event with a stable id.\n"
                   "SIGTERM or SIGINT stop it cleanly; a SIGKILL loses nothing committed.\n");
            return 0;
        } else {
            fprintf(stderr, "hansad start: unknown option %s (see --help)\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (home == NULL) {
        fprintf(stderr, "hansad start: --home DIR is required (see --help)\n");
        return EXIT_USAGE;
    }
    static struct node_config cfg; /* ~40 KiB: not on the stack */
    char why[512] = "";
    memtrim_configure(); /* before any other thread starts */
    hansa_err rv = wire_global_init();
    if (rv == HANSA_OK)
        rv = node_config_load(home, &cfg, why, sizeof why);
    if (rv != HANSA_OK) {
        fprintf(stderr, "hansad: %s\n", why[0] ? why : hansa_strerror(rv));
        return 1;
    }
    log_set_level((enum log_level)log_level_parse(cfg.log_level));
    log_set_prefix(cfg.node_id);
    crashlog_install(cfg.node_id);

    /* Block the stop signals in every thread (nng's included) before any
     * thread starts; the signal thread collects them with sigwait. */
    struct signal_waiter w;
    sigemptyset(&w.set);
    sigaddset(&w.set, SIGTERM);
    sigaddset(&w.set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &w.set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct node *node = NULL;
    rv = node_open(&cfg, &node, why, sizeof why);
    if (rv != HANSA_OK) {
        log_error("NODE-OPEN-FAIL", "%s", why[0] ? why : hansa_strerror(rv));
        return 1;
    }
    w.node = node;
    pthread_t th;
    if (pthread_create(&th, NULL, signal_thread, &w) != 0) {
        log_error("NODE-OPEN-FAIL", "cannot start the signal thread");
        node_close(node);
        return 1;
    }
    rv = node_run(node);
    /* If the loop ended on its own, release the signal thread. */
    pthread_kill(th, SIGTERM);
    pthread_join(th, NULL);
    pthread_t dog;
    bool dog_started = pthread_create(&dog, NULL, close_watchdog, NULL) == 0;
    node_close(node);
    log_info("NODE-CLOSED", "sockets, threads and the store are closed");
    if (dog_started) {
        pthread_mutex_lock(&close_mu);
        closed = true;
        pthread_cond_signal(&close_cv);
        pthread_mutex_unlock(&close_mu);
        pthread_join(dog, NULL);
    }
    return rv == HANSA_OK ? 0 : 1;
}

static void risk_usage(FILE *f)
{
    fprintf(f, "usage: hansad risk check FILE    validate a ruleset (exit 0 if valid, 1 if not)\n"
               "       hansad risk default       print the default ruleset, every key documented\n"
               "       hansad risk rules         list the rules with their revisions\n"
               "\n"
               "A ruleset (RISK.md) enables rules and sets their severities, thresholds and\n"
               "lists. Every validator must run the same file: its SHA-256 is in every alert.\n");
}

/* hansad risk ...: ruleset tools that need no node. */
static int cmd_risk(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        risk_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[0], "default") == 0 && argc == 1) {
        fputs(risk_ruleset_default_text(), stdout);
        return 0;
    }
    if (strcmp(argv[0], "rules") == 0 && argc == 1) {
        for (size_t i = 0; i < risk_rule_count; i++)
            printf("%-18s rev %-3u %s\n", risk_rules[i]->id, (unsigned)risk_rules[i]->rev,
                   risk_rules[i]->summary);
        return 0;
    }
    if (strcmp(argv[0], "check") == 0 && argc == 2) {
        struct risk_ruleset *rs = malloc(sizeof *rs);
        if (rs == NULL) {
            fprintf(stderr, "hansad risk check: out of memory\n");
            return 1;
        }
        char why[512] = "";
        hansa_err rv = risk_ruleset_load(argv[1], rs, why, sizeof why);
        if (rv != HANSA_OK) {
            fprintf(stderr, "hansad risk check: %s\n", why[0] ? why : hansa_strerror(rv));
            free(rs);
            return 1;
        }
        char hex[2 * WIRE_HASH_BYTES + 1];
        wire_hex_encode(rs->hash, WIRE_HASH_BYTES, hex);
        size_t enabled = 0;
        for (size_t i = 0; i < risk_rule_count; i++)
            enabled += rs->enabled[i];
        printf("%s: valid ruleset \"%s\": %zu of %zu rules enabled, %zu listed jurisdictions "
               "(revision %s), %zu transit pairs\nsha256 %s\n",
               argv[1], rs->name, enabled, risk_rule_count, rs->n_jurisdictions,
               rs->jurisdictions_rev, rs->n_transit, hex);
        free(rs);
        return 0;
    }
    fprintf(stderr, "hansad risk: unknown or incomplete command (see hansad risk --help)\n");
    return EXIT_USAGE;
}

/* out as an absolute path (the running node resolves paths from its own
 * working directory). */
static bool absolute_path(const char *out, char *buf, size_t len)
{
    if (out[0] == '/')
        return (size_t)snprintf(buf, len, "%s", out) < len;
    char cwd[1024];
    if (getcwd(cwd, sizeof cwd) == NULL)
        return false;
    int n = snprintf(buf, len, "%s/%s", cwd, out);
    return n > 0 && (size_t)n < len;
}

/* Through a running node's control socket (control.h). */
static int backup_running(const char *home, const char *out)
{
    char abs[1024], req[1100], ans[8192], why[512] = "";
    if (!absolute_path(out, abs, sizeof abs)) {
        fprintf(stderr, "hansad backup: cannot make %s an absolute path\n", out);
        return 1;
    }
    snprintf(req, sizeof req, "backup %s", abs);
    hansa_err rv = control_call(home, req, ans, sizeof ans, BACKUP_WAIT_MS, why, sizeof why);
    if (rv != HANSA_OK) {
        fprintf(stderr,
                "hansad backup: the database is in use, and the node holding it does not "
                "answer on its control socket: %s\n",
                why);
        return 1;
    }
    if (strncmp(ans, "ok ", 3) != 0) {
        fprintf(stderr, "hansad backup: %s\n", strncmp(ans, "error ", 6) == 0 ? ans + 6 : ans);
        return 1;
    }
    printf("backup of the running node in %s at height %s written to %s\n", home, ans + 3, abs);
    return 0;
}

static int cmd_backup(int argc, char **argv)
{
    const char *home = NULL, *out = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--home") == 0)
            home = flag_value(argc, argv, &i);
        else if (strcmp(argv[i], "--out") == 0)
            out = flag_value(argc, argv, &i);
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: hansad backup --home DIR --out NEWDIR\n\n"
                   "Writes a consistent copy of the node's database (a RocksDB checkpoint:\n"
                   "hard links where possible) to NEWDIR, which must not exist, and verifies\n"
                   "it by opening it. A running node takes the checkpoint itself, asked\n"
                   "through DIR/" CONTROL_SOCKET_NAME " (only by its own user), and keeps\n"
                   "serving; a stopped node's database is opened here. Restore by copying\n"
                   "the backup to the node's data_dir while the node is stopped.\n");
            return 0;
        } else {
            fprintf(stderr, "hansad backup: unknown option %s (see --help)\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (home == NULL || out == NULL) {
        fprintf(stderr, "hansad backup: --home DIR and --out NEWDIR are required\n");
        return EXIT_USAGE;
    }
    static struct node_config cfg;
    char why[512] = "";
    hansa_err rv = node_config_load(home, &cfg, why, sizeof why);
    struct store *s = NULL;
    if (rv == HANSA_OK)
        rv = store_open(cfg.data_dir, &s, why, sizeof why);
    if (rv == HANSA_EBUSY)
        return backup_running(cfg.home, out);
    if (rv == HANSA_OK)
        rv = store_backup(s, out, why, sizeof why);
    uint64_t height = s ? store_height(s) : 0;
    store_close(s);
    if (rv != HANSA_OK) {
        fprintf(stderr, "hansad backup: %s\n", why[0] ? why : hansa_strerror(rv));
        return 1;
    }
    printf("backup of %s at height %llu written to %s\n", cfg.data_dir, (unsigned long long)height,
           out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "start") == 0)
        return cmd_start(argc - 2, argv + 2);
    if (strcmp(cmd, "testnet") == 0)
        return testnet_main(argc - 1, argv + 1);
    if (strcmp(cmd, "backup") == 0)
        return cmd_backup(argc - 2, argv + 2);
    if (strcmp(cmd, "risk") == 0)
        return cmd_risk(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("hansad 0.1.0\n");
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "hansad: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
