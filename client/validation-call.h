/* validation-call.h: having the daemon sign in to the mail servers
 *
 * What the commands that wait for a validation share: the --timeout
 * option, how long to wait for the daemon's answer, and the stages shown
 * while it works (the Progress signal).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "ctl-client.h"

G_BEGIN_DECLS

/* Set by --timeout: seconds, as typed. */
extern char *ctl_validation_timeout;

/* The --timeout entry, for the option table of each command that has the
 * daemon validate with a time limit (its file includes <glib/gi18n.h>). */
#define CTL_TIMEOUT_OPTION                                              \
  { "timeout", 0, 0, G_OPTION_ARG_STRING, &ctl_validation_timeout,      \
    N_("Give up after SECONDS (default: 20)"), N_("SECONDS") }

/* Reads --timeout SECONDS ("0.5" whatever the locale, as scripts write
 * it) into milliseconds; NULL is 0, the daemon's default.  Returns FALSE
 * if @text is not a number of seconds above zero. */
gboolean ctl_validation_parse_timeout (const char *text, guint32 *timeout_ms);

/* How long to wait for a call that validates with a time limit of
 * @timeout_ms (0: the daemon's default): that and a margin more, so that
 * the daemon's own answer, which says what it was waiting for, is the one
 * the user sees. */
int ctl_validation_call_timeout (guint32 timeout_ms);

/* Has the daemon sign in as @address: reads --timeout, --login and the
 * password (see credentials.h), then calls @method of the Manager, whose
 * arguments are (s address, s password, a{sv} options), with @options and
 * an operation-id, timeout-ms and login added; unless --json, shows the
 * stages of the validation on stderr as they come.  An address that signs
 * in only with a login (an iCloud+ custom domain) and no --login is told
 * to give one.
 * Returns: CTL_EXIT_OK with @reply set (transfer full) to the reply, of
 * @reply_type; else the exit status of what went wrong, which has been
 * reported. */
int ctl_validation_run (CtlClient *client,
                        const char *method,
                        const char *address,
                        GVariantDict *options,
                        const GVariantType *reply_type,
                        GVariant **reply);

G_END_DECLS
