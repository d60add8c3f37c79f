/* account-lookup.h: finding the daemon's accounts
 *
 * Accounts are the objects below CTL_MANAGER_PATH with the Account
 * interface, listed by its ObjectManager.  A person names an account by
 * its address, typed the way they like: it is normalised as the daemon
 * does (surrounding white space trimmed, the domain lower-cased) and
 * matched against the accounts' Address.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "ctl-client.h"

G_BEGIN_DECLS

#define CTL_ACCOUNT_INTERFACE "org.mailsetup.MailSetup1.Account"

/* Every account, sorted by address (GetManagedObjects).
 * Returns: (transfer full): an a(oa{sv}) of each account's object path
 * and Account properties, or NULL with @error set. */
GVariant *ctl_accounts_get_all (CtlClient *client, DBusError *error);

/* An account found by its address. */
typedef struct {
  char *path;
  char *address;         /* its Address */
  GVariant *properties;  /* its Account properties, an a{sv} */
} CtlAccount;

/* Finds the account for @address.
 * Returns: (transfer full): the account, or NULL with @error set:
 * InvalidAddress when @address is not one, NoSuchAccount ("there is no
 * account for ADDRESS") when there is no such account. */
CtlAccount *ctl_account_find (CtlClient *client,
                              const char *address,
                              DBusError *error);

void ctl_account_free (CtlAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlAccount, ctl_account_free)

/* Properties.GetAll of the account at @path.
 * Returns: (transfer full): an a{sv}, or NULL with @error set. */
GVariant *ctl_account_get_properties (CtlClient *client,
                                      const char *path,
                                      DBusError *error);

G_END_DECLS
