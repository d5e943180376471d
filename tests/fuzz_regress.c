/* A libFuzzer harness's regression corpus, run by CTest in every build: each input a
 * fuzzer found or a seed we wrote goes through the harness's LLVMFuzzerTestOneInput,
 * built with the project's compiler (and under ASan/UBSan in the sanitizer run). The
 * harness's own checks are the assertions: an abort, a sanitizer report or a crash fails
 * the test. Built once per harness (tests/CMakeLists.txt) with HARNESS and CORPUS_DIRS. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    cr_assert_not_null(buf);
    for (size_t got; (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap)
            cr_assert_not_null(buf = realloc(buf, cap *= 2));
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
}

static size_t run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "corpus directory %s", dir);
    size_t n = 0;
    for (struct dirent *ent; (ent = readdir(d));) {
        if (ent->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        run_file(path);
        n++;
    }
    closedir(d);
    return n;
}

Test(HARNESS, every_corpus_input_runs_clean, .timeout = 120)
{
    char dirs[] = CORPUS_DIRS;
    for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
        cr_assert_gt(run_dir(dir), 0, "%s holds no inputs", dir);
}
