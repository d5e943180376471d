/* The narration `vsbox demo` and every command's --explain print for an event: what the
 * guest did (the instruction, its bytes, disassembled by Capstone), what the model
 * decided and why (the rule, the group and its HVM_PARAM_VIRIDIAN bit, the Xen source
 * file; viridian/why.h), and what the guest saw. Plain text unless the output is a
 * terminal (cli/term.h), so golden tests see stable text. */
#ifndef VSBOX_CLI_NARRATE_H
#define VSBOX_CLI_NARRATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "viridian/event.h"
#include "viridian/why.h"

struct vmodel;

struct narrator {
    FILE *out;
    bool color;
    /* Guest RAM at guest-physical 0 (an emulator run): the trapped instruction is read
     * at its RIP. NULL: it is the event's own encoding with the registers it needs. */
    const uint8_t *ram;
    uint64_t ram_size;
    uintptr_t cs;           /* Capstone handle */
    bool cs_ok, cs_failed;
};

/* Colour follows out (cli/term.h). Close what was opened (Capstone, on first use). */
void narrate_open(struct narrator *n, FILE *out);
void narrate_close(struct narrator *n);

/* "== title", then lines of prose. */
void narrate_heading(struct narrator *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void narrate_text(struct narrator *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void narrate_blank(struct narrator *n);

/* One event m answered res, with why asked before it was applied; rip: where the guest
 * trapped (0: no guest code, a trace or a demo). */
void narrate_event(struct narrator *n, const struct vmodel *m, const struct vevent *ev,
                   const struct vwhy *why, const struct vres *res, uint64_t rip);

/* Ask why, apply ev to m, narrate it; the result in *res. false: the model refused the
 * event (a vCPU it does not have). */
bool narrate_apply(struct narrator *n, struct vmodel *m, const struct vevent *ev,
                   struct vres *res);

/* The instruction text for an event without guest code: "mov ecx, 0x40000022; rdmsr"
 * and its bytes "b9 22 00 00 40 0f 32". Empty for events no instruction makes. */
/* Guest code as a listing: "  0x200000  0d 00 00 00 80   or eax, 0x80000000". */
void narrate_code(struct narrator *n, const uint8_t *code, size_t len, uint64_t addr);

void narrate_insn(struct narrator *n, const struct vevent *ev, char *text, size_t tlen,
                  char *hex, size_t hlen);

#endif
