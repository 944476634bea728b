/*
 * store_crash_writer: a separate process for the store tests that must be
 * killed or must hold the database from outside the test process.
 *
 *   store_crash_writer commit DIR SELF_KILL
 *       Open DIR, commit the test blocks of blocks.h from the next height
 *       on, and after each commit write the height (8 bytes, host order)
 *       to stdout. Raise SIGKILL after block SELF_KILL (0: never; the test
 *       kills it), or after RUNWAY_BLOCKS blocks at the latest.
 *   store_crash_writer hold DIR
 *       Open DIR (committing genesis if there is none), write one byte to
 *       stdout, wait for end of file on stdin, close, exit 0.
 *
 * The tests exec this program instead of forking themselves: a fork of a
 * process that has used RocksDB inherits its background thread pool
 * without the threads (and possibly a held lock), which can hang the
 * child. Exit codes: 2 usage, 3 open, 4 commit, 5 pipe.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blocks.h"

#define RUNWAY_BLOCKS 2000u

static struct store *open_or_exit(const char *dir)
{
    struct store *s = NULL;
    char why[512] = "";
    hansa_err rv = store_open(dir, &s, why, sizeof why);
    if (rv != HANSA_OK) {
        fprintf(stderr, "store_crash_writer: %s: %s\n", hansa_errname(rv), why);
        exit(3);
    }
    return s;
}

static int commit_loop(const char *dir, uint64_t self_kill)
{
    struct store *s = open_or_exit(dir);
    uint64_t first = store_height(s) + 1;
    for (uint64_t b = first; b < first + RUNWAY_BLOCKS; b++) {
        hansa_err rv = tb_commit_block(s, b);
        if (rv != HANSA_OK) {
            fprintf(stderr, "store_crash_writer: block %llu: %s\n", (unsigned long long)b,
                    hansa_errname(rv));
            return 4;
        }
        if (write(STDOUT_FILENO, &b, sizeof b) != (ssize_t)sizeof b)
            return 5;
        if (b == self_kill)
            raise(SIGKILL);
    }
    raise(SIGKILL);
    return 0;
}

static int hold(const char *dir)
{
    struct store *s = open_or_exit(dir);
    if (store_height(s) == UINT64_MAX && tb_commit_genesis(s) != HANSA_OK)
        return 4;
    char byte = 1;
    if (write(STDOUT_FILENO, &byte, 1) != 1)
        return 5;
    while (read(STDIN_FILENO, &byte, 1) > 0)
        ;
    store_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "commit") == 0)
        return commit_loop(argv[2], strtoull(argv[3], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "hold") == 0)
        return hold(argv[2]);
    fprintf(stderr, "usage: store_crash_writer commit DIR SELF_KILL | hold DIR\n");
    return 2;
}
