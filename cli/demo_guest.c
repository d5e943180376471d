/* The demos that run real guest code on the emulator, narrated as `vsbox run --explain`
 * narrates: the hypercall page Xen writes and a call through it, TSC calibration
 * against the PIT beside the frequency MSR, and a periodic synthetic timer. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/demo.h"
#include "cli/guests.h"
#include "cli/session.h"
#include "viridian/hvmpv.h"
#include "viridian/spec.h"

/* nasm -f bin (bits 64, org 0x100000):
 *   mov ecx, 0x40000000   ; HV_X64_MSR_GUEST_OS_ID
 *   xor eax, eax
 *   mov edx, 0x00010400   ; vendor 1 (Microsoft), OS type 4
 *   wrmsr
 *   mov ecx, 0x40000001   ; HV_X64_MSR_HYPERCALL
 *   mov eax, 0x00200001   ; the page at 0x200000, enabled
 *   xor edx, edx
 *   wrmsr
 *   mov ecx, 0x00010008   ; HvCallNotifyLongSpinWait, fast
 *   mov edx, 1            ; the spin count
 *   xor r8d, r8d
 *   mov eax, 0x200000
 *   call rax              ; into the page
 *   out 0xf4, al          ; exit with the status: 0 is HV_STATUS_SUCCESS */
static const uint8_t hcall_guest[] = {
    0xb9, 0x00, 0x00, 0x00, 0x40, 0x31, 0xc0, 0xba, 0x00, 0x04, 0x01, 0x00, 0x0f,
    0x30, 0xb9, 0x01, 0x00, 0x00, 0x40, 0xb8, 0x01, 0x00, 0x20, 0x00, 0x31, 0xd2,
    0x0f, 0x30, 0xb9, 0x08, 0x00, 0x01, 0x00, 0xba, 0x01, 0x00, 0x00, 0x00, 0x45,
    0x31, 0xc0, 0xb8, 0x00, 0x00, 0x20, 0x00, 0xff, 0xd0, 0xe6, 0xf4,
};

#define PAGE_GPA 0x200000u

/* Run an image (a flat one at 1 MiB when raw) with every event narrated; the exit
 * status as `vsbox run` gives it. */
static int run_narrated(struct narrator *n, const char *name, const uint8_t *img, size_t len,
                        bool raw, const char *spec, struct emu **keep)
{
    struct run_flags rf = { .explain = true };
    struct session out;
    session_init(&out, &rf);
    out.explain = n;
    const struct vprofile *h = vprofile_default();
    uint64_t mask = 0;
    if (vspec_parse(h, spec, &mask, NULL) != VERR_OK)
        return fail("demo: bad spec %s", spec);
    struct emu_config cfg = { .model = { .host = h, .viridian = mask }, .memory_mib = 16,
                              .budget = 100000000, .sink = session_sink(&out) };
    struct emu *e = NULL;
    char err[256];
    if (emu_create(&cfg, &e, err, sizeof err) ||
        emu_load(e, img, len, raw, 0x100000, err, sizeof err)) {
        emu_destroy(e);
        return fail("demo: %s: %s", name, err);
    }
    session_attach(&out, e);
    struct emu_result res;
    emu_run(e, &res);
    fflush(stdout);
    int status = run_status(name, &res, cfg.budget, 0, out.verdict);
    out.explain = NULL;
    session_record_close(&out, false);
    if (keep)
        *keep = e;
    else
        emu_destroy(e);
    return status;
}

int demo_hypercall_page(struct narrator *n)
{
    narrate_heading(n, "hypercall-page: what Xen writes, then a call through it (host xen-4.22)");
    narrate_text(n, "A viridian guest does not issue VMCALL itself: it tells the hypervisor who it\n"
                    "is (HV_X64_MSR_GUEST_OS_ID), names a page (HV_X64_MSR_HYPERCALL), and calls\n"
                    "into the code the hypervisor wrote there, which is VMCALL on Intel and\n"
                    "VMMCALL on AMD. This guest is 50 bytes of real code, run at 1 MiB:");
    narrate_code(n, hcall_guest, sizeof hcall_guest, 0x100000);
    narrate_blank(n);
    narrate_heading(n, "The run, event by event (as vsbox run --explain prints it)");
    struct emu *e = NULL;
    int status = run_narrated(n, "hypercall-page", hcall_guest, sizeof hcall_guest, true,
                              "defaults", &e);
    narrate_text(n, "  exit   the guest wrote the status to port 0xF4: exit %d", status);
    uint64_t size;
    const uint8_t *ram = emu_ram(e, &size);
    narrate_blank(n);
    narrate_heading(n, "The page Xen wrote at 0x%x (its first bytes; the rest is int3)", PAGE_GPA);
    narrate_code(n, ram + PAGE_GPA, 9, PAGE_GPA);
    narrate_text(n, "The OR marks the call as viridian's (Xen's own hypercalls share VMCALL);\n"
                    "the VMCALL trapped at 0x%x above, and RET went back to the guest.",
                 PAGE_GPA + 5);
    emu_destroy(e);
    return status;
}

static int run_bundled(struct narrator *n, const char *guest, const char *spec)
{
    char buf[1024];
    const char *path = guest_image_path(guest, buf, sizeof buf);
    size_t len;
    uint8_t *img = path ? read_image(path, false, 16, &len) : NULL;
    if (!img)
        return EXIT_BAD_INPUT;
    int status = run_narrated(n, guest, img, len, false, spec, NULL);
    free(img);
    return status;
}

int demo_tsc_calibration(struct narrator *n)
{
    narrate_heading(n, "tsc-calibration: the PIT or the frequency MSR (host xen-4.22, 2 GHz)");
    narrate_text(n, "An OS needs the TSC's rate. Without the freq group it counts TSC ticks over a\n"
                    "known PIT interval (11932 ticks of 1193182 Hz: 10 ms) and divides; with it, it\n"
                    "reads HV_X64_MSR_TSC_FREQUENCY. The bundled guest freq-calibrate does both;\n"
                    "its PIT reads are port I/O the emulator answers, not viridian events.");
    narrate_blank(n);
    narrate_heading(n, "viridian = base: no frequency MSR");
    int a = run_bundled(n, "freq-calibrate", "base");
    narrate_blank(n);
    narrate_heading(n, "viridian = base,freq: the MSR answers");
    int b = run_bundled(n, "freq-calibrate", "base,freq");
    narrate_blank(n);
    narrate_text(n, "The calibration lands near 2 GHz but not on it (it counts the loop's own\n"
                    "cost); the MSR is exact. A guest that calibrated on one host and moved to a\n"
                    "faster one keeps a wrong rate: the reason Windows wants the MSR.");
    return a ? a : b;
}

int demo_synic_timer(struct narrator *n)
{
    narrate_heading(n, "synic-timer: a periodic synthetic timer (host xen-4.22, viridian = all)");
    narrate_text(n, "Windows' clock tick on Hyper-V-style hypervisors is a synthetic timer: the\n"
                    "guest maps a message page (HV_X64_MSR_SIMP), enables its SynIC\n"
                    "(HV_X64_MSR_SCONTROL), routes a SINT to an interrupt vector, and programs\n"
                    "STIMER0 (count and config). Each expiry is a message in the SINT's slot and\n"
                    "that vector; the guest frees the slot and ends the interrupt. Xen has this\n"
                    "from 4.13 (groups synic and stimer). The bundled guest synic-timer takes\n"
                    "five 1 ms ticks, sleeping in HLT between them: the virtual clock jumps to\n"
                    "each expiry, so the run takes no host time.");
    narrate_blank(n);
    int a = run_bundled(n, "synic-timer", "all");
    narrate_blank(n);
    narrate_text(n, "Each \"poll\" is the emulator asking the model for due timers before it looks\n"
                    "at the APIC (Xen: viridian_time_poll_timers from vlapic_has_pending_irq):\n"
                    "that is where a message is written and the SINT raised. Delivery equals\n"
                    "expiration because a sleeping vCPU wakes exactly at the next timer.");
    return a;
}
