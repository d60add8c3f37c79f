/* account.h: one account on the bus (org.mailsetup.MailSetup1.Account)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "accounts.h"

G_BEGIN_DECLS

#define MS_ACCOUNT_INTERFACE "org.mailsetup.MailSetup1.Account"

#define MS_STATUS_UNCHECKED "unchecked"
#define MS_STATUS_CHECKING "checking"
#define MS_STATUS_OK "ok"
#define MS_STATUS_AUTH_FAILED "auth-failed"
#define MS_STATUS_UNREACHABLE "unreachable"
#define MS_STATUS_NEEDS_PASSWORD "needs-password"

struct _MsAccount {
  gatomicrefcount ref_count;
  MsAccounts *accounts;     /* the owner; NULL once removed */
  MsAccountData *data;
  BusObject *object;        /* NULL until exported and once removed */
  char *status;
  char *status_message;
  GPtrArray *check_calls;   /* Check() calls waiting for the running check */
};

/* @data: (transfer full)
 * Returns: (transfer full) */
MsAccount *ms_account_new (MsAccounts *accounts,
                           MsAccountData *data);
MsAccount *ms_account_ref (MsAccount *account);
void ms_account_unref (MsAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsAccount, ms_account_unref)

/* Puts the account on the bus; with @announce, with InterfacesAdded. */
void ms_account_export (MsAccount *account,
                        BusService *service,
                        gboolean announce);
/* Takes the object off the bus and detaches it from its owner. */
void ms_account_unexport (MsAccount *account);

void ms_account_set_status (MsAccount *account,
                            const char *status,
                            const char *message);

/* The Secret Service label: "iCloud Mail password for jane@icloud.com"
 * (transfer full). */
char *ms_account_secret_label (MsProvider *provider,
                               const char *address);

/* Used by account.c, implemented in accounts.c. */
MsProviderRegistry *ms_accounts_get_registry (MsAccounts *accounts);
/* Saves the file as it is now; failures are logged. */
void ms_accounts_save_soon (MsAccounts *accounts);
void ms_accounts_remove_async (MsAccounts *accounts,
                               MsAccount *account,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean ms_accounts_remove_finish (MsAccounts *accounts,
                                    GAsyncResult *result,
                                    GError **error);

G_END_DECLS
