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

/* Turns what libsecret or D-Bus said into one error a person can act on;
 * @doing says what we were doing ("store", …). */
static GError *
unavailable (GError *error,
             const char *doing)
{
  g_autoptr(GError) owned = error;
  g_autofree char *remote = owned ? g_dbus_error_get_remote_error (owned) : NULL;

  if (owned == NULL)
    return g_error_new (MS_ERROR, MS_ERROR_SECRET_STORE_UNAVAILABLE,
                        _("Could not %s the password: the keyring is locked and "
                          "was not unlocked. Unlock it (for example in Passwords "
                          "and Keys) and try again."), doing);

  if (g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_new_literal (MS_ERROR, MS_ERROR_CANCELLED, _("The request was cancelled."));

  if (g_error_matches (owned, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (owned, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
      g_error_matches (owned, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND) ||
      g_error_matches (owned, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED))
    return g_error_new (MS_ERROR, MS_ERROR_SECRET_STORE_UNAVAILABLE,
                        _("Could not %s the password: no Secret Service is running "
                          "in this session. Start one, such as GNOME Keyring or "
                          "KeePassXC with Secret Service integration, and try again."),
                        doing);

  if (g_error_matches (owned, SECRET_ERROR, SECRET_ERROR_IS_LOCKED) ||
      g_strcmp0 (remote, "org.freedesktop.Secret.Error.IsLocked") == 0)
    return g_error_new (MS_ERROR, MS_ERROR_SECRET_STORE_UNAVAILABLE,
                        _("Could not %s the password: the keyring is locked. Unlock "
                          "it (for example in Passwords and Keys) and try again."),
                        doing);

  return g_error_new (MS_ERROR, MS_ERROR_SECRET_STORE_UNAVAILABLE,
                      _("Could not %s the password: the Secret Service refused (%s)."),
                      doing, owned->message);
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
    g_task_return_error (task, unavailable (error, _("store")));
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
      g_task_return_error (task, unavailable (error, _("look up")));
      return;
    }

  /* Our copy is wiped by ms_password_free(); libsecret's own buffer is
   * wiped by secret_password_free(). */
  g_task_return_pointer (task, password ? ms_password_dup (password) : NULL,
                         (GDestroyNotify) ms_password_free);
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

/* Removing is done item by item rather than with secret_password_clear():
 * libsecret 0.20 answers that call twice when an item vanishes between its
 * search and its deletion (another removal, or the person in Seahorse),
 * and an item that is already gone is what we wanted anyway. */
typedef struct {
  guint deleting;
  GError *error;
} Clear;

static void
clear_free (Clear *clear)
{
  g_clear_error (&clear->error);
  g_free (clear);
}

static void
clear_done (GTask *task)
{
  Clear *clear = g_task_get_task_data (task);

  if (clear->error != NULL)
    g_task_return_error (task, unavailable (g_steal_pointer (&clear->error), _("remove")));
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_item_deleted (GObject *source,
                 GAsyncResult *result,
                 gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Clear *clear = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!secret_item_delete_finish (SECRET_ITEM (source), result, &error) &&
      !g_error_matches (error, SECRET_ERROR, SECRET_ERROR_NO_SUCH_OBJECT) &&
      !g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) &&
      !g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) &&
      clear->error == NULL)
    clear->error = g_steal_pointer (&error);

  if (--clear->deleting == 0)
    clear_done (task);
}

static void
on_items_to_clear (GObject *source,
                   GAsyncResult *result,
                   gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Clear *clear = g_task_get_task_data (task);
  GError *error = NULL;
  GList *items = secret_password_search_finish (result, &error);

  if (error != NULL)
    {
      g_task_return_error (task, unavailable (error, _("remove")));
      return;
    }

  for (GList *l = items; l != NULL; l = l->next)
    if (SECRET_IS_ITEM (l->data))
      {
        clear->deleting++;
        secret_item_delete (l->data, g_task_get_cancellable (task), on_item_deleted,
                            g_object_ref (task));
      }
  g_list_free_full (items, g_object_unref);

  /* No password stored is not an error. */
  if (clear->deleting == 0)
    clear_done (task);
}

static void
clear_matching (GHashTable *attributes,
                GCancellable *cancellable,
                GAsyncReadyCallback callback,
                gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, clear_matching);
  g_task_set_task_data (task, g_new0 (Clear, 1), (GDestroyNotify) clear_free);
  secret_password_searchv (ms_secret_get_schema (), attributes, SECRET_SEARCH_ALL,
                           cancellable, on_items_to_clear, task);
}

void
ms_secret_clear_async (const char *account_id,
                       const char *address,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_autoptr(GHashTable) attributes = secret_attributes_build (ms_secret_get_schema (),
                                                              "address", address,
                                                              "account-id", account_id,
                                                              NULL);

  clear_matching (attributes, cancellable, callback, user_data);
}

void
ms_secret_clear_id_async (const char *account_id,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr(GHashTable) attributes = secret_attributes_build (ms_secret_get_schema (),
                                                              "account-id", account_id,
                                                              NULL);

  clear_matching (attributes, cancellable, callback, user_data);
}

gboolean
ms_secret_clear_finish (GAsyncResult *result,
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
  GList *items = secret_password_search_finish (result, &error);
  GPtrArray *ids;

  if (error != NULL)
    {
      g_task_return_error (task, unavailable (error, _("list")));
      return;
    }

  ids = g_ptr_array_new_with_free_func (g_free);
  for (GList *l = items; l != NULL; l = l->next)
    {
      g_autoptr(GHashTable) attributes = secret_retrievable_get_attributes (l->data);
      const char *id = g_hash_table_lookup (attributes, "account-id");

      if (id != NULL)
        g_ptr_array_add (ids, g_strdup (id));
    }
  g_list_free_full (items, g_object_unref);

  g_task_return_pointer (task, ids, (GDestroyNotify) g_ptr_array_unref);
}

void
ms_secret_list_async (GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, ms_secret_list_async);
  /* Only unlocked items are listed: a locked keyring is not unlocked for
   * a clean-up nobody asked for. */
  secret_password_search (ms_secret_get_schema (), SECRET_SEARCH_ALL, cancellable,
                          on_listed, task, NULL);
}

GPtrArray *
ms_secret_list_finish (GAsyncResult *result,
                       GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
