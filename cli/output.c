#define _DEFAULT_SOURCE /* realpath, fchmod, fsync */
#include "cli/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"

static int refuse(const char *flag, const char *name, const char *why)
{
    fail("%s: %s: %s", flag, name, why);
    return -1;
}

/* The temporary: ".NAME.XXXXXX" next to path, created by mkstemp (O_CREAT|O_EXCL, mode
 * 0600, a link at that name is an error rather than followed). */
static int make_temporary(struct output *o, const struct stat *old)
{
    const char *slash = strrchr(o->path, '/');
    int dirlen = slash ? (int)(slash - o->path + 1) : 0;
    if (snprintf(o->tmp, sizeof o->tmp, "%.*s.%s.XXXXXX", dirlen, o->path,
                 slash ? slash + 1 : o->path) >= (int)sizeof o->tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(o->tmp);
    if (fd < 0)
        return -1;
    /* A replaced file keeps its mode; a new one gets what open(0666) would give. */
    mode_t mode;
    if (old) {
        mode = old->st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    if (fchmod(fd, mode) != 0 || !(o->f = fdopen(fd, "wb"))) {
        int e = errno;
        close(fd);
        unlink(o->tmp);
        errno = e;
        return -1;
    }
    return 0;
}

static bool same_file_as_stdout(const struct stat *st)
{
    struct stat out;
    return fstat(STDOUT_FILENO, &out) == 0 && out.st_dev == st->st_dev &&
           out.st_ino == st->st_ino;
}

int output_open(struct output *o, const char *flag, const char *name)
{
    *o = (struct output){ .name = name };
    if (strcmp(name, "-") == 0) {
        o->f = stdout;
        o->is_stdout = true;
        return 0;
    }
    struct stat lst, st;
    if (lstat(name, &lst) != 0) {
        if (errno != ENOENT)
            return refuse(flag, name, strerror(errno));
        if (strlen(name) >= sizeof o->path)
            return refuse(flag, name, strerror(ENAMETOOLONG));
        strcpy(o->path, name);
        if (make_temporary(o, NULL) != 0)
            return refuse(flag, name, strerror(errno));
        return 0;
    }
    if (stat(name, &st) != 0)
        return refuse(flag, name, errno == ENOENT ? "a symbolic link to nothing" : strerror(errno));
    if (S_ISDIR(st.st_mode))
        return refuse(flag, name, "is a directory");
    if (S_ISREG(st.st_mode)) {
        if (S_ISLNK(lst.st_mode) && same_file_as_stdout(&st)) {
            /* /dev/stdout redirected to a file: that file's open description. */
            o->f = stdout;
            o->is_stdout = true;
            return 0;
        }
        if (S_ISLNK(lst.st_mode) ? !realpath(name, o->path) : strlen(name) >= sizeof o->path)
            return refuse(flag, name, strerror(S_ISLNK(lst.st_mode) ? errno : ENAMETOOLONG));
        if (!S_ISLNK(lst.st_mode))
            strcpy(o->path, name);
        if (make_temporary(o, &st) != 0)
            return refuse(flag, name, strerror(errno));
        return 0;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
        return refuse(flag, name, "not a file, character device or FIFO vsbox can write");
    int fd = open(name, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 || !(o->f = fdopen(fd, "wb"))) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return refuse(flag, name, strerror(e));
    }
    return 0;
}

int output_commit(struct output *o, const char *flag)
{
    if (!o->f)
        return 0;
    errno = 0;
    int bad = fflush(o->f) != 0 || ferror(o->f);
    int e = errno ? errno : EIO;
    if (o->is_stdout) {
        o->f = NULL;
        if (bad)
            fail("%s: standard output: cannot write: %s", flag, strerror(e));
        return bad ? -1 : 0;
    }
    if (!bad && o->tmp[0] && fsync(fileno(o->f)) != 0) {
        bad = 1;
        e = errno;
    }
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    o->f = NULL;
    if (!bad && o->tmp[0] && rename(o->tmp, o->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        if (o->tmp[0])
            unlink(o->tmp);
        fail("%s: %s: cannot write: %s", flag, o->name, strerror(e));
        return -1;
    }
    return 0;
}

void output_discard(struct output *o)
{
    if (!o->f)
        return;
    if (o->is_stdout) {
        fflush(o->f);
    } else {
        fclose(o->f);
        if (o->tmp[0])
            unlink(o->tmp);
    }
    o->f = NULL;
}

int output_stdout_status(int status)
{
    errno = 0;
    int bad = fflush(stdout) != 0 || ferror(stdout);
    int e = errno ? errno : EIO;
    if (!bad || status == EXIT_BAD_INPUT)
        return status;
    fail("standard output: cannot write: %s", strerror(e));
    return EXIT_BAD_INPUT;
}
