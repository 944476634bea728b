/*
 * Command-line options: parsing one command's arguments against its option
 * list and the global options, the global options themselves (with their
 * environment fallbacks), and the text of --help.
 *
 * Syntax: long options only, "--name value" or "--name=value"; "--" ends
 * the options; -h is --help. Global options may stand anywhere, before or
 * after the command words. A command's value option given twice is a
 * usage error (which one was meant?), a global one counts the last time
 * it is given; list options (--item, --order, --rule ...)
 * collect every value in order. An alias is stored under its canonical
 * name, so commands look up one name only.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CLI_GLOBAL_OPTS 6

const struct cli_opt cli_global_opts[CLI_GLOBAL_OPTS + 1] = {
    {"node", CLI_OPT_VALUE, NULL},    {"key", CLI_OPT_VALUE, NULL},
    {"ca", CLI_OPT_VALUE, NULL},      {"server-name", CLI_OPT_VALUE, NULL},
    {"timeout", CLI_OPT_VALUE, NULL}, {"json", CLI_OPT_FLAG, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

const char cli_exit_help[] =
    "Exit status: 0 ok; 1 other failure; 2 usage error; 3 cannot connect, or no\n"
    "answer or commit within the timeout; 4 refused at admission; 5 committed with\n"
    "a business rejection (e.g. ASSET_ALREADY_PLEDGED); 6 not found, or not\n"
    "allowed to read.\n";

static const char global_help[] =
    "Global options (also before the command):\n"
    "  --node URL          the node's client API: tcp://127.0.0.1:26602 or\n"
    "                      tls+tcp://host:26601 (env HANSA_NODE)\n"
    "  --key FILE          party key file that signs writes and reads (env HANSA_KEY)\n"
    "  --ca FILE           consortium CA certificate, for tls+tcp:// (env HANSA_CA)\n"
    "  --server-name NAME  TLS name of the node's certificate (node0 on a testnet);\n"
    "                      required with tls+tcp:// (env HANSA_SERVER_NAME)\n"
    "  --timeout MS        per-request timeout, ms (default 10000)\n"
    "  --json              print JSON, one object per line, instead of text\n";

/* ---- looking options up ---- */

const char *cli_arg(const struct cli_args *a, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->names[i], name) == 0)
            v = a->values[i];
    return v;
}

bool cli_flag(const struct cli_args *a, const char *name)
{
    return cli_arg(a, name) != NULL;
}

size_t cli_arg_count(const struct cli_args *a, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        n += strcmp(a->names[i], name) == 0;
    return n;
}

const char *cli_arg_nth(const struct cli_args *a, const char *name, size_t k)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->names[i], name) == 0 && k-- == 0)
            return a->values[i];
    return NULL;
}

/* ---- parsing ---- */

static const struct cli_opt *find_in(const struct cli_opt *opts, const char *name, size_t len)
{
    for (; opts != NULL && opts->name != NULL; opts++)
        if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
            return opts;
    return NULL;
}

static const struct cli_opt *find_opt(const struct cli_cmd *cmd, const char *name, size_t len)
{
    const struct cli_opt *o = cmd != NULL ? find_in(cmd->opts, name, len) : NULL;
    return o != NULL ? o : find_in(cli_global_opts, name, len);
}

static int add(struct cli *g, struct cli_args *out, const struct cli_opt *o, const char *value)
{
    const char *name = o->alias_of != NULL ? o->alias_of : o->name;
    if (out->n == CLI_ARGS_MAX)
        return cli_usage(g, "too many options");
    /* A global option may be given again (the last one counts: a shell
     * alias may carry --node); a command's option twice is ambiguous. */
    bool global = o >= cli_global_opts && o < cli_global_opts + CLI_GLOBAL_OPTS;
    if (o->kind != CLI_OPT_LIST && !global && cli_arg(out, name) != NULL)
        return cli_usage(g, "--%s is given twice", name);
    out->names[out->n] = name;
    out->values[out->n] = value;
    out->n++;
    return CLI_EXIT_OK;
}

int cli_parse(struct cli *g, const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *out,
              bool *help)
{
    memset(out, 0, sizeof *out);
    *help = false;
    bool options = true;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (options && strcmp(s, "--") == 0) {
            options = false;
            continue;
        }
        if (options && (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)) {
            *help = true;
            continue;
        }
        if (options && s[0] == '-' && s[1] != '\0') {
            if (s[1] != '-')
                return cli_usage(g, "unknown option %s (options are long: --name value)", s);
            const char *name = s + 2, *eq = strchr(name, '=');
            size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
            const struct cli_opt *o = find_opt(cmd, name, len);
            if (o == NULL)
                return cli_usage(g, "unknown option --%.*s", (int)len, name);
            const char *value = "";
            if (o->kind == CLI_OPT_FLAG) {
                if (eq != NULL)
                    return cli_usage(g, "--%s takes no value", o->name);
            } else if (eq != NULL) {
                value = eq + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return cli_usage(g, "--%s needs a value", o->name);
            }
            int rv = add(g, out, o, value);
            if (rv != CLI_EXIT_OK)
                return rv;
            continue;
        }
        if (cmd == NULL || out->n_pos >= cmd->max_pos)
            return cli_usage(g, "unexpected argument '%s'", s);
        out->pos[out->n_pos++] = s;
    }
    return CLI_EXIT_OK;
}

/* ---- global options ---- */

static const char *opt_or_env(const struct cli_args *a, const char *name, const char *env)
{
    const char *v = cli_arg(a, name);
    if (v == NULL) {
        v = getenv(env);
        if (v != NULL && v[0] == '\0')
            v = NULL;
    }
    return v;
}

int cli_globals(struct cli *g, const struct cli_args *a)
{
    g->node = opt_or_env(a, "node", "HANSA_NODE");
    g->key = opt_or_env(a, "key", "HANSA_KEY");
    g->ca = opt_or_env(a, "ca", "HANSA_CA");
    g->server_name = opt_or_env(a, "server-name", "HANSA_SERVER_NAME");
    g->json = cli_flag(a, "json");
    const char *t = cli_arg(a, "timeout");
    if (t != NULL) {
        uint64_t ms;
        if (!cli_parse_u64(t, 3600000, &ms) || ms == 0)
            return cli_usage(g, "--timeout %s: expected milliseconds, 1-3600000", t);
        g->timeout_ms = (uint32_t)ms;
    }
    return CLI_EXIT_OK;
}

void cli_print_help(FILE *f, const struct cli_cmd *cmd)
{
    fprintf(f, "usage: %s\n\n%s\n%s\n%s", cmd->usage, cmd->help, global_help, cli_exit_help);
}
