#include "cli/interrupt.h"
#include "emu/emu.h"

#include <string.h>

/* The CLI's globals: a signal handler has nowhere else to find them. */
static volatile sig_atomic_t interrupt_flag;
static struct emu *volatile interrupt_emu;

static void on_sigint(int sig)
{
    (void)sig;
    interrupt_flag = 1;
    if (interrupt_emu)
        emu_cancel(interrupt_emu);   /* plain stores: safe in a signal handler */
}

void interrupt_watch(struct emu *e)
{
    interrupt_emu = e;
}

const volatile sig_atomic_t *interrupt_catch(void)
{
    struct sigaction old, sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND; /* the second Ctrl-C is the default: end now */
    if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(SIGINT, &sa, NULL);
    return &interrupt_flag;
}
