/* account-data.h: what mailsetup keeps about one account
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "providers/provider.h"

G_BEGIN_DECLS

/* Plain data, saved in accounts.conf.  Never holds the password. */
typedef struct {
  char *id;             /* stable, also the Secret Service "account-id" */
  char *address;        /* normalised */
  char *provider;       /* provider id, e.g. "icloud.com" */
  char *display_name;   /* the person's own name for the account */
  char *login;          /* the address it signs in with, when not its own
                         * (iCloud+ custom domain), else NULL */
  MsEndpoint *imap;     /* username_template holds the user name itself */
  MsEndpoint *smtp;
  guint64 smtp_max_message_size; /* 0: unknown */
  gint64 last_checked;  /* unix seconds, 0: never */
} MsAccountData;

/* Returns: (transfer full) */
MsAccountData *ms_account_data_new (void);
MsAccountData *ms_account_data_copy (const MsAccountData *data);
void ms_account_data_free (MsAccountData *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAccountData, ms_account_data_free)

/* A display name must be a line of at most 256 bytes without control
 * characters; else G_DBUS_ERROR_INVALID_ARGS with a message for people. */
gboolean ms_account_display_name_check (const char *name,
                                        GError **error);

/* The address the account signs in with when it is not its own (an
 * iCloud+ custom domain's account signs in with its iCloud address),
 * else NULL (transfer none).  Files written before the login was kept
 * have it only as a user name with an "@". */
const char *ms_account_data_get_login (const MsAccountData *data);

/* A new random account id: 32 lower-case hex digits (transfer full). */
char *ms_account_id_new (void);

G_END_DECLS
