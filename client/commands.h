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
   * reads; options several commands share (CTL_PASSWORD_STDIN_OPTION,
   * CTL_TIMEOUT_OPTION) into those of the file that reads them. */
  const GOptionEntry *options;
  /* More for its own --help, after the options, or NULL; marked with
   * N_(). */
  const char *description;
} CtlCommand;

/* Reports a mistake on the command line ("mailsetupctl: @message" and a
 * pointer to --help, on stderr).
 * Returns: CTL_EXIT_USAGE */
int ctl_usage_error (const char *message);

/* @arg from the command line, in the locale's encoding, as UTF-8 (the bus
 * takes UTF-8).  Options that take text are G_OPTION_ARG_FILENAME and go
 * through this, as the arguments do: GOption's own conversion refuses
 * UTF-8 under LANG=C.
 * Returns: (transfer full): the text, or NULL with @error set. */
char *ctl_argument_to_utf8 (const char *arg, GError **error);

int ctl_cmd_lookup (CtlClient *client, const char * const *args);

extern const GOptionEntry ctl_validate_options[];
int ctl_cmd_validate (CtlClient *client, const char * const *args);

extern const GOptionEntry ctl_add_options[];
int ctl_cmd_add (CtlClient *client, const char * const *args);

int ctl_cmd_list (CtlClient *client, const char * const *args);

int ctl_cmd_show (CtlClient *client, const char * const *args);

int ctl_cmd_check (CtlClient *client, const char * const *args);

extern const GOptionEntry ctl_passwd_options[];
int ctl_cmd_passwd (CtlClient *client, const char * const *args);

extern const GOptionEntry ctl_remove_options[];
int ctl_cmd_remove (CtlClient *client, const char * const *args);

extern const GOptionEntry ctl_export_options[];
int ctl_cmd_export (CtlClient *client, const char * const *args);

extern const GOptionEntry ctl_diagnose_options[];
int ctl_cmd_diagnose (CtlClient *client, const char * const *args);

G_END_DECLS
