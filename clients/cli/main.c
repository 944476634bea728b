/*
 * `hansa`: the command-line client of a Hansa network.
 *
 *   hansa [global options] <command> [<subcommand>] [options]
 *
 * main finds the command words (one or two: `status`, `order create`),
 * gathers the global options wherever they stand, parses the rest against
 * the command's options, and runs it. Help is printed for `--help` at any
 * level (`hansa --help`, `hansa order --help`, `hansa order create --help`)
 * and for `hansa help <command>`; it goes to stdout with exit status 0. A
 * command line that names no command prints the overview to stderr with
 * status 2, like any usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_cmd *const tables[] = {cli_cmds_chain, cli_cmds_trade, cli_cmds_credit,
                                               cli_cmds_alerts};
#define N_TABLES (sizeof tables / sizeof tables[0])

static const char overview_head[] =
    "usage: hansa [global options] <command> [options]\n"
    "\n"
    "The command-line client of a Hansa trade-finance network: record orders,\n"
    "payments and waybills, run credit lines and financing, read records, history,\n"
    "blocks and risk alerts. Every command explains itself with --help.\n"
    "\n"
    "Commands:\n";

static const char overview_tail[] =
    "\n"
    "Global options (before or after the command):\n"
    "  --node URL          the node's client API: tcp://127.0.0.1:26602 or\n"
    "                      tls+tcp://host:26601 (env HANSA_NODE)\n"
    "  --key FILE          party key file that signs writes and reads (env HANSA_KEY)\n"
    "  --ca FILE           consortium CA certificate, for tls+tcp:// (env HANSA_CA)\n"
    "  --server-name NAME  TLS name of the node's certificate (node0 on a testnet);\n"
    "                      required with tls+tcp:// (env HANSA_SERVER_NAME)\n"
    "  --timeout MS        per-request timeout, ms (default 10000)\n"
    "  --json              print JSON, one object per line, instead of text\n"
    "\n"
    "Example, against a network made by `hansad testnet --dir /tmp/hansa-net`:\n"
    "  export HANSA_NODE=tcp://127.0.0.1:26602\n"
    "  export HANSA_KEY=/tmp/hansa-net/parties/MER-SZ-0001.key\n"
    "  hansa status\n"
    "  hansa order get --order-no SO-1001\n"
    "\n";

static void overview(FILE *f)
{
    fputs(overview_head, f);
    for (size_t t = 0; t < N_TABLES; t++)
        for (const struct cli_cmd *c = tables[t]; c->group != NULL; c++) {
            char words[48];
            snprintf(words, sizeof words, "%s%s%s", c->group, c->name ? " " : "",
                     c->name ? c->name : "");
            fprintf(f, "  %-18s %s\n", words, c->summary);
        }
    fputs(overview_tail, f);
    fputs(cli_exit_help, f);
}

static bool group_exists(const char *group)
{
    for (size_t t = 0; t < N_TABLES; t++)
        for (const struct cli_cmd *c = tables[t]; c->group != NULL; c++)
            if (strcmp(c->group, group) == 0)
                return true;
    return false;
}

/* The command of group (and sub, for groups with subcommands); NULL when
 * there is none. *has_subs tells whether the group takes a subcommand. */
static const struct cli_cmd *find(const char *group, const char *sub, bool *has_subs)
{
    *has_subs = false;
    for (size_t t = 0; t < N_TABLES; t++)
        for (const struct cli_cmd *c = tables[t]; c->group != NULL; c++) {
            if (strcmp(c->group, group) != 0)
                continue;
            if (c->name == NULL)
                return c;
            *has_subs = true;
            if (sub != NULL && strcmp(c->name, sub) == 0)
                return c;
        }
    return NULL;
}

static void group_help(FILE *f, const char *group)
{
    fprintf(f, "usage: hansa %s <command> [options]\n\nCommands:\n", group);
    for (size_t t = 0; t < N_TABLES; t++)
        for (const struct cli_cmd *c = tables[t]; c->group != NULL; c++)
            if (strcmp(c->group, group) == 0 && c->name != NULL)
                fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\n'hansa %s <command> --help' explains each.\n", group);
}

/* Is argv[i] a global option that takes a value in the next word? */
static bool global_takes_value(const char *arg)
{
    if (strncmp(arg, "--", 2) != 0 || strchr(arg, '=') != NULL)
        return false;
    for (const struct cli_opt *o = cli_global_opts; o->name != NULL; o++)
        if (strcmp(arg + 2, o->name) == 0)
            return o->kind != CLI_OPT_FLAG;
    return false;
}

static bool is_global(const char *arg)
{
    if (strncmp(arg, "--", 2) != 0)
        return false;
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    for (const struct cli_opt *o = cli_global_opts; o->name != NULL; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return true;
    return false;
}

/* `hansa help [group [sub]]` */
static int help_cmd(struct cli *g, int n, char **words)
{
    if (n == 0) {
        overview(g->out);
        return CLI_EXIT_OK;
    }
    bool has_subs;
    const struct cli_cmd *c = find(words[0], n > 1 ? words[1] : NULL, &has_subs);
    if (c != NULL) {
        cli_print_help(g->out, c);
        return CLI_EXIT_OK;
    }
    if (has_subs && n == 1) {
        group_help(g->out, words[0]);
        return CLI_EXIT_OK;
    }
    return cli_usage(g, "no command '%s%s%s'", words[0], n > 1 ? " " : "", n > 1 ? words[1] : "");
}

static int run(struct cli *g, const struct cli_cmd *c, int argc, char **argv, char **globals,
               int n_globals)
{
    /* The command's own words first, then the global options that stood
     * before the command, so both are parsed with one option list. */
    char *all[CLI_ARGS_MAX];
    if (argc + n_globals > CLI_ARGS_MAX)
        return cli_usage(g, "too many arguments");
    memcpy(all, argv, (size_t)argc * sizeof *all);
    memcpy(all + argc, globals, (size_t)n_globals * sizeof *all);
    struct cli_args a;
    bool help = false;
    int rv = cli_parse(g, c, argc + n_globals, all, &a, &help);
    if (rv != CLI_EXIT_OK)
        return rv;
    if (help) {
        cli_print_help(g->out, c);
        return CLI_EXIT_OK;
    }
    rv = cli_globals(g, &a);
    if (rv != CLI_EXIT_OK)
        return rv;
    rv = c->run(g, &a);
    fflush(g->out);
    cli_disconnect(g);
    return rv;
}

int main(int argc, char **argv)
{
    struct cli g;
    memset(&g, 0, sizeof g);
    g.out = stdout;
    g.err = stderr;
    char *globals[CLI_ARGS_MAX];
    int n_globals = 0, i = 1;
    /* Global options before the command words. */
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            overview(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("hansa %s\n", HANSA_SDK_VERSION);
            return CLI_EXIT_OK;
        }
        if (!is_global(argv[i]))
            return cli_usage(&g, "unknown option %s before the command", argv[i]);
        bool value = global_takes_value(argv[i]);
        if (value && i + 1 >= argc)
            return cli_usage(&g, "%s needs a value", argv[i]);
        if (n_globals + 2 > CLI_ARGS_MAX)
            return cli_usage(&g, "too many options");
        globals[n_globals++] = argv[i++];
        if (value)
            globals[n_globals++] = argv[i++];
    }
    if (i >= argc) {
        overview(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *group = argv[i++];
    if (strcmp(group, "help") == 0)
        return help_cmd(&g, argc - i, argv + i);
    if (!group_exists(group))
        return cli_usage(&g, "no command '%s'", group);
    const char *sub = i < argc && argv[i][0] != '-' ? argv[i] : NULL;
    bool has_subs;
    const struct cli_cmd *c = find(group, sub, &has_subs);
    snprintf(g.cmd_name, sizeof g.cmd_name, "%s", group);
    if (c == NULL) {
        bool asked = i < argc && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0);
        if (asked || sub == NULL) {
            group_help(asked ? stdout : stderr, group);
            return asked ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        }
        return cli_usage(&g, "no command '%s %s'", group, sub);
    }
    if (c->name != NULL) {
        i++;
        snprintf(g.cmd_name, sizeof g.cmd_name, "%s %s", group, c->name);
    }
    g.cmd = c;
    return run(&g, c, argc - i, argv + i, globals, n_globals);
}
