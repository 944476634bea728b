/*
 * Node logging: one line per event, to stderr, with a stable id that
 * operators can grep and alert on (nng's NNG-CONN-FAIL style):
 *
 *   2026-11-26T05:12:03.123Z INFO  NODE-START node0 chain=hansa-local-1 height=0
 *
 * The id is UPPER-KEBAB, at most 24 characters, and never changes once
 * released; the message after it is free text. Thread-safe: each line is
 * written with one write(2). The pure core (ledger, consensus) never logs.
 */
#ifndef HANSA_LOG_H
#define HANSA_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below level are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);
/* "debug", "info", "warn", "error" -> level; -1 if unknown. */
int log_level_parse(const char *name);
/* A short prefix for every line (e.g. the node id); copied. */
void log_set_prefix(const char *prefix);

__attribute__((format(printf, 3, 4))) void log_write(enum log_level level, const char *id,
                                                     const char *fmt, ...);

#define log_debug(id, ...) log_write(LOG_DEBUG, id, __VA_ARGS__)
#define log_info(id, ...)  log_write(LOG_INFO, id, __VA_ARGS__)
#define log_warn(id, ...)  log_write(LOG_WARN, id, __VA_ARGS__)
#define log_error(id, ...) log_write(LOG_ERROR, id, __VA_ARGS__)

#endif
