/* goa-publish.h: publishing an account to GNOME Online Accounts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "accounts/account-data.h"

G_BEGIN_DECLS

/* The Account.Export format that publishes to GNOME Online Accounts. */
#define MS_EXPORT_FORMAT_GOA "goa"

/* Adds @account to GNOME Online Accounts through its own bus API
 * (org.gnome.OnlineAccounts.Manager.AddAccount, provider "imap_smtp"),
 * with @password as its IMAP and SMTP password, so that GNOME Settings,
 * Evolution and Geary see it.  The GOA account carries the detail
 * "MailsetupAccountId" = @account's Id.
 *
 * Again: the GOA account made for @account is returned unchanged when its
 * Mail properties and its passwords are what would be published; if
 * anything differs it is replaced (a new one added, then the old one
 * removed), so GOA keeps one account for the address.  An "imap_smtp"
 * account for the address that mailsetup did not make is never changed.
 * Publishes (and refreshes, below) for the same address run one after
 * another, so that two of them never both add an account.
 *
 * Errors: MS_ERROR_ACCOUNT_EXISTS when GOA has an account for the address
 * that mailsetup did not make (and none that it did);
 * MS_ERROR_SERVICE_UNAVAILABLE when GNOME Online Accounts does not answer
 * or refuses; MS_ERROR_INVALID_PASSWORD for a @password that is not one. */
void ms_goa_publish_async (const MsAccountData *account,
                           const char *password,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data);

/* Returns: (transfer full): the GOA account's object path, or NULL */
char *ms_goa_publish_finish (GAsyncResult *result,
                             GError **error);

/* Brings the GOA account published for @account up to date after its
 * password or its name changed, in the background: what
 * ms_goa_publish_async() does again, except that it never starts
 * goa-daemon (one that is not running has nothing to update, and nobody
 * asked for it) and never adds an account where GOA has none marked
 * with @account's Id.  @password is the new password, or NULL for the
 * stored one, looked up only if GOA has such an account.
 *
 * Best effort, nothing to wait for: a failure is logged as a warning
 * naming the address, the rest as debug messages. */
void ms_goa_refresh (const MsAccountData *account,
                     const char *password);

/* The details GOA's IMAP/SMTP provider reads for @account.
 * Returns: (transfer floating): an a{ss} */
GVariant *ms_goa_details (const MsAccountData *account);

G_END_DECLS
