/* What the subcommands share: exit codes, error reporting at the edge, and the
 * settings every command resolves the same way (defaults < trace header < xl.cfg <
 * command-line flags). */
#ifndef VSBOX_CLI_CLI_H
#define VSBOX_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "viridian/model.h"

enum {
    EXIT_OK = 0,
    EXIT_DIVERGED = 1,   /* replay: results differ; run: guest exited non-zero */
    EXIT_BAD_INPUT = 2,
    EXIT_CRASHED = 3,
    EXIT_INCOMPATIBLE = 4,
    EXIT_UNSUPPORTED = 5,   /* the guest needs what vsbox cannot emulate (named) */
    EXIT_INTERRUPTED = 130, /* Ctrl-C: stopped cleanly, what was done so far kept (128+SIGINT) */
};

struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_cpuid(int argc, char **argv);
int cmd_msrs(int argc, char **argv);
int cmd_hosts(int argc, char **argv);
int cmd_fuzz(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_guests(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_docs(int argc, char **argv);

/* The dispatch table (cli/main.c), for vsbox docs man. */
const struct cmd *cli_commands(size_t *n);

/* "vsbox: " + message, one line on stderr, escaped (cli/text.h). Returns EXIT_BAD_INPUT for
 * `return fail(...)`. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict numbers: decimal or 0x hex, whole string, within [min, max]. */
bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* The flags shared by model commands, as given (NULL/0 when absent). */
struct common_flags {
    const char *viridian;
    const char *hv;              /* --hv: the KVM host's QEMU CPU flags */
    const char *host;
    const char *tsc_khz;
    const char *config;
    bool verbose;
};

/* Where a setting's text came from, for error messages ("--viridian", "t.trace:2:25"). */
struct spec_source {
    const char *text;
    char where[512];
};

struct settings {
    const struct vprofile *host;
    uint64_t viridian;
    uint32_t tsc_khz;
    uint32_t vcpus;
    uint32_t memory_mib;
    char image[1024];            /* from --config: firmware_override or kernel, "" none */
    char name[64];               /* from --config: name=, "" none */
};

struct trace_config;

/* Resolve the settings from flags, an optional trace header (with the trace's file
 * name), and --config. Reports its own error and returns false on bad input. */
bool settings_resolve(const struct common_flags *flags, const struct trace_config *header,
                      const char *trace_name, struct settings *out);

/* Create the model for resolved settings (reports the error). */
struct vmodel *settings_model(const struct settings *s, struct vmem_ops mem);

/* For commands that print a trace of their own: resolve the flags, build the model and
 * write the trace's magic and config lines to out. NULL after reporting an error. */
struct vmodel *settings_model_trace(const struct common_flags *flags, FILE *out);

/* The guest memory a trace's memory= gives the model (replay, resumed traces): *size
 * bytes for its bounds checks only, read as zeroes, writes dropped. */
struct vmem_ops settings_trace_ram(uint64_t *size);

/* A `config` line for these settings, as trace headers write it. */
void settings_trace_config(const struct settings *s, struct trace_config *cfg);

/* The common flags' rows in a command's option table (cli/options.h). */
#define COMMON_OPTS(f)                                                                        \
    { "--viridian", "SPEC", "viridian groups: 'base,freq', 'all,!freq', 'defaults', 0/1, or\n" \
      "the xl.cfg list '[ \"all\", \"!freq\" ]' (default: 0, as xl)", &(f)->viridian, NULL,    \
      NULL },                                                                                 \
    { "--hv", "FLAGS", "with --host kvm, QEMU's CPU flags: 'hv-relaxed,hv-vapic,hv-time',\n"  \
      "'hv-passthrough', hv-spinlocks=N, hv-enforce-cpuid, kvm=off (default: none)",         \
      &(f)->hv, NULL, NULL },                                                                 \
    { "--host", "PROFILE", "host profile, one of vsbox hosts: a Xen release or kvm (default:\n" \
      "the newest Xen)", &(f)->host, NULL, NULL },                                           \
    { "--tsc-khz", "N", "guest TSC frequency in kHz (default: the host's)", &(f)->tsc_khz,     \
      NULL, NULL },                                                                           \
    { "--config", "FILE", "read viridian, vcpus and memory from an xl.cfg file", &(f)->config, \
      NULL, NULL },                                                                           \
    { "--verbose", NULL, "say which xl.cfg keys were ignored", NULL, &(f)->verbose, "-v" }

#endif
