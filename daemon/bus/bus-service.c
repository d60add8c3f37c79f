/* bus-service.c: the object registry and the dispatch of method calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "bus-private.h"
#include "bus-variant.h"

#include <string.h>

static void
bus_object_free (BusObject *object)
{
  g_array_unref (object->interfaces);
  g_clear_pointer (&object->changed, g_hash_table_unref);
  g_free (object->path);
  g_free (object);
}

void
bus_service_send (BusService *service,
                  DBusMessage *message)
{
  if (!dbus_connection_send (service->connection, message, NULL))
    g_error ("Out of memory");
  dbus_message_unref (message);
}

const BusInterface *
bus_object_find_interface (BusObject *object,
                           const char *name)
{
  for (guint i = 0; i < object->interfaces->len; i++)
    {
      const BusInterface *iface = &g_array_index (object->interfaces, BusInterface, i);

      if (strcmp (iface->vtable->name, name) == 0)
        return iface;
    }

  return NULL;
}

static void
reply_error (BusService *service,
             DBusMessage *message,
             GDBusError code,
             const char *format,
             ...) G_GNUC_PRINTF (4, 5);

static void
reply_error (BusService *service,
             DBusMessage *message,
             GDBusError code,
             const char *format,
             ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (G_DBUS_ERROR, code, format, args);
  va_end (args);

  bus_service_send_error (service, message, error);
}

/* The object manager that @path is announced by, if any: the nearest one
 * above it.  Walking up the path keeps this O(depth), not O(objects). */
static BusObject *
find_object_manager (BusService *service,
                     const char *path)
{
  g_autofree char *ancestor = g_strdup (path);
  char *slash;

  while ((slash = strrchr (ancestor, '/')) != NULL)
    {
      BusObject *object;

      if (slash != ancestor)
        *slash = '\0';
      else if (ancestor[1] != '\0')
        ancestor[1] = '\0';
      else
        break;

      object = g_hash_table_lookup (service->objects, ancestor);
      if (object != NULL && object->object_manager)
        return object;
    }

  return NULL;
}

/* a{sa{sv}}: every interface of @object with its properties. */
static GVariant *
interfaces_and_properties (BusObject *object)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sa{sv}}"));

  for (guint i = 0; i < object->interfaces->len; i++)
    {
      const BusInterface *iface = &g_array_index (object->interfaces, BusInterface, i);

      g_variant_builder_add (&builder, "{s@a{sv}}", iface->info->name,
                             bus_properties_get_all (object, iface));
    }

  return g_variant_builder_end (&builder);
}

static void
handle_get_managed_objects (BusObject *manager,
                            DBusMessage *message)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  GHashTableIter iter;
  BusObject *object;
  DBusMessage *reply;

  g_hash_table_iter_init (&iter, manager->service->objects);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &object))
    if (find_object_manager (manager->service, object->path) == manager)
      g_variant_builder_add (&builder, "{o@a{sa{sv}}}", object->path,
                             interfaces_and_properties (object));

  reply = dbus_message_new_method_return (message);
  bus_message_append_body (reply, g_variant_new ("(@a{oa{sa{sv}}})",
                                                 g_variant_builder_end (&builder)));
  bus_service_send (manager->service, reply);
}

static void
handle_introspect (BusService *service,
                   DBusMessage *message)
{
  g_autofree char *xml = bus_introspect_xml (service, dbus_message_get_path (message));
  DBusMessage *reply = dbus_message_new_method_return (message);

  bus_message_append_body (reply, g_variant_new ("(s)", xml));
  bus_service_send (service, reply);
}

static gboolean
signature_is (DBusMessage *message,
              const char *expected)
{
  return strcmp (dbus_message_get_signature (message), expected) == 0;
}

/* Finds the method @member of @interface (any of ours when NULL). */
static const BusInterface *
find_method (BusObject *object,
             const char *interface,
             const char *member,
             const BusMethod **method_out,
             GDBusMethodInfo **info_out)
{
  for (guint i = 0; i < object->interfaces->len; i++)
    {
      const BusInterface *iface = &g_array_index (object->interfaces, BusInterface, i);

      if (interface != NULL && strcmp (iface->info->name, interface) != 0)
        continue;

      for (const BusMethod *m = iface->vtable->methods; m && m->name; m++)
        if (strcmp (m->name, member) == 0)
          {
            *method_out = m;
            *info_out = g_dbus_interface_info_lookup_method (iface->info, member);
            return iface;
          }
    }

  return NULL;
}

static void
handle_method (BusObject *object,
               DBusMessage *message)
{
  BusService *service = object->service;
  const char *interface = dbus_message_get_interface (message);
  const char *member = dbus_message_get_member (message);
  const BusMethod *method = NULL;
  GDBusMethodInfo *info = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GVariant) parameters = NULL;
  g_autoptr(GError) error = NULL;
  BusCall *call;

  if (find_method (object, interface, member, &method, &info) == NULL)
    {
      if (interface != NULL && bus_object_find_interface (object, interface) == NULL)
        reply_error (service, message, G_DBUS_ERROR_UNKNOWN_INTERFACE,
                     "Object %s has no interface %s", object->path, interface);
      else
        reply_error (service, message, G_DBUS_ERROR_UNKNOWN_METHOD,
                     "No method %s%s%s on object %s",
                     interface ? interface : "", interface ? "." : "",
                     member, object->path);
      return;
    }

  /* Checked here so that no handler ever sees arguments it did not ask for. */
  expected = bus_introspect_signature (info->in_args);
  if (!signature_is (message, expected))
    {
      reply_error (service, message, G_DBUS_ERROR_INVALID_ARGS,
                   "%s takes arguments of type (%s), not (%s)",
                   member, expected, dbus_message_get_signature (message));
      return;
    }

  parameters = bus_message_get_body (message, &error);
  if (parameters == NULL)
    {
      bus_service_send_error (service, message, error);
      return;
    }

  call = bus_call_new (object, message);
  service->dispatching = call;
  method->handler (call, parameters, object->user_data);
  if (service->dispatching == call)
    bus_call_watch_caller (call);
  service->dispatching = NULL;
}

static void
dispatch_call (BusService *service,
               DBusMessage *message)
{
  const char *path = dbus_message_get_path (message);
  const char *interface = dbus_message_get_interface (message);
  const char *member = dbus_message_get_member (message);
  BusObject *object;

  if (g_strcmp0 (interface, BUS_INTERFACE_INTROSPECTABLE) == 0 ||
      (interface == NULL && strcmp (member, "Introspect") == 0))
    {
      if (strcmp (member, "Introspect") != 0)
        reply_error (service, message, G_DBUS_ERROR_UNKNOWN_METHOD,
                     "No method %s.%s", BUS_INTERFACE_INTROSPECTABLE, member);
      else if (!signature_is (message, ""))
        reply_error (service, message, G_DBUS_ERROR_INVALID_ARGS,
                     "Introspect takes no arguments");
      else
        handle_introspect (service, message);
      return;
    }

  object = g_hash_table_lookup (service->objects, path);
  if (object == NULL)
    {
      reply_error (service, message, G_DBUS_ERROR_UNKNOWN_OBJECT,
                   "No object at %s", path);
      return;
    }

  if (g_strcmp0 (interface, BUS_INTERFACE_PROPERTIES) == 0)
    {
      bus_properties_handle (object, message);
      return;
    }

  if (object->object_manager &&
      (g_strcmp0 (interface, BUS_INTERFACE_OBJECT_MANAGER) == 0 ||
       (interface == NULL && strcmp (member, "GetManagedObjects") == 0)))
    {
      if (strcmp (member, "GetManagedObjects") != 0)
        reply_error (service, message, G_DBUS_ERROR_UNKNOWN_METHOD,
                     "No method %s.%s", BUS_INTERFACE_OBJECT_MANAGER, member);
      else if (!signature_is (message, ""))
        reply_error (service, message, G_DBUS_ERROR_INVALID_ARGS,
                     "GetManagedObjects takes no arguments");
      else
        handle_get_managed_objects (object, message);
      return;
    }

  handle_method (object, message);
}

/* Caller checks */

/* Forgetting every uid now and then keeps the cache small; unique names
 * are never reused, so a stale entry is never wrong, only useless. */
#define MAX_CACHED_CALLERS 4096

/* @uid_plus_one is 0 when the bus could not tell the caller's user. */
static void
serve_checked (BusService *service,
               DBusMessage *message,
               guint uid_plus_one)
{
  if (uid_plus_one == 0 || uid_plus_one - 1 != service->allowed_uid)
    bus_service_send_error (service, message, service->denial);
  else
    dispatch_call (service, message);
}

typedef struct {
  BusService *service;
  char *sender;
} UidLookup;

static void
uid_lookup_free (void *data)
{
  UidLookup *lookup = data;

  g_free (lookup->sender);
  g_free (lookup);
}

static void
on_caller_uid (DBusPendingCall *pending,
               void *user_data)
{
  UidLookup *lookup = user_data;
  BusService *service = lookup->service;
  DBusMessage *reply = dbus_pending_call_steal_reply (pending);
  dbus_uint32_t uid = 0;
  guint uid_plus_one = 0;
  GQueue *queue = NULL;
  g_autofree char *waiting_sender = NULL;
  DBusMessage *message;

  if (dbus_message_get_type (reply) == DBUS_MESSAGE_TYPE_METHOD_RETURN &&
      dbus_message_get_args (reply, NULL, DBUS_TYPE_UINT32, &uid, DBUS_TYPE_INVALID))
    {
      uid_plus_one = uid + 1;
      if (g_hash_table_size (service->caller_uids) >= MAX_CACHED_CALLERS)
        g_hash_table_remove_all (service->caller_uids);
      g_hash_table_insert (service->caller_uids, g_strdup (lookup->sender),
                           GUINT_TO_POINTER (uid_plus_one));
    }
  dbus_message_unref (reply);

  /* The calls that waited, in the order they came. */
  g_hash_table_steal_extended (service->waiting, lookup->sender,
                               (gpointer *) &waiting_sender, (gpointer *) &queue);
  while (queue != NULL && (message = g_queue_pop_head (queue)) != NULL)
    {
      serve_checked (service, message, uid_plus_one);
      dbus_message_unref (message);
    }
  if (queue != NULL)
    g_queue_free (queue);
}

static void
ask_caller_uid (BusService *service,
                const char *sender)
{
  DBusMessage *call = dbus_message_new_method_call (DBUS_SERVICE_DBUS, DBUS_PATH_DBUS,
                                                    DBUS_INTERFACE_DBUS,
                                                    "GetConnectionUnixUser");
  DBusPendingCall *pending = NULL;
  UidLookup *lookup = g_new0 (UidLookup, 1);

  lookup->service = service;
  lookup->sender = g_strdup (sender);

  if (call == NULL ||
      !dbus_message_append_args (call, DBUS_TYPE_STRING, &sender, DBUS_TYPE_INVALID) ||
      !dbus_connection_send_with_reply (service->connection, call, &pending,
                                        DBUS_TIMEOUT_USE_DEFAULT) ||
      pending == NULL ||
      !dbus_pending_call_set_notify (pending, on_caller_uid, lookup, uid_lookup_free))
    g_error ("Out of memory or no bus connection");

  dbus_pending_call_unref (pending);
  dbus_message_unref (call);
}

static DBusHandlerResult
handle_message (DBusConnection *connection,
                DBusMessage *message,
                void *user_data)
{
  BusService *service = user_data;
  const char *sender = dbus_message_get_sender (message);
  GQueue *queue;

  if (dbus_message_get_type (message) != DBUS_MESSAGE_TYPE_METHOD_CALL)
    return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;

  /* A peer-to-peer connection has no sender; libdbus checked its user. */
  if (!service->restricted || sender == NULL)
    {
      dispatch_call (service, message);
      return DBUS_HANDLER_RESULT_HANDLED;
    }

  if (g_hash_table_contains (service->caller_uids, sender))
    {
      serve_checked (service, message,
                     GPOINTER_TO_UINT (g_hash_table_lookup (service->caller_uids, sender)));
      return DBUS_HANDLER_RESULT_HANDLED;
    }

  queue = g_hash_table_lookup (service->waiting, sender);
  if (queue == NULL)
    {
      queue = g_queue_new ();
      g_hash_table_insert (service->waiting, g_strdup (sender), queue);
      ask_caller_uid (service, sender);
    }
  g_queue_push_tail (queue, dbus_message_ref (message));

  return DBUS_HANDLER_RESULT_HANDLED;
}

void
bus_service_restrict_to_user (BusService *service,
                              uid_t uid,
                              const GError *denial)
{
  service->restricted = TRUE;
  service->allowed_uid = uid;
  g_clear_error (&service->denial);
  service->denial = g_error_copy (denial);
}


/* A caller that leaves the bus cancels what it asked for. */
static DBusHandlerResult
filter_name_owner_changed (DBusConnection *connection,
                           DBusMessage *message,
                           void *user_data)
{
  BusService *service = user_data;
  const char *name, *old_owner, *new_owner;

  if (dbus_message_is_signal (message, DBUS_INTERFACE_DBUS, "NameOwnerChanged") &&
      g_strcmp0 (dbus_message_get_sender (message), DBUS_SERVICE_DBUS) == 0 &&
      dbus_message_get_args (message, NULL,
                             DBUS_TYPE_STRING, &name,
                             DBUS_TYPE_STRING, &old_owner,
                             DBUS_TYPE_STRING, &new_owner,
                             DBUS_TYPE_INVALID) &&
      *new_owner == '\0')
    bus_call_cancel_sender (service, name);

  return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

static void
free_waiting (GQueue *queue)
{
  g_queue_free_full (queue, (GDestroyNotify) dbus_message_unref);
}

static const DBusObjectPathVTable fallback_vtable = {
  .message_function = handle_message,
};

BusService *
bus_service_new (DBusConnection *connection,
                 const char *resource_path,
                 GError **error)
{
  g_autoptr(BusService) service = g_new0 (BusService, 1);

  service->connection = dbus_connection_ref (connection);
  service->interface_info = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                   (GDestroyNotify) g_dbus_interface_info_unref);
  service->objects = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify) bus_object_free);
  service->pending_calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify) g_ptr_array_unref);
  service->changed_objects = g_ptr_array_new ();
  service->caller_uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  service->waiting = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) free_waiting);

  if (!bus_introspect_load (service, resource_path, error))
    return NULL;

  /* One handler below "/" sees every path, so Introspect also works on
   * the nodes that only lead to objects. */
  if (!dbus_connection_register_fallback (connection, "/", &fallback_vtable, service) ||
      !dbus_connection_add_filter (connection, filter_name_owner_changed, service, NULL))
    g_error ("Out of memory");

  return g_steal_pointer (&service);
}

void
bus_service_free (BusService *service)
{
  if (service->connection != NULL)
    {
      dbus_connection_remove_filter (service->connection, filter_name_owner_changed, service);
      dbus_connection_unregister_object_path (service->connection, "/");
      dbus_connection_unref (service->connection);
    }
  if (service->flush_source != NULL)
    {
      g_source_destroy (service->flush_source);
      g_source_unref (service->flush_source);
    }
  g_clear_pointer (&service->changed_objects, g_ptr_array_unref);
  g_clear_pointer (&service->waiting, g_hash_table_unref);
  g_clear_error (&service->denial);
  g_clear_pointer (&service->caller_uids, g_hash_table_unref);
  g_clear_pointer (&service->pending_calls, g_hash_table_unref);
  g_clear_pointer (&service->objects, g_hash_table_unref);
  g_clear_pointer (&service->interface_info, g_hash_table_unref);
  g_free (service);
}

DBusConnection *
bus_service_get_connection (BusService *service)
{
  return service->connection;
}

BusObject *
bus_service_export (BusService *service,
                    const char *path,
                    const BusInterfaceVTable * const *vtables,
                    BusExportFlags flags,
                    gpointer user_data)
{
  BusObject *object, *manager;

  g_return_val_if_fail (g_variant_is_object_path (path), NULL);
  g_return_val_if_fail (!g_hash_table_contains (service->objects, path), NULL);

  object = g_new0 (BusObject, 1);
  object->service = service;
  object->path = g_strdup (path);
  object->user_data = user_data;
  object->object_manager = (flags & BUS_EXPORT_OBJECT_MANAGER) != 0;
  object->interfaces = g_array_new (FALSE, TRUE, sizeof (BusInterface));

  for (; vtables && *vtables; vtables++)
    {
      BusInterface iface = { .vtable = *vtables };

      iface.info = bus_introspect_lookup (service, (*vtables)->name);
      if (iface.info == NULL)
        g_error ("Interface %s has no introspection XML", (*vtables)->name);
      bus_introspect_check_vtable (*vtables, iface.info);
      g_array_append_val (object->interfaces, iface);
    }

  g_hash_table_insert (service->objects, object->path, object);

  manager = find_object_manager (service, path);
  if (manager != NULL && !(flags & BUS_EXPORT_UNANNOUNCED))
    bus_object_emit_signal (manager, BUS_INTERFACE_OBJECT_MANAGER, "InterfacesAdded",
                            g_variant_new ("(o@a{sa{sv}})", path,
                                           interfaces_and_properties (object)));

  return object;
}

void
bus_object_unexport (BusObject *object)
{
  BusService *service = object->service;
  BusObject *manager = find_object_manager (service, object->path);

  /* Changes not yet sent belong to an object that is going away. */
  bus_properties_forget (object);

  if (manager != NULL)
    {
      g_auto(GVariantBuilder) names = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_STRING_ARRAY);

      for (guint i = 0; i < object->interfaces->len; i++)
        g_variant_builder_add (&names, "s",
                               g_array_index (object->interfaces, BusInterface, i).info->name);

      bus_object_emit_signal (manager, BUS_INTERFACE_OBJECT_MANAGER, "InterfacesRemoved",
                              g_variant_new ("(o@as)", object->path,
                                             g_variant_builder_end (&names)));
    }

  g_hash_table_remove (service->objects, object->path);
}

const char *
bus_object_get_path (BusObject *object)
{
  return object->path;
}

void
bus_object_emit_signal (BusObject *object,
                        const char *interface,
                        const char *signal,
                        GVariant *parameters)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (parameters);
  GDBusInterfaceInfo *info = bus_introspect_lookup (object->service, interface);
  GDBusSignalInfo *signal_info;
  g_autofree char *signature = NULL;
  g_autofree char *tuple = NULL;
  DBusMessage *message;

  signal_info = info ? g_dbus_interface_info_lookup_signal (info, signal) : NULL;
  g_return_if_fail (signal_info != NULL);

  signature = bus_introspect_signature (signal_info->args);
  tuple = g_strdup_printf ("(%s)", signature);
  g_return_if_fail (g_str_equal (g_variant_get_type_string (owned), tuple));

  message = dbus_message_new_signal (object->path, interface, signal);
  if (message == NULL || !bus_message_append_body (message, owned))
    g_error ("Out of memory");

  bus_service_send (object->service, message);
}

char *
bus_path_escape (const char *text)
{
  GString *escaped;

  if (*text == '\0')
    return g_strdup ("_");

  escaped = g_string_sized_new (strlen (text) * 3);
  for (const guchar *p = (const guchar *) text; *p; p++)
    {
      /* Like systemd, a leading digit is escaped too. */
      if (g_ascii_isalpha (*p) || (g_ascii_isdigit (*p) && p != (const guchar *) text))
        g_string_append_c (escaped, *p);
      else
        g_string_append_printf (escaped, "_%02x", *p);
    }

  return g_string_free (escaped, FALSE);
}
