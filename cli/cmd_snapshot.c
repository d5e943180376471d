/* vsbox snapshot info: what a snapshot file holds, record by record. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/session.h"
#include "cli/text.h"
#include "snapshot/snapshot.h"
#include "viridian/hvmpv.h"
#include "viridian/profile.h"
#include "viridian/save.h"
#include "viridian/spec.h"

static void reg_line(const struct snap_cpu *c, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        if (snap_reg_get(c, names[i], &v))
            printf("  %-7s 0x%016llx%s", names[i], (unsigned long long)v, i % 3 == 2 ? "\n" : "");
    }
    if (n % 3)
        putchar('\n');
}

static int info(const char *file)
{
    struct snapshot *s = snapshot_read_file(file);
    if (!s)
        return EXIT_BAD_INPUT;
    const struct vsave *m = &s->model;
    const struct vprofile *host = vprofile_find(m->host);
    char spec[128];
    vspec_format(host, m->legacy >= 0 && m->param ? host->legacy_true_mask : m->param, spec,
                 sizeof spec);
    /* Counted as the records gave them: scanning RAM would touch all of what the header
     * declares. */
    uint64_t pages = s->pages_read, total = (uint64_t)s->memory_mib << 8;
    char name[1024];
    printf("snapshot %s (format version %u)\n", esc(file, name, sizeof name), SNAP_VERSION);
    printf("source host      %s (Xen %u.%u)\n", host->name, host->xen_major, host->xen_minor);
    if (m->legacy >= 0)
        printf("viridian stream  LEGACY_VIRIDIAN %d (a pre-4.5 boolean: the restoring host "
               "decides what it means; here %s)\n", m->legacy, spec);
    else
        printf("viridian stream  HVM_PARAM_VIRIDIAN 0x%llx (%s)\n", (unsigned long long)m->param,
               spec);
    printf("taken after      event %llu, clock %llu ticks at %u kHz (incarnation %u)\n",
           (unsigned long long)s->taken_at, (unsigned long long)m->tsc, m->tsc_khz,
           m->incarnation);
    if (m->records) {
        printf("viridian records %s's layout: VIRIDIAN_DOMAIN %u bytes, VIRIDIAN_VCPU %u bytes\n",
               m->layout == host->save ? host->name : "another release",
               vsave_domain_size(m->layout), vsave_vcpu_size(m->layout));
        printf("VIRIDIAN_DOMAIN  guest OS id 0x%llx, hypercall MSR 0x%llx",
               (unsigned long long)m->domain.guest_os_id,
               (unsigned long long)m->domain.hypercall_gpa);
        if (m->layout >= VSAVE_4_5)
            printf(", time ref count 0x%llx", (unsigned long long)m->domain.time_ref_count);
        if (m->layout >= VSAVE_4_6)
            printf(", reference TSC MSR 0x%llx", (unsigned long long)m->domain.reference_tsc);
        putchar('\n');
    } else {
        printf("viridian records none (Xen writes none for a domain without viridian)\n");
    }
    printf("frequency told   %s\n", m->freq_told ? "yes (the guest read HV_X64_MSR_TSC_FREQUENCY)"
                                                 : "no");
    for (uint32_t v = 0; v < m->vcpus; v++) {
        const struct vsave_vcpu *c = &m->vcpu[v];
        printf("vCPU %-11u VP assist MSR 0x%llx", v, (unsigned long long)c->vp_assist_msr);
        if (m->records && m->layout >= VSAVE_4_7)
            printf(", APIC assist %s 0x%x", host->vp_assist >= VASSIST_4_11 ? "pending" : "vector",
                   c->apic_assist);
        printf(", TPR 0x%x, ICR 0x%x:%x, %u registers\n", c->tpr, c->icr2, c->icr, s->cpu[v].n);
        if (m->records && m->layout >= VSAVE_4_13) {
            printf("  SIMP 0x%llx", (unsigned long long)c->simp_msr);
            for (int i = 0; i < 16; i++)
                if (c->sint_msr[i] != HV_SINT_MASKED)
                    printf(", SINT%d 0x%llx", i, (unsigned long long)c->sint_msr[i]);
            for (int i = 0; i < 4; i++)
                if (c->stimer_config_msr[i] || c->stimer_count_msr[i])
                    printf(", STIMER%d config 0x%llx count 0x%llx", i,
                           (unsigned long long)c->stimer_config_msr[i],
                           (unsigned long long)c->stimer_count_msr[i]);
            putchar('\n');
        }
        static const char *const key[] = { "rip", "rsp", "rflags", "cr0", "cr3", "cr4",
                                           "efer", "idtr_base", "gdtr_base" };
        reg_line(&s->cpu[v], key, sizeof key / sizeof key[0]);
    }
    uint64_t lm = 1;
    if (s->machine.n)
        snap_reg_get(&s->machine, "long_mode", &lm);
    printf("machine          %s, %u named values\n",
           s->machine.n ? (lm ? "64-bit long mode" : "32-bit protected mode") : "no MACHINE record",
           s->machine.n);
    printf("memory           %u MiB, %llu non-zero pages of %llu\n", s->memory_mib,
           (unsigned long long)pages, (unsigned long long)total);
    snapshot_free_file(s);
    return EXIT_OK;
}

int cmd_snapshot(int argc, char **argv)
{
    static const struct opt opts[] = { { 0 } };
    static const struct command c = {
        "snapshot info", "FILE",
        "Print what a snapshot holds: the source host, the viridian stream (a mask, or the\n"
        "legacy boolean pre-4.5 Xen wrote), the clock, the viridian records, the registers\n"
        "and the memory. A malformed file exits 2 naming the record.\n",
        "FILE", opts,
    };
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        opts_help(stdout, &c);
        return EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "info") != 0)
        return fail("snapshot: the subcommand is 'info' (vsbox snapshot info FILE)");
    const char *file = NULL;
    int p = opts_parse(&c, argc - 1, argv + 1, &file);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    if (!file)
        return fail("snapshot info: which FILE? (vsbox snapshot info FILE)");
    return info(file);
}
