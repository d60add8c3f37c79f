/* commands.h: the commands of mailsetupctl
 *
 * Each command is one function in its own cmd-*.c file and one row in the
 * table in mailsetupctl.c, which checks the number of arguments before the
 * function runs.
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
} CtlCommand;

int ctl_cmd_lookup (CtlClient *client, const char * const *args);

G_END_DECLS
