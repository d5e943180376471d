/* Ctrl-C. The first SIGINT asks the running command to stop where it is and finish
 * cleanly (a record kept up to that point, a fuzz summary), exit 130; a second one ends
 * the process at once, as SIGINT always does. */
#ifndef VSBOX_CLI_INTERRUPT_H
#define VSBOX_CLI_INTERRUPT_H

#include <signal.h>

/* Start catching; the flag becomes non-zero on Ctrl-C. A SIGINT the shell had ignored
 * (a background job) stays ignored. */
const volatile sig_atomic_t *interrupt_catch(void);

/* While e runs, Ctrl-C also stops it at once (emu_cancel), even in a loop that never
 * traps; NULL when it is done. */
struct emu;
void interrupt_watch(struct emu *e);

#endif
