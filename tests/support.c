#include "tests/support.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp_fd(int fd)
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
    return buf;
}

struct run_result run_vsbox(const char *const *args, const char *stdin_text)
{
    struct run_result r = { .status = -1 };
    char outpath[] = "/tmp/vsbox-test-out-XXXXXX";
    char errpath[] = "/tmp/vsbox-test-err-XXXXXX";
    char inpath[] = "/tmp/vsbox-test-in-XXXXXX";
    int outfd = mkstemp(outpath), errfd = mkstemp(errpath), infd = -1;
    if (outfd < 0 || errfd < 0)
        abort();
    if (stdin_text) {
        infd = mkstemp(inpath);
        if (infd < 0 || write(infd, stdin_text, strlen(stdin_text)) < 0)
            abort();
        lseek(infd, 0, SEEK_SET);
    } else {
        infd = open("/dev/null", O_RDONLY);
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
        dup2(errfd, 2);
        execv(VSBOX_BINARY, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    lseek(outfd, 0, SEEK_SET);
    lseek(errfd, 0, SEEK_SET);
    r.out = slurp_fd(outfd);
    r.err = slurp_fd(errfd);
    close(outfd);
    close(errfd);
    close(infd);
    unlink(outpath);
    unlink(errpath);
    if (stdin_text)
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
