/* vsbox: one subcommand per file; this is only the dispatch table (and the one check
 * of standard output every command shares). */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/output.h"

static const struct cmd commands[] = {
    { "run", cmd_run, "run a guest image on the emulator, its traps answered by the model" },
    { "resume", cmd_resume, "restore a snapshot (on its host or another) and run on" },
    { "migrate", cmd_migrate, "run a guest, move it to another host profile mid-run, run on" },
    { "snapshot", cmd_snapshot, "snapshot info FILE: what a snapshot holds" },
    { "replay", cmd_replay, "replay a trace against the model, or --fill in its results" },
    { "import", cmd_import, "import kvm FILE: a KVM capture (trace-cmd, ftrace, perf) as a trace" },
    { "cpuid", cmd_cpuid, "print the hypervisor CPUID leaves a guest would see, as a trace" },
    { "msrs", cmd_msrs, "print a read of every viridian MSR with its TLFS name and group" },
    { "fuzz", cmd_fuzz, "fuzz the model with seeded event sequences and property oracles" },
    { "hosts", cmd_hosts, "list the host profiles (Xen releases) vsbox can be" },
    { "guests", cmd_guests, "list the bundled guests run, resume and migrate take by name" },
    { "report", cmd_report, "report TRACE -o OUT.html: the trace as a timeline page" },
    { "docs", cmd_docs, "print a reference page generated from the tables (msrs, groups, ...)" },
    { "demo", cmd_demo, "narrated demos: what a guest sees, what the model decides and why" },
};

const struct cmd *cli_commands(size_t *n)
{
    *n = sizeof commands / sizeof commands[0];
    return commands;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vsbox COMMAND [ARGS]   (vsbox COMMAND --help for its options)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_BAD_INPUT;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return output_stdout_status(EXIT_OK);
    }
    /* Every command's standard output is checked once, here: a full disk or device is
     * exit 2, never a silent 0. */
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return output_stdout_status(commands[i].fn(argc - 1, argv + 1));
    fail("unknown command '%s' (try vsbox --help)", argv[1]);
    return EXIT_BAD_INPUT;
}
