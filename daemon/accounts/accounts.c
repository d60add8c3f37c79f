/* accounts.c: the set of accounts: loading them, adding and removing
 * them so that the file, the Secret Service and the bus agree
 *
 * The order of the steps is what keeps a crash harmless at any moment:
 * adding stores the secret before the file names the account, removing
 * drops the account from the file before its secret.  Either way a crash
 * can only leave a secret without an account, which the next start-up
 * removes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "accounts.h"

#include <glib/gi18n.h>

#include "account.h"
#include "address.h"
#include "mailsetup-error.h"
#include "password.h"
#include "secrets/secret-store.h"

struct _MsAccounts {
  BusService *service;
  MsProviderRegistry *registry;
  MsAccountFile *file;
  GPtrArray *accounts;       /* of MsAccount, in the file's order */
  GPtrArray *adding;         /* of MsAccountData: secret stored, being saved */
  GHashTable *removing;      /* of MsAccount: being dropped from the file */
  GHashTable *reserved;      /* addresses being added */
  GHashTable *pending_ids;   /* ids whose secret is stored but not yet on file,
                              * or whose secret is being removed: the start-up
                              * clean-up leaves these alone */
  guint list_attempts;       /* of the start-up listing of secrets */
  gboolean listing;          /* a listing is on its way */
  GHashTable *removed_while_listing; /* ids the listing may still name */
  GSource *list_retry;
};

MsAccounts *
ms_accounts_new (BusService *service,
                 MsProviderRegistry *registry,
                 MsAccountFile *file)
{
  MsAccounts *accounts = g_new0 (MsAccounts, 1);

  accounts->service = service;
  accounts->registry = registry;
  accounts->file = file;
  accounts->accounts = g_ptr_array_new ();
  accounts->adding = g_ptr_array_new ();
  accounts->removing = g_hash_table_new (NULL, NULL);
  accounts->reserved = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  accounts->pending_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  accounts->removed_while_listing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  return accounts;
}

void
ms_accounts_free (MsAccounts *accounts)
{
  for (guint i = 0; i < accounts->accounts->len; i++)
    {
      MsAccount *account = accounts->accounts->pdata[i];

      ms_account_unexport (account);
      ms_account_unref (account);
    }
  g_ptr_array_unref (accounts->accounts);
  g_ptr_array_unref (accounts->adding);
  g_hash_table_unref (accounts->removing);
  g_hash_table_unref (accounts->reserved);
  g_hash_table_unref (accounts->pending_ids);
  g_hash_table_unref (accounts->removed_while_listing);
  if (accounts->list_retry != NULL)
    {
      g_source_destroy (accounts->list_retry);
      g_source_unref (accounts->list_retry);
    }
  g_free (accounts);
}

MsProviderRegistry *
ms_accounts_get_registry (MsAccounts *accounts)
{
  return accounts->registry;
}

/* Mail providers treat addresses without regard to case, so
 * Jane@icloud.com and jane@icloud.com are one account. */
static MsAccount *
find (MsAccounts *accounts,
      const char *address)
{
  for (guint i = 0; i < accounts->accounts->len; i++)
    {
      MsAccount *account = accounts->accounts->pdata[i];

      if (g_ascii_strcasecmp (account->data->address, address) == 0)
        return account;
    }

  return NULL;
}

static MsAccount *
find_id (MsAccounts *accounts,
         const char *id)
{
  for (guint i = 0; i < accounts->accounts->len; i++)
    {
      MsAccount *account = accounts->accounts->pdata[i];

      if (g_str_equal (account->data->id, id))
        return account;
    }

  return NULL;
}

const MsAccountData *
ms_accounts_lookup (MsAccounts *accounts,
                    const char *address)
{
  MsAccount *account = find (accounts, address);

  return account ? account->data : NULL;
}

gboolean
ms_accounts_contains (MsAccounts *accounts,
                      const char *address)
{
  g_autofree char *key = g_ascii_strdown (address, -1);

  return find (accounts, address) != NULL ||
         g_hash_table_contains (accounts->reserved, key);
}

gboolean
ms_accounts_reserve (MsAccounts *accounts,
                     const char *address)
{
  if (ms_accounts_contains (accounts, address))
    return FALSE;

  g_hash_table_add (accounts->reserved, g_ascii_strdown (address, -1));
  return TRUE;
}

void
ms_accounts_release (MsAccounts *accounts,
                     const char *address)
{
  g_autofree char *key = g_ascii_strdown (address, -1);

  g_hash_table_remove (accounts->reserved, key);
}

/* What the file is to hold: every account, with the adds under way and
 * without the removals under way.  Every save writes the whole picture,
 * so one queued while another is in flight cannot drop what that one
 * is adding, or bring back what it is removing. */
static GPtrArray *
snapshot (MsAccounts *accounts)
{
  GPtrArray *data = g_ptr_array_new ();

  for (guint i = 0; i < accounts->accounts->len; i++)
    {
      MsAccount *account = accounts->accounts->pdata[i];

      if (!g_hash_table_contains (accounts->removing, account))
        g_ptr_array_add (data, account->data);
    }
  for (guint i = 0; i < accounts->adding->len; i++)
    g_ptr_array_add (data, accounts->adding->pdata[i]);

  return data;
}

static void
on_saved_soon (GObject *source,
               GAsyncResult *result,
               gpointer user_data)
{
  MsAccountFile *file = user_data;
  g_autoptr(GError) error = NULL;

  if (!ms_account_file_save_finish (file, result, &error))
    g_warning ("Could not save %s: %s", ms_account_file_get_path (file), error->message);
}

void
ms_accounts_save_soon (MsAccounts *accounts)
{
  g_autoptr(GPtrArray) data = snapshot (accounts);

  ms_account_file_save_async (accounts->file, data, NULL, on_saved_soon, accounts->file);
}

/* Start-up */

static void
on_orphan_cleared (GObject *source,
                   GAsyncResult *result,
                   gpointer user_data)
{
  g_autofree char *id = user_data;
  g_autoptr(GError) error = NULL;

  if (!ms_secret_clear_finish (result, &error))
    g_warning ("Could not remove the password of removed account %s: %s", id, error->message);
  else
    g_message ("Removed the password of account %s, which no longer exists", id);
}

#define MAX_LIST_ATTEMPTS 4
#define LIST_RETRY_MS 500

static void list_secrets (MsAccounts *accounts);

static gboolean
list_secrets_again (gpointer user_data)
{
  MsAccounts *accounts = user_data;

  g_clear_pointer (&accounts->list_retry, g_source_unref);
  list_secrets (accounts);
  return G_SOURCE_REMOVE;
}

static void
on_secrets_listed (GObject *source,
                   GAsyncResult *result,
                   gpointer user_data)
{
  MsAccounts *accounts = user_data;
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(GHashTable) with_secret = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;

  ids = ms_secret_list_finish (result, &error);
  accounts->listing = FALSE;
  if (ids == NULL)
    {
      g_hash_table_remove_all (accounts->removed_while_listing);
      /* A secret removed while the list was read, or a Secret Service
       * still starting: try again a little later, a few times. */
      if (accounts->list_attempts < MAX_LIST_ATTEMPTS)
        {
          g_debug ("Cannot list stored passwords yet (%s); trying again", error->message);
          accounts->list_retry = g_timeout_source_new (LIST_RETRY_MS << accounts->list_attempts);
          g_source_set_callback (accounts->list_retry, list_secrets_again, accounts, NULL);
          g_source_attach (accounts->list_retry, NULL);
        }
      else
        {
          g_message ("Cannot list stored passwords: %s", error->message);
        }
      return;
    }

  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = ids->pdata[i];

      g_hash_table_add (with_secret, (gpointer) id);

      /* A secret stored for an account that was never written (a crash
       * in AddAccount), or whose removal did not finish.  The list may be
       * older than a removal that finished meanwhile: deleting that secret
       * a second time trips libsecret (0.20), so such ids are skipped. */
      if (find_id (accounts, id) == NULL &&
          !g_hash_table_contains (accounts->pending_ids, id) &&
          !g_hash_table_contains (accounts->removed_while_listing, id))
        ms_secret_clear_id_async (id, NULL, on_orphan_cleared, g_strdup (id));
    }
  g_hash_table_remove_all (accounts->removed_while_listing);

  for (guint i = 0; i < accounts->accounts->len; i++)
    {
      MsAccount *account = accounts->accounts->pdata[i];

      if (!g_hash_table_contains (with_secret, account->data->id) &&
          g_str_equal (account->status, MS_STATUS_UNCHECKED))
        ms_account_set_status (account, MS_STATUS_NEEDS_PASSWORD,
                               _("No password is stored for this account. Set its "
                                 "app-specific password again."));
    }
}

void
ms_accounts_load (MsAccounts *accounts)
{
  g_autoptr(GPtrArray) data = NULL;
  g_autofree char *damaged = NULL;

  data = ms_account_file_load (accounts->file, &damaged);
  for (guint i = 0; i < data->len; i++)
    {
      MsAccount *account = ms_account_new (accounts, g_steal_pointer (&data->pdata[i]));

      g_ptr_array_add (accounts->accounts, account);
      /* Before the main loop runs nobody can have asked for objects yet;
       * a caller learns of these from GetManagedObjects, so a thousand
       * InterfacesAdded would only delay its answer. */
      ms_account_export (account, accounts->service, FALSE);
    }
  g_ptr_array_set_free_func (data, NULL);

  g_debug ("Loaded %u accounts", accounts->accounts->len);

  /* The Secret Service may be slow to start; nobody waits for this. */
  list_secrets (accounts);
}

static void
list_secrets (MsAccounts *accounts)
{
  accounts->list_attempts++;
  accounts->listing = TRUE;
  ms_secret_list_async (NULL, on_secrets_listed, accounts);
}

/* Adding */

typedef struct {
  MsAccounts *accounts;
  MsAccountData *data;
  char *password;
  char *label;
  GError *error;     /* the failure being rolled back */
  char *path;
} Add;

static void
add_free (Add *add)
{
  g_hash_table_remove (add->accounts->pending_ids, add->data->id);
  ms_account_data_free (add->data);
  ms_password_free (add->password);
  g_clear_error (&add->error);
  g_free (add->label);
  g_free (add->path);
  g_free (add);
}

static void
on_add_rolled_back (GObject *source,
                    GAsyncResult *result,
                    gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Add *add = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  /* If even this fails, the next start-up removes the orphan. */
  if (!ms_secret_clear_finish (result, &error))
    g_warning ("Could not remove the password of account %s after a failed add: %s",
               add->data->id, error->message);

  g_task_return_error (task, g_steal_pointer (&add->error));
}

static void
on_add_saved (GObject *source,
              GAsyncResult *result,
              gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Add *add = g_task_get_task_data (task);
  MsAccounts *accounts = add->accounts;
  g_autoptr(GError) error = NULL;
  MsAccount *account;

  g_ptr_array_remove (accounts->adding, add->data);
  if (!ms_account_file_save_finish (accounts->file, result, &error))
    {
      add->error = g_error_new (MS_ERROR, MS_ERROR_ACCOUNT_FILE_UNWRITABLE,
                                _("Could not save the account: %s"), error->message);
      /* A save queued meanwhile may have written it after all. */
      ms_accounts_save_soon (accounts);
      ms_secret_clear_async (add->data->id, add->data->address, NULL,
                             on_add_rolled_back, g_steal_pointer (&task));
      return;
    }

  account = ms_account_new (accounts, ms_account_data_copy (add->data));
  ms_account_set_status (account, MS_STATUS_OK, _("Signed in when the account was added."));
  g_ptr_array_add (accounts->accounts, account);
  ms_account_export (account, accounts->service, TRUE);

  add->path = g_strdup (bus_object_get_path (account->object));
  g_task_return_boolean (task, TRUE);
}

static void
on_add_stored (GObject *source,
               GAsyncResult *result,
               gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Add *add = g_task_get_task_data (task);
  g_autoptr(GPtrArray) data = NULL;
  GError *error = NULL;

  if (!ms_secret_store_finish (result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* From here on the account is completed even if the caller leaves:
   * undoing a half-finished add is riskier than finishing it. */
  g_ptr_array_add (add->accounts->adding, add->data);
  data = snapshot (add->accounts);
  ms_account_file_save_async (add->accounts->file, data, NULL, on_add_saved,
                              g_steal_pointer (&task));
}

void
ms_accounts_add_async (MsAccounts *accounts,
                       MsValidation *validation,
                       const char *password,
                       const char *display_name,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Add *add = g_new0 (Add, 1);
  MsAccountData *data = ms_account_data_new ();
  MsAttempt *imap = validation->imap;
  MsAttempt *smtp = validation->smtp;

  g_task_set_source_tag (task, ms_accounts_add_async);
  g_task_set_check_cancellable (task, FALSE);

  data->id = ms_account_id_new ();
  data->address = g_strdup (validation->address);
  data->provider = g_strdup (validation->provider->id);
  data->display_name = g_strdup (display_name);
  data->login = g_strdup (validation->login);
  /* The account keeps what worked, not what the provider file suggests. */
  data->imap = ms_endpoint_new (imap->endpoint->hostname, imap->endpoint->port,
                                imap->endpoint->security, imap->username);
  data->smtp = ms_endpoint_new (smtp->endpoint->hostname, smtp->endpoint->port,
                                smtp->endpoint->security, smtp->username);
  data->smtp_max_message_size = smtp->result.max_message_size;
  data->last_checked = g_get_real_time () / G_USEC_PER_SEC;

  add->accounts = accounts;
  add->data = data;
  add->password = ms_password_dup (password);
  add->label = ms_account_secret_label (validation->provider, data->address);
  g_hash_table_add (accounts->pending_ids, g_strdup (data->id));
  g_task_set_task_data (task, add, (GDestroyNotify) add_free);

  /* Not cancellable: a caller who leaves now could otherwise leave a
   * stored secret behind with no account (the keyring may finish what it
   * was asked even when we stop listening). */
  ms_secret_store_async (data->id, data->address, add->label, add->password,
                         NULL, on_add_stored, task);
}

const char *
ms_accounts_add_finish (MsAccounts *accounts,
                        GAsyncResult *result,
                        GError **error)
{
  Add *add = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;

  return add->path;
}

/* Removing */

typedef struct {
  MsAccounts *accounts;
  MsAccount *account;
} Remove;

static void
remove_free (Remove *remove)
{
  ms_account_unref (remove->account);
  g_free (remove);
}

static void
on_remove_secret_cleared (GObject *source,
                          GAsyncResult *result,
                          gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Remove *remove = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  /* The account is gone from the file; a secret left behind is removed at
   * the next start-up, so this is not the caller's failure. */
  if (!ms_secret_clear_finish (result, &error))
    g_warning ("Could not remove the password of %s yet: %s",
               remove->account->data->address, error->message);
  g_hash_table_remove (remove->accounts->pending_ids, remove->account->data->id);
  if (remove->accounts->listing)
    g_hash_table_add (remove->accounts->removed_while_listing,
                      g_strdup (remove->account->data->id));

  g_task_return_boolean (task, TRUE);
}

static void
on_remove_saved (GObject *source,
                 GAsyncResult *result,
                 gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Remove *remove = g_task_get_task_data (task);
  MsAccounts *accounts = remove->accounts;
  MsAccount *account = remove->account;
  g_autoptr(GError) error = NULL;

  g_hash_table_remove (accounts->removing, account);
  if (!ms_account_file_save_finish (accounts->file, result, &error))
    {
      /* The account stays; a save queued meanwhile may have left it out. */
      ms_accounts_save_soon (accounts);
      g_task_return_new_error (task, MS_ERROR, MS_ERROR_ACCOUNT_FILE_UNWRITABLE,
                               _("Could not save the account file: %s"), error->message);
      return;
    }

  /* Clearing one secret twice at once trips libsecret (0.20): keep the
   * start-up clean-up away from it. */
  g_hash_table_add (accounts->pending_ids, g_strdup (account->data->id));
  if (g_ptr_array_remove (accounts->accounts, account))
    ms_account_unref (account);
  ms_account_unexport (account);

  ms_secret_clear_async (account->data->id, account->data->address, NULL,
                         on_remove_secret_cleared, g_steal_pointer (&task));
}

static void
on_remove_checked (GObject *source,
                   GAsyncResult *result,
                   gpointer user_data)
{
  GTask *task = user_data;
  Remove *remove = g_task_get_task_data (task);
  MsAccounts *accounts = remove->accounts;
  g_autoptr(GPtrArray) data = NULL;
  GError *error = NULL;

  if (!ms_secret_check_removable_finish (result, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  g_hash_table_add (accounts->removing, remove->account);
  data = snapshot (accounts);
  ms_account_file_save_async (accounts->file, data, NULL, on_remove_saved, task);
}

/* A locked keyring would keep the password after the account is gone, so
 * that is found out first, while nothing has changed yet. */
void
ms_accounts_remove_async (MsAccounts *accounts,
                          MsAccount *account,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  Remove *remove = g_new0 (Remove, 1);

  remove->accounts = accounts;
  remove->account = ms_account_ref (account);
  g_task_set_task_data (task, remove, (GDestroyNotify) remove_free);
  g_task_set_source_tag (task, ms_accounts_remove_async);

  ms_secret_check_removable_async (account->data->id, account->data->address, NULL,
                                   on_remove_checked, task);
}

gboolean
ms_accounts_remove_finish (MsAccounts *accounts,
                           GAsyncResult *result,
                           GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
