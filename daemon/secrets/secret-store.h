/* secret-store.h: account passwords in the Secret Service, through
 * libsecret's asynchronous calls only
 *
 * libsecret's _sync calls run a nested main loop on another context and
 * would stall the bus; everything here returns to the caller's loop.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <libsecret/secret.h>

G_BEGIN_DECLS

#define MS_SECRET_SCHEMA_NAME "org.mailsetup.MailSetup1.Password"

/* Attributes "address" and "account-id" (transfer none). */
const SecretSchema *ms_secret_get_schema (void);

/* Stores @password for the account in the default collection under
 * @label, replacing an earlier one.  Errors: MS_ERROR_SECRET_STORE_UNAVAILABLE
 * saying whether no Secret Service runs, the keyring is locked, or it
 * refused. */
void ms_secret_store_async (const char *account_id,
                            const char *address,
                            const char *label,
                            const char *password,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
gboolean ms_secret_store_finish (GAsyncResult *result,
                                 GError **error);

/* Returns: (transfer full) (nullable): the password, to be freed with
 * ms_password_free(); NULL without an error when there is none.  A
 * password in a keyring that stays locked is an error, not "none". */
void ms_secret_lookup_async (const char *account_id,
                             const char *address,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
char *ms_secret_lookup_finish (GAsyncResult *result,
                               GError **error);

/* Removes the account's password; no password is not an error. */
void ms_secret_clear_async (const char *account_id,
                            const char *address,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
gboolean ms_secret_clear_finish (GAsyncResult *result,
                                 GError **error);

/* Whether the account's password can be removed now: an error
 * (MS_ERROR_SECRET_STORE_UNAVAILABLE) if the keyring holding it is locked
 * or the Secret Service is missing; no password is fine. */
void ms_secret_check_removable_async (const char *account_id,
                                      const char *address,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean ms_secret_check_removable_finish (GAsyncResult *result,
                                           GError **error);

/* The "account-id" of every password of mailsetup's schema, to find
 * passwords whose account is gone.
 * Returns: (transfer full) (element-type utf8) */
void ms_secret_list_async (GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data);
GPtrArray *ms_secret_list_finish (GAsyncResult *result,
                                  GError **error);

/* Removes the password of @account_id whatever its address. */
void ms_secret_clear_id_async (const char *account_id,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);

G_END_DECLS
