/* Each command's options are one table: the parser reads argv from it and --help prints
 * one line per row, so a flag cannot be accepted without being documented (or the other
 * way round). */
#ifndef VSBOX_CLI_OPTIONS_H
#define VSBOX_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

struct opt {
    const char *name;       /* "--record" */
    const char *arg;        /* "FILE"; NULL: a switch */
    const char *help;       /* one line; a '\n' continues it on the next, indented */
    const char **value;     /* where the argument goes (the last one given wins) */
    bool *on;               /* a switch */
    const char *alias;      /* another spelling ("-v"), or NULL */
};

struct command {
    const char *name;       /* "run", "snapshot info" */
    const char *synopsis;   /* after "usage: vsbox NAME ": "IMAGE [OPTIONS]" */
    const char *about;      /* what it does; lines end with '\n' */
    const char *operand;    /* "IMAGE", "FILE"; NULL: takes none */
    const struct opt *opts; /* ended by a row with no name */
};

enum { OPTS_OK, OPTS_HELP, OPTS_ERROR };

/* Parse argv[1..] ("--name VALUE" or "--name=VALUE"; "-" alone is an operand). --help
 * and -h print the help on stdout (OPTS_HELP: exit 0). Errors are reported (OPTS_ERROR:
 * exit 2). *operand is set when one was given (at most one). */
int opts_parse(const struct command *c, int argc, char **argv, const char **operand);
void opts_help(FILE *f, const struct command *c);

#endif
