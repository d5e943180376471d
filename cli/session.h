/* What run, resume and migrate share: loading an image, the emulator's sink (console,
 * instruction listing, --record), and turning how a run ended into an exit status. */
#ifndef VSBOX_CLI_SESSION_H
#define VSBOX_CLI_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "emu/emu.h"

struct settings;
struct snapshot;

struct session {
    const char *record;          /* --record path, or NULL */
    char tmp[4096];              /* written here, renamed over `record` when complete */
    FILE *out;
    int err;
};

/* Options every guest-running command takes, as given and then parsed. */
struct run_flags {
    const char *record, *budget, *timeout, *save_at, *snapshot;
    bool trace_insns, strict;
    uint64_t budget_ticks, timeout_s, save_at_event;
};

/* Take one of them at argv[*i]: 1 taken (advancing *i), 0 not one, -1 reported error. */
int run_flag(struct run_flags *f, int argc, char **argv, int *i);
/* Parse the numbers; reports and returns -1 on a bad one. */
int run_flags_parse(struct run_flags *f);
extern const char run_flags_help[];

/* The sink the emulator reports to (events go to the record, if any). */
struct emu_sink session_sink(struct session *s);

/* Open --record and write the trace header for these settings. Reports, returns -1. */
int session_record_open(struct session *s, const struct settings *st);
/* Finish the record: on success it appears at its path whole, or not at all. */
int session_record_close(struct session *s, bool keep);

/* A bundled guest by name (probe, msr-matrix), else the path as given. */
const char *guest_image_path(const char *arg, char *buf, size_t len);
/* A whole file (images, snapshots) up to max bytes; reports and returns NULL. */
uint8_t *read_whole(const char *path, size_t max, size_t *len, const char *what);

/* The exit status for how a run ended, reporting crashes and budgets on stderr. */
int run_status(const char *path, const struct emu_result *res, uint64_t budget,
               uint64_t timeout_s);

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
 * guest could see change is reported by name on stderr, and with strict any change exits
 * 4. before: what the guest saw at the save (NULL: the snapshot on its own host).
 * EXIT_OK with *out, or the exit status. */
struct vvisible;
int session_restore(const char *name, struct snapshot *snap, const struct vprofile *to,
                    uint64_t dest_param, uint32_t tsc_khz, bool strict,
                    const struct vvisible *before, const struct emu_config *cfg,
                    struct emu **out);

/* Write a snapshot file atomically (temporary + rename). Reports, returns -1. */
int snapshot_write_file(const char *path, const struct snapshot *snap);

#endif
