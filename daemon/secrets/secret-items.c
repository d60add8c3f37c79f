/* secret-items.c: listing and deleting Secret Service items by their
 * D-Bus paths
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "secret-items.h"

#define SECRET_BUS_NAME "org.freedesktop.secrets"
#define SECRET_PATH "/org/freedesktop/secrets"
#define SECRET_SERVICE_INTERFACE "org.freedesktop.Secret.Service"
#define SECRET_ITEM_INTERFACE "org.freedesktop.Secret.Item"
#define CALL_TIMEOUT_MS 20000

typedef struct {
  GVariant *attributes;  /* a{ss} */
  gboolean count_locked; /* only count the locked items */
  char *key;             /* NULL: delete; else list this attribute */
  GDBusConnection *bus;
  guint pending;
  GPtrArray *values;
  GError *error;
} Walk;

static void
walk_free (Walk *walk)
{
  g_clear_pointer (&walk->attributes, g_variant_unref);
  g_free (walk->key);
  g_clear_object (&walk->bus);
  g_clear_pointer (&walk->values, g_ptr_array_unref);
  g_clear_error (&walk->error);
  g_free (walk);
}

/* An item that went away meanwhile is what a deletion wanted anyway, and
 * nothing a listing needs. */
static gboolean
item_gone (const GError *error)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);

  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
         g_strcmp0 (remote, "org.freedesktop.Secret.Error.NoSuchObject") == 0;
}

static void
step_done (GTask *task,
           GError *error)
{
  Walk *walk = g_task_get_task_data (task);

  if (error != NULL && !item_gone (error) && walk->error == NULL)
    walk->error = g_steal_pointer (&error);
  g_clear_error (&error);

  if (--walk->pending > 0)
    return;

  if (walk->error != NULL)
    g_task_return_error (task, g_steal_pointer (&walk->error));
  else if (walk->key != NULL)
    g_task_return_pointer (task, g_steal_pointer (&walk->values),
                           (GDestroyNotify) g_ptr_array_unref);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_item_answered (GObject *source,
                  GAsyncResult *result,
                  gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Walk *walk = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  /* A listing reads the item's Attributes property. */
  if (reply != NULL && walk->key != NULL)
    {
      g_autoptr(GVariant) boxed = NULL;
      g_autoptr(GVariant) attributes = NULL;
      const char *value;

      g_variant_get (reply, "(v)", &boxed);
      attributes = g_variant_is_of_type (boxed, G_VARIANT_TYPE ("a{ss}"))
                   ? g_variant_ref (boxed) : NULL;
      if (attributes != NULL && g_variant_lookup (attributes, walk->key, "&s", &value))
        g_ptr_array_add (walk->values, g_strdup (value));
    }

  step_done (task, error);
}

static void
visit (GTask *task,
       const char *path)
{
  Walk *walk = g_task_get_task_data (task);

  walk->pending++;
  if (walk->key != NULL)
    g_dbus_connection_call (walk->bus, SECRET_BUS_NAME, path,
                            "org.freedesktop.DBus.Properties", "Get",
                            g_variant_new ("(ss)", SECRET_ITEM_INTERFACE, "Attributes"),
                            G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS,
                            g_task_get_cancellable (task), on_item_answered,
                            g_object_ref (task));
  else
    /* gnome-keyring deletes without a prompt; a service that asks for
     * one leaves the item, which a later start-up tries again. */
    g_dbus_connection_call (walk->bus, SECRET_BUS_NAME, path, SECRET_ITEM_INTERFACE,
                            "Delete", NULL, G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE,
                            CALL_TIMEOUT_MS, g_task_get_cancellable (task), on_item_answered,
                            g_object_ref (task));
}

static void
on_searched (GObject *source,
             GAsyncResult *result,
             gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Walk *walk = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = NULL;
  g_autofree const char **unlocked = NULL;
  g_autofree const char **locked = NULL;
  GError *error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_variant_get (reply, "(^a&o^a&o)", &unlocked, &locked);
  if (walk->count_locked)
    {
      g_task_return_int (task, g_strv_length ((char **) locked));
      return;
    }

  /* Counts as one step until every item's call is out. */
  walk->pending = 1;
  for (gsize i = 0; unlocked[i] != NULL; i++)
    visit (task, unlocked[i]);
  for (gsize i = 0; locked[i] != NULL; i++)
    visit (task, locked[i]);
  step_done (task, NULL);
}

static void
on_bus (GObject *source,
        GAsyncResult *result,
        gpointer user_data)
{
  GTask *task = user_data;
  Walk *walk = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;

  walk->bus = g_bus_get_finish (result, &error);
  if (walk->bus == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  g_dbus_connection_call (walk->bus, SECRET_BUS_NAME, SECRET_PATH, SECRET_SERVICE_INTERFACE,
                          "SearchItems", g_variant_new ("(@a{ss})", walk->attributes),
                          G_VARIANT_TYPE ("(aoao)"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS,
                          cancellable, on_searched, task);
}

static void
walk_async (GHashTable *attributes,
            gboolean count_locked,
            const char *key,
            GCancellable *cancellable,
            GAsyncReadyCallback callback,
            gpointer user_data,
            gpointer source_tag)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Walk *walk = g_new0 (Walk, 1);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{ss}"));
  GHashTableIter iter;
  const char *name, *value;

  g_hash_table_iter_init (&iter, attributes);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, (gpointer *) &value))
    g_variant_builder_add (&builder, "{ss}", name, value);

  walk->attributes = g_variant_ref_sink (g_variant_builder_end (&builder));
  walk->count_locked = count_locked;
  walk->key = g_strdup (key);
  walk->values = g_ptr_array_new_with_free_func (g_free);
  g_task_set_task_data (task, walk, (GDestroyNotify) walk_free);
  g_task_set_source_tag (task, source_tag);

  g_bus_get (G_BUS_TYPE_SESSION, cancellable, on_bus, task);
}

void
ms_secret_items_delete_async (GHashTable *attributes,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  walk_async (attributes, FALSE, NULL, cancellable, callback, user_data,
              ms_secret_items_delete_async);
}

gboolean
ms_secret_items_delete_finish (GAsyncResult *result,
                               GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ms_secret_items_list_async (GHashTable *attributes,
                            const char *key,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  walk_async (attributes, FALSE, key, cancellable, callback, user_data,
              ms_secret_items_list_async);
}

GPtrArray *
ms_secret_items_list_finish (GAsyncResult *result,
                             GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
ms_secret_items_count_locked_async (GHashTable *attributes,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  walk_async (attributes, TRUE, NULL, cancellable, callback, user_data,
              ms_secret_items_count_locked_async);
}

gssize
ms_secret_items_count_locked_finish (GAsyncResult *result,
                                     GError **error)
{
  return g_task_propagate_int (G_TASK (result), error);
}
