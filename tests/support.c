/* posix_openpt (a pseudo-terminal for stderr_tty) and wait4 (the child's peak memory). */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include "tests/support.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *slurp_fd(int fd, size_t *len_out)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        abort();
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf)
                abort();
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

struct run_result run_vsbox(const char *const *args, const char *stdin_text)
{
    struct run_opts o = { .stdin_text = stdin_text };
    return run_vsbox_ex(args, &o);
}

struct run_result run_vsbox_ex(const char *const *args, const struct run_opts *o)
{
    struct run_result r = { .status = -1 };
    char outpath[] = "/tmp/vsbox-test-out-XXXXXX";
    char errpath[] = "/tmp/vsbox-test-err-XXXXXX";
    char inpath[] = "/tmp/vsbox-test-in-XXXXXX";
    int outfd = o->stdout_path ? open(o->stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)
                               : mkstemp(outpath);
    int errfd = mkstemp(errpath), infd = -1, master = -1, slave = -1;
    if (outfd < 0 || errfd < 0)
        abort();
    if (o->stdin_text) {
        infd = mkstemp(inpath);
        if (infd < 0 || write(infd, o->stdin_text, strlen(o->stdin_text)) < 0)
            abort();
        lseek(infd, 0, SEEK_SET);
    } else {
        infd = open("/dev/null", O_RDONLY);
    }
    if (o->stderr_tty) {
        master = posix_openpt(O_RDWR | O_NOCTTY);
        if (master < 0 || grantpt(master) || unlockpt(master) ||
            (slave = open(ptsname(master), O_RDWR | O_NOCTTY)) < 0)
            abort();
    }

    size_t n = 0;
    while (args[n])
        n++;
    const char **argv = calloc(n + 2, sizeof *argv);
    argv[0] = VSBOX_BINARY;
    memcpy(argv + 1, args, n * sizeof *argv);

    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(infd, 0);
        dup2(outfd, 1);
        dup2(slave >= 0 ? slave : errfd, 2);
        if (o->cwd && chdir(o->cwd) != 0)
            _exit(126);
        signal(SIGINT, SIG_DFL); /* a background test runner may ignore it */
        execv(VSBOX_BINARY, (char *const *)argv);
        _exit(127);
    }
    if (slave >= 0)
        close(slave);
    if (o->interrupt_ms > 0) {
        struct timespec ts = { o->interrupt_ms / 1000, (long)(o->interrupt_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        kill(pid, SIGINT);
    }
    char *tty = master >= 0 ? slurp_fd(master, NULL) : NULL; /* until the child's side closes */
    int st = 0;
    struct rusage ru = { 0 };
    wait4(pid, &st, 0, &ru);
    r.maxrss_kib = ru.ru_maxrss;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (o->stdout_path) {
        r.out = calloc(1, 1);
    } else {
        lseek(outfd, 0, SEEK_SET);
        r.out = slurp_fd(outfd, NULL);
        unlink(outpath);
    }
    lseek(errfd, 0, SEEK_SET);
    r.err = tty ? tty : slurp_fd(errfd, NULL);
    close(outfd);
    close(errfd);
    close(infd);
    if (master >= 0)
        close(master);
    unlink(errpath);
    if (o->stdin_text)
        unlink(inpath);
    free(argv);
    return r;
}

void run_result_free(struct run_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

const char *src_path(const char *rel)
{
    static char buf[8][1024];
    static unsigned next;
    char *b = buf[next++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", VSBOX_SOURCE_DIR, rel);
    return b;
}

const char *test_tmpdir(void)
{
    static char dir[512];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/vsbox-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir))
        abort();
    return dir;
}

char *slurp_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        abort();
    char *buf = slurp_fd(fd, len);
    close(fd);
    return buf;
}

void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        abort();
}

int count_lines_with(const char *s, const char *needle)
{
    int count = 0;
    while (s && *s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        for (size_t i = 0; i + strlen(needle) <= len; i++) {
            if (memcmp(s + i, needle, strlen(needle)) == 0) {
                count++;
                break;
            }
        }
        s = nl ? nl + 1 : s + len;
    }
    return count;
}

static int test_ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct test_ram *r = ctx;
    if (gpa >= TEST_RAM || len > TEST_RAM - gpa)
        return -1;
    memcpy(buf, r->b + gpa, len);
    return 0;
}

static int test_ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    struct test_ram *r = ctx;
    if (gpa >= TEST_RAM || len > TEST_RAM - gpa)
        return -1;
    memcpy(r->b + gpa, buf, len);
    return 0;
}

struct vmem_ops test_ram_ops(struct test_ram *r, bool writable)
{
    return (struct vmem_ops){ r, test_ram_read, writable ? test_ram_write : NULL };
}
