/*
 * cli_free_port SPAN: print a base port P such that P .. P+SPAN-1 are free
 * on 127.0.0.1 now and below the kernel's ephemeral range
 * (proc_free_port_base of tests/support/proc.c), for the shell-driven CLI
 * tests that start hansad themselves. Exit status 1 when there is none.
 */
#include <stdio.h>
#include <stdlib.h>

#include "proc.h"

int main(int argc, char **argv)
{
    int span = argc > 1 ? atoi(argv[1]) : 10;
    if (span < 1 || span > 1000) {
        fprintf(stderr, "usage: cli_free_port SPAN (1-1000)\n");
        return 2;
    }
    int base = proc_free_port_base(span);
    if (base < 0) {
        fprintf(stderr, "cli_free_port: no %d free ports below the ephemeral range\n", span);
        return 1;
    }
    printf("%d\n", base);
    return 0;
}
