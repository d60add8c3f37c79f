/* secret-store.c: account passwords in the Secret Service, through
 * libsecret's asynchronous calls only
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "secret-store.h"

#include <glib/gi18n.h>

#include "mailsetup-error.h"
#include "password.h"
#include "secret-items.h"

const SecretSchema *
ms_secret_get_schema (void)
{
  static const SecretSchema schema = {
    MS_SECRET_SCHEMA_NAME, SECRET_SCHEMA_NONE,
    {
      { "address", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "account-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

/* What failed, as a whole sentence of its own: a verb slotted into a
 * sentence cannot be translated well. */
typedef enum {
  STORING,
  LOOKING_UP,
  REMOVING,
  LISTING,
} SecretStep;

static const char *
step_failed (SecretStep step)
{
  switch (step)
    {
    case STORING:
      return _("Could not store the password.");
    case LOOKING_UP:
      return _("Could not look up the password.");
    case REMOVING:
      return _("Could not remove the password.");
    case LISTING:
      return _("Could not list the stored passwords.");
    default:
      g_assert_not_reached ();
    }
}

/* Why the Secret Service failed, as a sentence a person can act on. */
static char *
failure_cause (GError *error)
{
  g_autofree char *remote = error ? g_dbus_error_get_remote_error (error) : NULL;

  if (error == NULL)
    return g_strdup (_("The keyring is locked and was not unlocked. Unlock it (for "
                       "example in Passwords and Keys) and try again."));

  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED))
    return g_strdup (_("No Secret Service is running in this session. Start one, such "
                       "as GNOME Keyring or KeePassXC with Secret Service integration, "
                       "and try again."));

  if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED) ||
      g_strcmp0 (remote, "org.freedesktop.Secret.Error.IsLocked") == 0)
    return g_strdup (_("The keyring is locked. Unlock it (for example in Passwords and "
                       "Keys) and try again."));

  return g_strdup_printf (_("The Secret Service refused (%s)."), error->message);
}

/* Turns what libsecret or D-Bus said while doing @step into one error a
 * person can act on. */
static GError *
unavailable (GError *error,
             SecretStep step)
{
  g_autoptr(GError) owned = error;
  g_autofree char *cause = NULL;

  if (g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_new_literal (MS_ERROR, MS_ERROR_CANCELLED, _("The request was cancelled."));

  cause = failure_cause (owned);
  return g_error_new (MS_ERROR, MS_ERROR_SECRET_STORE_UNAVAILABLE,
                      /* TRANSLATORS: what failed, then why; both are whole
                       * sentences.  Drop the space if your language puts
                       * none between sentences. */
                      _("%s %s"), step_failed (step), cause);
}

/* The attributes of the account's items, as libsecret stores them;
 * without @address, those of any address (transfer full). */
static GHashTable *
account_attributes (const char *account_id,
                    const char *address)
{
  GHashTable *attributes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_hash_table_insert (attributes, g_strdup ("xdg:schema"), g_strdup (MS_SECRET_SCHEMA_NAME));
  g_hash_table_insert (attributes, g_strdup ("account-id"), g_strdup (account_id));
  if (address != NULL)
    g_hash_table_insert (attributes, g_strdup ("address"), g_strdup (address));
  return attributes;
}

static void
on_stored (GObject *source,
           GAsyncResult *result,
           gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (secret_password_store_finish (result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, unavailable (error, STORING));
}

void
ms_secret_store_async (const char *account_id,
                       const char *address,
                       const char *label,
                       const char *password,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, ms_secret_store_async);
  secret_password_store (ms_secret_get_schema (), SECRET_COLLECTION_DEFAULT, label,
                         password, cancellable, on_stored, task,
                         "address", address, "account-id", account_id, NULL);
}

gboolean
ms_secret_store_finish (GAsyncResult *result,
                        GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Whether none of the items counted in @result is locked; else an error
 * for @step.  With @unlock_tried, libsecret already asked to unlock. */
static gboolean
none_locked (GAsyncResult *result,
             SecretStep step,
             gboolean unlock_tried,
             GError **error)
{
  GError *failure = NULL;
  gssize locked = ms_secret_items_count_locked_finish (result, &failure);

  if (locked < 0)
    {
      g_propagate_error (error, unavailable (failure, step));
      return FALSE;
    }
  if (locked > 0)
    {
      failure = unlock_tried ? NULL : g_error_new_literal (SECRET_ERROR, SECRET_ERROR_IS_LOCKED,
                                                            "locked");
      g_propagate_error (error, unavailable (failure, step));
      return FALSE;
    }

  return TRUE;
}

static void
on_lookup_locked_counted (GObject *source,
                          GAsyncResult *result,
                          gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (none_locked (result, LOOKING_UP, TRUE, &error))
    g_task_return_pointer (task, NULL, NULL);
  else
    g_task_return_error (task, error);
}

static void
on_looked_up (GObject *source,
              GAsyncResult *result,
              gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *password = secret_password_lookup_finish (result, &error);

  if (error != NULL)
    {
      g_task_return_error (task, unavailable (error, LOOKING_UP));
      return;
    }

  /* No password, or one in a keyring that stayed locked: libsecret
   * answers both with nothing, but only the first means "set it again". */
  if (password == NULL)
    {
      const char **ids = g_task_get_task_data (task);
      g_autoptr(GHashTable) attributes = account_attributes (ids[0], ids[1]);
      GCancellable *cancellable = g_task_get_cancellable (task);

      ms_secret_items_count_locked_async (attributes, cancellable, on_lookup_locked_counted,
                                          g_steal_pointer (&task));
      return;
    }

  /* Our copy is wiped by ms_password_free(); libsecret's own buffer is
   * wiped by secret_password_free(). */
  g_task_return_pointer (task, ms_password_dup (password), (GDestroyNotify) ms_password_free);
  secret_password_free (password);
}

void
ms_secret_lookup_async (const char *account_id,
                        const char *address,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  char **ids = g_new0 (char *, 3);

  ids[0] = g_strdup (account_id);
  ids[1] = g_strdup (address);
  g_task_set_task_data (task, ids, (GDestroyNotify) g_strfreev);
  g_task_set_source_tag (task, ms_secret_lookup_async);
  secret_password_lookup (ms_secret_get_schema (), cancellable, on_looked_up, task,
                          "address", address, "account-id", account_id, NULL);
}

char *
ms_secret_lookup_finish (GAsyncResult *result,
                         GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_items_deleted (GObject *source,
                  GAsyncResult *result,
                  gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (ms_secret_items_delete_finish (result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, unavailable (error, REMOVING));
}

/* Not secret_password_clear(): see secret-items.h. */
static void
clear_matching (GHashTable *attributes,
                GCancellable *cancellable,
                GAsyncReadyCallback callback,
                gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, clear_matching);
  ms_secret_items_delete_async (attributes, cancellable, on_items_deleted, task);
}

void
ms_secret_clear_async (const char *account_id,
                       const char *address,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_autoptr(GHashTable) attributes = account_attributes (account_id, address);

  clear_matching (attributes, cancellable, callback, user_data);
}

void
ms_secret_clear_id_async (const char *account_id,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr(GHashTable) attributes = account_attributes (account_id, NULL);

  clear_matching (attributes, cancellable, callback, user_data);
}

gboolean
ms_secret_clear_finish (GAsyncResult *result,
                        GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_remove_locked_counted (GObject *source,
                          GAsyncResult *result,
                          gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (none_locked (result, REMOVING, FALSE, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
ms_secret_check_removable_async (const char *account_id,
                                 const char *address,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GHashTable) attributes = account_attributes (account_id, address);

  g_task_set_source_tag (task, ms_secret_check_removable_async);
  ms_secret_items_count_locked_async (attributes, cancellable, on_remove_locked_counted, task);
}

gboolean
ms_secret_check_removable_finish (GAsyncResult *result,
                                  GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_listed (GObject *source,
           GAsyncResult *result,
           gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GPtrArray *ids = ms_secret_items_list_finish (result, &error);

  if (ids == NULL)
    g_task_return_error (task, unavailable (error, LISTING));
  else
    g_task_return_pointer (task, ids, (GDestroyNotify) g_ptr_array_unref);
}

void
ms_secret_list_async (GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_task_set_source_tag (task, ms_secret_list_async);
  /* Locked items too: their attributes are readable, and a locked
   * keyring is not unlocked for a clean-up nobody asked for. */
  g_hash_table_insert (attributes, "xdg:schema", MS_SECRET_SCHEMA_NAME);
  ms_secret_items_list_async (attributes, "account-id", cancellable, on_listed, task);
}

GPtrArray *
ms_secret_list_finish (GAsyncResult *result,
                       GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
