/* accounts.h: the set of accounts: loading them, adding and removing
 * them so that the file, the Secret Service and the bus agree
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "account-data.h"
#include "account-file.h"
#include "bus/bus-service.h"
#include "providers/provider-registry.h"
#include "validation/validator.h"

G_BEGIN_DECLS

#define MS_ACCOUNT_PATH_PREFIX "/org/mailsetup/MailSetup1/account/"

typedef struct _MsAccounts MsAccounts;
typedef struct _MsAccount MsAccount;

/* @service, @registry and @file are borrowed and must outlive the set.
 * Returns: (transfer full) */
MsAccounts *ms_accounts_new (BusService *service,
                             MsProviderRegistry *registry,
                             MsAccountFile *file);
void ms_accounts_free (MsAccounts *accounts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAccounts, ms_accounts_free)

/* Reads the account file and exports every account with Status
 * "unchecked" (no network), without InterfacesAdded: call it before the
 * main loop runs, when nobody can have asked for objects yet.  Then, without waiting, asks the Secret
 * Service which passwords exist: accounts without one become
 * "needs-password", and passwords of mailsetup's schema that belong to no
 * account (left by a crash) are removed. */
void ms_accounts_load (MsAccounts *accounts);

/* The stored data of @address's account (transfer none), or NULL. */
const MsAccountData *ms_accounts_lookup (MsAccounts *accounts,
                                         const char *address);

/* Whether @address has an account, or one being added. */
gboolean ms_accounts_contains (MsAccounts *accounts,
                               const char *address);

/* Claims @address for an AddAccount in progress (FALSE if taken). */
gboolean ms_accounts_reserve (MsAccounts *accounts,
                              const char *address);
void ms_accounts_release (MsAccounts *accounts,
                          const char *address);

/* Stores the password, then writes the file, then exports the account;
 * a failure undoes the earlier steps.  The address must be reserved.
 * Errors: MS_ERROR_SECRET_STORE_UNAVAILABLE, G_IO_ERROR for the file. */
void ms_accounts_add_async (MsAccounts *accounts,
                            MsValidation *validation,
                            const char *password,
                            const char *display_name,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
/* Returns: (transfer none): the new account's object path */
const char *ms_accounts_add_finish (MsAccounts *accounts,
                                    GAsyncResult *result,
                                    GError **error);

/* The object path of @address's account (transfer full). */
char *ms_account_path_for_address (const char *address);

G_END_DECLS
