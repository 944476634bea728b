/*
 * Listening and dialing addresses of config.ini: "tls+tcp://host:port" and
 * "tcp://host:port", checked strictly before nng sees them, so a typo is a
 * config error with a line number rather than a failed listen at start.
 */
#include <ctype.h>
#include <string.h>

#include "config.h"
#include "fileio.h"
#include "hansa/assert.h"

/* ---- URLs ---------------------------------------------------------------------------------- */

static bool host_valid(const char *h, size_t n, bool bracketed)
{
    if (n == 0 || n > 253)
        return false;
    if (!bracketed && n == 1 && h[0] == '*')
        return true;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)h[i];
        bool ok = bracketed ? (isxdigit(ch) || ch == ':' || ch == '.')
                            : (isalnum(ch) || ch == '.' || ch == '-');
        if (!ok)
            return false;
    }
    return true;
}

static bool port_parse(const char *s, uint16_t *port)
{
    size_t n = strlen(s);
    if (n == 0 || n > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

hansa_err node_url_parse(const char *url, struct node_url *u, char *why, size_t why_len)
{
    HANSA_ASSERT(url != NULL && u != NULL);
    memset(u, 0, sizeof *u);
    if (strlen(url) >= sizeof u->url) {
        config_why(why, why_len, "URL longer than %u characters", NODE_CONFIG_URL_BYTES_MAX - 1);
        return HANSA_EINVAL;
    }
    const char *rest;
    if (strncmp(url, "tls+tcp://", 10) == 0) {
        u->tls = true;
        rest = url + 10;
    } else if (strncmp(url, "tcp://", 6) == 0) {
        rest = url + 6;
    } else {
        config_why(why, why_len, "\"%s\" must start with tls+tcp:// or tcp://", url);
        return HANSA_EINVAL;
    }
    const char *host = rest, *colon;
    size_t host_len;
    bool bracketed = rest[0] == '[';
    if (bracketed) {
        const char *close = strchr(rest, ']');
        host = rest + 1;
        host_len = close ? (size_t)(close - host) : 0;
        colon = close ? close + 1 : NULL;
        if (colon != NULL && *colon != ':')
            colon = NULL;
    } else {
        colon = strrchr(rest, ':');
        host_len = colon ? (size_t)(colon - rest) : 0;
        if (colon != NULL && memchr(rest, ':', host_len) != NULL)
            colon = NULL; /* IPv6 needs brackets */
    }
    if (colon == NULL || !host_valid(host, host_len, bracketed)) {
        config_why(why, why_len,
                   "\"%s\" is not scheme://host:port (host: a name, an IPv4 address, * or "
                   "[IPv6])",
                   url);
        return HANSA_EINVAL;
    }
    if (!port_parse(colon + 1, &u->port)) {
        config_why(why, why_len, "\"%s\": port \"%s\" is not a number in 1..65535", url, colon + 1);
        return HANSA_EINVAL;
    }
    memcpy(u->host, host, host_len);
    u->host[host_len] = '\0';
    strcpy(u->url, url);
    return HANSA_OK;
}

bool node_url_is_loopback(const struct node_url *u)
{
    if (strcmp(u->host, "localhost") == 0 || strcmp(u->host, "::1") == 0)
        return true;
    if (strncmp(u->host, "127.", 4) != 0)
        return false;
    int dots = 0;
    for (const char *p = u->host; *p; p++) {
        if (*p == '.')
            dots++;
        else if (*p < '0' || *p > '9')
            return false;
    }
    return dots == 3;
}

bool node_url_is_wildcard(const struct node_url *u)
{
    return strcmp(u->host, "*") == 0 || strcmp(u->host, "0.0.0.0") == 0 ||
           strcmp(u->host, "::") == 0;
}
