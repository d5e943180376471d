/* Planted faults: test-only builds (-DVSBOX_FAULT=N) break one rule each so the fuzz
 * tests can prove every oracle fires. Normal builds compile every FAULT() to 0. */
#ifndef VSBOX_VIRIDIAN_PLANTED_H
#define VSBOX_VIRIDIAN_PLANTED_H

#ifndef VSBOX_FAULT
#define VSBOX_FAULT 0
#endif
#define FAULT(n) (VSBOX_FAULT == (n))

enum {
    FAULT_FREQ_UNGATED = 1,       /* frequency MSRs readable whatever HVMPV_no_freq says */
    FAULT_NO_EEXIST = 2,          /* a set HVM_PARAM_VIRIDIAN may be changed */
    FAULT_CLOCK_RESET = 3,        /* migration restarts the clock (Xen's reverted TRC bug) */
    FAULT_LOSE_OS_ID = 4,         /* restore forgets HV_X64_MSR_GUEST_OS_ID */
    FAULT_ADVERTISE_TRC = 5,      /* leaf 3 claims TIME_REF_COUNT on every host */
    FAULT_GUEST_MAY_WRITE = 6,    /* guests may set HVM_PARAM_VIRIDIAN */
    FAULT_EMU_DROPS_EDX = 7,      /* the emulator's RDMSR hands the guest EDX = 0 */
    FAULT_TRC_RUNS_PAUSED = 8,    /* TIME_REF_COUNT runs on while the domain is paused for
                                     its save (Xen before f6a07643e1: Windows' WMI hung
                                     after a 45-minute jump) */
};

#endif
