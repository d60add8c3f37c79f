/* account-format.h: an account for people, or as JSON
 *
 * Reads the properties of org.mailsetup.MailSetup1.Account (DESIGN §3):
 * its address and name, how its last check went, its IMAP and SMTP
 * settings, and how to get its password from the Secret Service.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "ctl-client.h"

G_BEGIN_DECLS

/* A few words for people for the Status property, e.g. "working" for
 * "ok"; an unknown status as it is (transfer none). */
const char *ctl_account_status_label (const char *status);

/* Appends the account with the properties @properties (an a{sv}) to
 * @out.  Properties that are absent or of an unexpected type are
 * skipped. */
void ctl_account_format (GString *out, GVariant *properties);

/* Prints @properties on stdout: as JSON with --json, else as
 * ctl_account_format() lays it out. */
void ctl_account_print (CtlClient *client, GVariant *properties);

G_END_DECLS
