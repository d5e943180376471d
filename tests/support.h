/* Helpers shared by the Criterion tests. */
#ifndef VSBOX_TESTS_SUPPORT_H
#define VSBOX_TESTS_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "viridian/model.h"

struct run_result {
    int status;      /* exit status, or 128+signal when killed by one */
    char *out;       /* captured stdout, NUL-terminated (free with run_result_free) */
    char *err;       /* captured stderr */
    long maxrss_kib; /* the child's peak resident memory */
};

/* Run the built vsbox binary with args (NULL-terminated, without argv[0]).
 * stdin_text may be NULL (stdin is /dev/null). */
struct run_result run_vsbox(const char *const *args, const char *stdin_text);
void run_result_free(struct run_result *r);

/* How run_vsbox_ex runs it, beyond run_vsbox. */
struct run_opts {
    const char *stdin_text;  /* NULL: /dev/null */
    const char *stdout_path; /* standard output opened here for writing (NULL: captured) */
    int interrupt_ms;        /* > 0: SIGINT this long after the start, as Ctrl-C would */
    const char *cwd;         /* run there (NULL: here) */
    bool stderr_tty;         /* standard error is a pseudo-terminal (captured all the same) */
};
struct run_result run_vsbox_ex(const char *const *args, const struct run_opts *o);

/* Path under the source tree, in a static buffer per call site (copy it if kept). */
const char *src_path(const char *rel);
/* A fresh temporary directory for this test (mkdtemp under $TMPDIR or /tmp). */
const char *test_tmpdir(void);
/* A whole file, NUL-terminated, in memory from malloc (free it); *len its size (may be
 * NULL). Aborts the test when it cannot be read. */
char *slurp_file(const char *path, size_t *len);
/* Write len bytes to path; aborts the test on failure. */
void write_file(const char *path, const void *data, size_t len);
/* Number of lines in s that contain needle. */
int count_lines_with(const char *s, const char *needle);

/* 64 KiB of guest RAM for the model's page writes and parameter reads, and the
 * vmem_ops over it (read-only when !writable). Zeroed by the caller. */
#define TEST_RAM 0x10000u
struct test_ram {
    uint8_t b[TEST_RAM];
};
struct vmem_ops test_ram_ops(struct test_ram *r, bool writable);

#endif
