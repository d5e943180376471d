/* The exception and trap-site test images, run on a reference CPU as well: Debian's
 * qemu-system-x86_64 in TCG mode, entered into the same boot state as vsbox
 * (fuzz/qemu/boot.asm, fuzz/qemu/run.sh). What the images check is then what a CPU
 * does, not what vsbox happens to do. Where QEMU itself departs from the SDM, the row
 * says so and expects QEMU's answer. */
#include <criterion/criterion.h>
#include <string.h>
#include "tests/emu_util.h"

struct row {
    const char *image;
    const char *qemu;        /* the last line fuzz/qemu/run.sh prints */
    int vsbox;               /* vsbox's exit status */
    const char *why;
};

static const struct row rows[] = {
    { "hlt_after_handler.bin", "HALT", 0, NULL },
    { "repeated_ud.bin", "EXIT 0", 0, NULL },
    { "repeated_de.bin", "EXIT 0", 0, NULL },
    { "far_handler_rdtsc.bin", "EXIT 0", 0, NULL },
    { "idt_wraps.bin", "SHUTDOWN", 3, NULL },
    { "data_fault.bin", "EXIT 0", 0, NULL },
    { "smc_site.bin", "EXIT 0", 0, NULL },
    { "end_of_ram.bin", "EXIT 0", 0, NULL },
    { "exc_stacks64.bin", "EXIT 0", 0, NULL },
    /* Step 12: the #NP for a gate that is not present. Its error code is the IDT index
     * (vector << 3) | IDT | EXT (SDM vol. 3, 6.13); QEMU's do_interrupt64 pushes
     * vector * 16 + 2 (a byte offset, and no EXT). XTF's swint-emulation test agrees
     * with vsbox. */
    { "exc_double_fault.bin", "EXIT 12", 0, "QEMU's error code for a 64-bit IDT fault" },
    { "exc_triple_fault.bin", "SHUTDOWN", 3, NULL },
    { "exc_single_step.bin", "HALT", 0, NULL },
    { "apic_timer.bin", "EXIT 0", 0, NULL },
    { "syscall64.bin", "EXIT 0", 0, NULL },
    { "walk_cache.bin", "EXIT 0", 0, NULL },
    { "irq_flags.bin", "EXIT 0", 0, NULL },
    { "irq_triple.bin", "SHUTDOWN", 3, NULL },
    { "irq_chained.bin", "EXIT 0", 0, NULL },
    /* QEMU's APIC does not take the 2-byte TMICT write (its timer never fires here);
     * Xen's vlapic_mmio_write merges a 1- or 2-byte write into the register, and vsbox
     * models Xen. The row pins QEMU's answer, so the image is known to test the write. */
    { "apic_timer_partial.bin", "EXIT 1", 0, "QEMU ignores a 2-byte APIC write; Xen merges it" },
    /* QEMU's TCG (7.2 as 5.0) evaluates the lazy flags at the start of RCL/RCR and, when
     * the memory access faults, leaves them garbage; vsbox mends them (emu/site.c). The
     * row pins QEMU's answer, so the image is known to reach the fault with them lazy. */
    { "rotc_fault_flags.bin", "EXIT 1", 0, "QEMU's RCR fault leaves the flags garbage; a CPU keeps them" },
};

static char *qemu_run(const char *image)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "QEMU_SECONDS=3 %s/fuzz/qemu/run.sh %s %s 2>&1", VSBOX_SOURCE_DIR,
             test_guest("qemu-boot.elf"), test_guest(image));
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    static char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    char *last = strrchr(out, '\n');
    return last ? last + 1 : out;
}

Test(qemu_reference, the_test_images_end_on_qemu_as_on_vsbox)
{
    cr_assert_eq(system("command -v qemu-system-x86_64 >/dev/null"), 0,
                 "qemu-system-x86_64 is not installed (scripts/install-deps.sh installs it)");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        const char *q = qemu_run(r->image);
        cr_expect_str_eq(q, r->qemu, "%s on QEMU: %s%s%s", r->image, q, r->why ? " -- " : "",
                         r->why ? r->why : "");
        struct run_result v = run_image(r->image, NULL);
        cr_expect_eq(v.status, r->vsbox, "%s on vsbox: exit %d\n%s", r->image, v.status, v.err);
        run_result_free(&v);
    }
}
