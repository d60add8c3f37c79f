/* commands.h: the commands of mailsetupctl
 *
 * Each command is one function in its own cmd-*.c file and one row in the
 * table in mailsetupctl.c, which parses the command's own options and
 * checks the number of arguments before the function runs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "ctl-client.h"

G_BEGIN_DECLS

/* @args: the command's own arguments, NULL-terminated, valid UTF-8, as
 * many as its table row allows.
 * Returns: the exit status (see CtlExit). */
typedef int (*CtlCommandFunc) (CtlClient *client, const char * const *args);

typedef struct {
  const char *name;
  const char *synopsis;  /* its arguments for people, e.g. "ADDRESS" */
  const char *summary;   /* one line; marked with N_() */
  guint min_args;
  guint max_args;
  CtlCommandFunc run;
  /* Its own options, after its name on the command line, or NULL.  They
   * store into the cmd-*.c file's static variables, which its function
   * reads. */
  const GOptionEntry *options;
} CtlCommand;

/* Reports a mistake on the command line ("mailsetupctl: @message" and a
 * pointer to --help, on stderr).
 * Returns: CTL_EXIT_USAGE */
int ctl_usage_error (const char *message);

int ctl_cmd_lookup (CtlClient *client, const char * const *args);

extern const GOptionEntry ctl_validate_options[];
int ctl_cmd_validate (CtlClient *client, const char * const *args);

G_END_DECLS
