/*
 * Real processes for cluster tests: spawn hansad with its output in a log
 * file, signal it, wait for it with a deadline, find free loopback ports,
 * and wait for conditions (never for fixed times).
 */
#ifndef HANSA_TEST_PROC_H
#define HANSA_TEST_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct proc {
    pid_t pid;
    char log_path[1024];
};

/* Start argv[0] (a path) with stdout and stderr appended to log_path.
 * Returns 0 or -1. */
int proc_spawn(struct proc *p, char *const argv[], const char *log_path);
/* Run argv to completion (output to log_path); its exit status, or -1. */
int proc_run(char *const argv[], const char *log_path, uint32_t timeout_ms);
void proc_signal(struct proc *p, int sig);
/* Exit status (or 128+signal) once it ended within timeout_ms, else -1. */
int proc_wait(struct proc *p, uint32_t timeout_ms);

/* True (with its exit status, or 128+signal) once p has ended; reaps it. */
bool proc_exited(struct proc *p, int *status);

/* A base port P such that P..P+span-1 are free on 127.0.0.1 right now,
 * below the kernel's ephemeral port range. */
int proc_free_port_base(int span);

/* If log_path holds a NODE-CRASH report (node/crashlog.h), write its frames
 * of bin resolved to functions and source lines (addr2line) to out_path, or
 * to stderr if out_path is NULL; true if there was a report. */
bool proc_crash_stack(const char *log_path, const char *bin, const char *out_path);

/* Poll cond every 20 ms until it holds or timeout_ms passes. */
bool proc_wait_until(bool (*cond)(void *arg), void *arg, uint32_t timeout_ms);

uint64_t proc_mono_ms(void);

#endif
