/* What run, resume and migrate share: loading an image, the emulator's sink (console,
 * instruction listing, --record), and turning how a run ended into an exit status. */
#ifndef VSBOX_CLI_SESSION_H
#define VSBOX_CLI_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "cli/narrate.h"
#include "cli/output.h"
#include "emu/emu.h"

struct settings;
struct snapshot;

/* The verdict a guest printed ("Test result: X", XTF's convention and vsbox's guests'). */
enum verdict { VERDICT_NONE, VERDICT_SUCCESS, VERDICT_SKIP, VERDICT_FAILURE, VERDICT_ERROR };

struct session {
    const char *record;          /* --record path ("-": standard output), or NULL */
    enum verdict verdict;
    char result[64];             /* the console line being watched for the verdict */
    size_t result_len;
    struct output rec;
    FILE *out;                   /* the record while it is open */
    int err;
    bool trace_insns;            /* console lines are kept whole between instruction lines */
    FILE *console;               /* the guest's console and --trace-insns: standard output,
                                    or standard error when the record is standard output */
    char line[512];              /* --trace-insns: the console line so far */
    size_t line_len;
    struct narrator *explain;    /* --explain: every event narrated here (cli/narrate.h) */
    struct narrator narrator;    /* ... which is this one, on the console's stream */
    struct emu *emu;             /* the running emulator, for --explain (its model, RAM):
                                    set it with session_attach() */
};

/* Options every guest-running command takes, as given and then parsed. */
struct run_flags {
    const char *record, *budget, *timeout, *save_at, *snapshot;
    bool trace_insns, strict, hvm_fep, explain;
    uint64_t budget_ticks, timeout_s, save_at_event;
};

/* Their rows in a command's option table (cli/options.h). */
#define RUN_OPTS(rf)                                                                          \
    { "--record", "FILE", "write every trapped event as a trace v1 file ('-': standard\n"    \
      "output; the console then goes to standard error)", &(rf)->record, NULL, NULL },        \
    { "--budget", "N", "stop the guest (exit 3) after about N guest instructions (counted a\n" \
      "block at a time)", &(rf)->budget, NULL, NULL },                                        \
    { "--timeout", "S", "wall-clock safety net, 1 to 86400 s (not deterministic)",           \
      &(rf)->timeout, NULL, NULL },                                                           \
    { "--trace-insns", NULL, "print every executed instruction, disassembled (slow)", NULL,  \
      &(rf)->trace_insns, NULL },                                                             \
    { "--hvm-fep", NULL, "Xen's hvm_fep boot option: ud2; \"xen\" forces the next\n"         \
      "instruction through the emulator (XTF uses it; release Xen lacks it)", NULL,          \
      &(rf)->hvm_fep, NULL },                                                                 \
    { "--explain", NULL, "narrate every trapped event: the instruction, what the model\n"    \
      "decided and why (group, mask bit, Xen source file), what the guest saw", NULL,        \
      &(rf)->explain, NULL }

/* Parse the numbers; reports and returns -1 on a bad one. */
int run_flags_parse(struct run_flags *f);

/* The session for these flags, and the sink the emulator reports to. */
void session_init(struct session *s, const struct run_flags *rf);
struct emu_sink session_sink(struct session *s);

/* The emulator whose events the session sees (--explain reads its model and RAM). */
void session_attach(struct session *s, struct emu *e);

/* Open --record and write the trace header for these settings. Reports, returns -1. */
int session_record_open(struct session *s, const struct settings *st);
/* Finish the record: with keep it appears at its path whole (reported, -1 if it cannot);
 * without, it never appears. Also ends the console's last line. */
int session_record_close(struct session *s, bool keep);

/* An image file (ELF, or flat with raw) for a guest of ram_mib MiB. Reports and returns
 * NULL: a flat image must fit in RAM, so its size is checked before it is read. */
uint8_t *read_image(const char *path, bool raw, uint32_t ram_mib, size_t *len);

/* The exit status for how a run ended, reporting crashes, budgets, a guest's non-zero
 * exit code and Ctrl-C on stderr. */
int run_status(const char *path, const struct emu_result *res, uint64_t budget,
               uint64_t timeout_s, enum verdict verdict);

/* After a run: name the Xen defect (an XSA the release still had) the run reached, if
 * any; if the guest wrote CrashNotify to HV_X64_MSR_CRASH_CTL, report its
 * parameters and Xen's log line on stderr; where the release also set the domain's
 * shutdown code to crash (4.12+), a run that would have ended well ends with
 * EXIT_DIVERGED (1), as the toolstack's on_crash would. Otherwise status unchanged. */
struct vmodel;
int crash_status(const char *path, const struct vmodel *m, int status);

/* Read and parse a snapshot file; its source host must be one vsbox knows. Reports
 * (naming the file and the record) and returns NULL. Free with snapshot_free_file. */
struct snapshot *snapshot_read_file(const char *path);
void snapshot_free_file(struct snapshot *snap);

/* Restore snap on `to` the way a destination toolstack would: dest_param is the value
 * the destination's own config set (0: none), tsc_khz a destination that does not keep
 * the guest's TSC rate (0: it does). Refusals exit 4 with one line; then everything the
 * guest could see change between `before` (what it saw last, taken at the pause; NULL:
 * the snapshot on its own host) and the restore is reported by name on stderr, and with
 * strict any change exits 4. EXIT_OK with *out, or the exit status. */
struct vvisible;
int session_restore(const char *name, struct snapshot *snap, const struct vprofile *to,
                    uint64_t dest_param, uint32_t tsc_khz, bool strict,
                    const struct vvisible *before, const struct emu_config *cfg,
                    struct emu **out);

/* --snapshot FILE, opened before the guest runs (so a bad path is refused up front) and
 * written at the save point; discarded (nothing appears) when no save point came.
 * Report and return -1. */
int snapshot_out_open(struct output *o, const char *path);
int snapshot_out_write(struct output *o, const struct snapshot *snap);

#endif
