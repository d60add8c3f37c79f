/* bus-properties.c: org.freedesktop.DBus.Properties for every object, and
 * PropertiesChanged batched per main-loop iteration
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "bus-private.h"
#include "bus-variant.h"

#include <string.h>

static GVariant *
get_value (BusObject *object,
           const BusInterface *iface,
           const BusProperty *property,
           GDBusPropertyInfo *info)
{
  GVariant *value = g_variant_ref_sink (property->get (object->user_data));

  /* A getter returning the wrong type would make us lie on the bus. */
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE (info->signature)))
    g_error ("%s.%s: getter returned %s, the XML says %s", iface->info->name,
             info->name, g_variant_get_type_string (value), info->signature);

  return value;
}

static const BusProperty *
find_property (const BusInterface *iface,
               const char *name)
{
  for (const BusProperty *p = iface->vtable->properties; p && p->name; p++)
    if (strcmp (p->name, name) == 0)
      return p;
  return NULL;
}

GVariant *
bus_properties_get_all (BusObject *object,
                        const BusInterface *iface)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  for (GDBusPropertyInfo **info = iface->info->properties; info && *info; info++)
    {
      const BusProperty *property = find_property (iface, (*info)->name);
      g_autoptr(GVariant) value = NULL;

      if (!((*info)->flags & G_DBUS_PROPERTY_INFO_FLAGS_READABLE))
        continue;

      value = get_value (object, iface, property, *info);
      g_variant_builder_add (&builder, "{sv}", (*info)->name, value);
    }

  return g_variant_builder_end (&builder);
}

static void
reply (BusObject *object,
       DBusMessage *message,
       GVariant *body)
{
  DBusMessage *reply = dbus_message_new_method_return (message);

  if (reply == NULL || !bus_message_append_body (reply, body))
    g_error ("Out of memory");
  bus_service_send (object->service, reply);
}

static void
reply_error (BusObject *object,
             DBusMessage *message,
             GDBusError code,
             const char *format,
             ...) G_GNUC_PRINTF (4, 5);

static void
reply_error (BusObject *object,
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

  bus_service_send_error (object->service, message, error);
}

/* Finds @interface_name.@property_name, or replies with the error that
 * says which of the two is unknown. */
static gboolean
lookup (BusObject *object,
        DBusMessage *message,
        const char *interface_name,
        const char *property_name,
        const BusInterface **iface_out,
        const BusProperty **property_out,
        GDBusPropertyInfo **info_out)
{
  const BusInterface *iface = bus_object_find_interface (object, interface_name);

  if (iface == NULL)
    {
      reply_error (object, message, G_DBUS_ERROR_UNKNOWN_INTERFACE,
                   "Object %s has no interface %.64s", object->path, interface_name);
      return FALSE;
    }

  *info_out = g_dbus_interface_info_lookup_property (iface->info, property_name);
  if (*info_out == NULL)
    {
      reply_error (object, message, G_DBUS_ERROR_UNKNOWN_PROPERTY,
                   "Interface %.64s has no property %.64s", interface_name, property_name);
      return FALSE;
    }

  *iface_out = iface;
  *property_out = find_property (iface, property_name);
  return TRUE;
}

static void
handle_get (BusObject *object,
            DBusMessage *message,
            GVariant *args)
{
  const char *interface_name, *property_name;
  const BusInterface *iface;
  const BusProperty *property;
  GDBusPropertyInfo *info;
  g_autoptr(GVariant) value = NULL;

  g_variant_get (args, "(&s&s)", &interface_name, &property_name);
  if (!lookup (object, message, interface_name, property_name, &iface, &property, &info))
    return;

  if (!(info->flags & G_DBUS_PROPERTY_INFO_FLAGS_READABLE))
    {
      reply_error (object, message, G_DBUS_ERROR_ACCESS_DENIED,
                   "Property %s.%s is not readable", interface_name, property_name);
      return;
    }

  value = get_value (object, iface, property, info);
  reply (object, message, g_variant_new ("(v)", value));
}

static void
handle_get_all (BusObject *object,
                DBusMessage *message,
                GVariant *args)
{
  const char *interface_name;
  const BusInterface *iface;

  g_variant_get (args, "(&s)", &interface_name);
  iface = bus_object_find_interface (object, interface_name);

  /* The standard interfaces have no properties; answer them like the
   * spec's other implementations do, with an empty dictionary. */
  if (iface == NULL)
    {
      if (g_str_has_prefix (interface_name, "org.freedesktop.DBus."))
        reply (object, message, g_variant_new_parsed ("(@a{sv} {},)"));
      else
        reply_error (object, message, G_DBUS_ERROR_UNKNOWN_INTERFACE,
                     "Object %s has no interface %.64s", object->path, interface_name);
      return;
    }

  reply (object, message, g_variant_new ("(@a{sv})", bus_properties_get_all (object, iface)));
}

static void
handle_set (BusObject *object,
            DBusMessage *message,
            GVariant *args)
{
  const char *interface_name, *property_name;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  const BusInterface *iface;
  const BusProperty *property;
  GDBusPropertyInfo *info;

  g_variant_get (args, "(&s&sv)", &interface_name, &property_name, &value);
  if (!lookup (object, message, interface_name, property_name, &iface, &property, &info))
    return;

  if (property->set == NULL)
    {
      reply_error (object, message, G_DBUS_ERROR_PROPERTY_READ_ONLY,
                   "Property %s.%s is read-only", interface_name, property_name);
      return;
    }

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE (info->signature)))
    {
      reply_error (object, message, G_DBUS_ERROR_INVALID_ARGS,
                   "Property %s.%s has type %s, not %s", interface_name,
                   property_name, info->signature, g_variant_get_type_string (value));
      return;
    }

  if (!property->set (value, object->user_data, &error))
    {
      bus_service_send_error (object->service, message, error);
      return;
    }

  /* The setter queued its PropertiesChanged; send it before the reply. */
  bus_properties_flush (object->service);
  reply (object, message, NULL);
}

DBusHandlerResult
bus_properties_handle (BusObject *object,
                       DBusMessage *message)
{
  static const struct {
    const char *member;
    const char *signature;
    void (*handler) (BusObject *, DBusMessage *, GVariant *);
  } methods[] = {
    { "Get", "ss", handle_get },
    { "GetAll", "s", handle_get_all },
    { "Set", "ssv", handle_set },
  };
  const char *member = dbus_message_get_member (message);

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autoptr(GVariant) args = NULL;
      g_autoptr(GError) error = NULL;

      if (strcmp (member, methods[i].member) != 0)
        continue;

      if (strcmp (dbus_message_get_signature (message), methods[i].signature) != 0)
        {
          reply_error (object, message, G_DBUS_ERROR_INVALID_ARGS,
                       "%s takes arguments of type (%s), not (%s)", member,
                       methods[i].signature, dbus_message_get_signature (message));
          return DBUS_HANDLER_RESULT_HANDLED;
        }

      args = bus_message_get_body (message, &error);
      if (args == NULL)
        bus_service_send_error (object->service, message, error);
      else
        methods[i].handler (object, message, args);
      return DBUS_HANDLER_RESULT_HANDLED;
    }

  reply_error (object, message, G_DBUS_ERROR_UNKNOWN_METHOD,
               "No method %s.%s", BUS_INTERFACE_PROPERTIES, member);
  return DBUS_HANDLER_RESULT_HANDLED;
}

/* Batched changes */

static gboolean
flush_idle (gpointer user_data)
{
  BusService *service = user_data;

  bus_properties_flush (service);
  return G_SOURCE_REMOVE;
}

void
bus_object_notify (BusObject *object,
                   const char *interface,
                   const char *property)
{
  BusService *service = object->service;
  GPtrArray *names;

  g_return_if_fail (bus_object_find_interface (object, interface) != NULL);

  if (object->changed == NULL)
    {
      object->changed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) g_ptr_array_unref);
      g_ptr_array_add (service->changed_objects, object);
    }

  names = g_hash_table_lookup (object->changed, interface);
  if (names == NULL)
    {
      names = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (object->changed, g_strdup (interface), names);
    }
  if (!g_ptr_array_find_with_equal_func (names, property, g_str_equal, NULL))
    g_ptr_array_add (names, g_strdup (property));

  if (service->flush_source == NULL)
    {
      service->flush_source = g_idle_source_new ();
      g_source_set_name (service->flush_source, "[mailsetup] PropertiesChanged");
      g_source_set_callback (service->flush_source, flush_idle, service, NULL);
      g_source_attach (service->flush_source, NULL);
    }
}

static void
emit_changes (BusObject *object)
{
  g_autoptr(GHashTable) changed = g_steal_pointer (&object->changed);
  GHashTableIter iter;
  const char *interface;
  GPtrArray *names;

  g_hash_table_iter_init (&iter, changed);
  while (g_hash_table_iter_next (&iter, (gpointer *) &interface, (gpointer *) &names))
    {
      const BusInterface *iface = bus_object_find_interface (object, interface);
      g_auto(GVariantBuilder) values = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

      for (guint i = 0; i < names->len; i++)
        {
          const char *name = names->pdata[i];
          GDBusPropertyInfo *info = g_dbus_interface_info_lookup_property (iface->info, name);
          g_autoptr(GVariant) value = NULL;

          g_return_if_fail (info != NULL);
          value = get_value (object, iface, find_property (iface, name), info);
          g_variant_builder_add (&values, "{sv}", name, value);
        }

      bus_object_emit_signal (object, BUS_INTERFACE_PROPERTIES, "PropertiesChanged",
                              g_variant_new ("(s@a{sv}@as)", interface,
                                             g_variant_builder_end (&values),
                                             g_variant_new_strv (NULL, 0)));
    }
}

void
bus_properties_flush (BusService *service)
{
  g_autoptr(GPtrArray) objects = g_steal_pointer (&service->changed_objects);

  service->changed_objects = g_ptr_array_new ();
  if (service->flush_source != NULL)
    {
      g_source_destroy (service->flush_source);
      g_clear_pointer (&service->flush_source, g_source_unref);
    }

  for (guint i = 0; i < objects->len; i++)
    emit_changes (objects->pdata[i]);
}

void
bus_properties_forget (BusObject *object)
{
  g_ptr_array_remove (object->service->changed_objects, object);
  g_clear_pointer (&object->changed, g_hash_table_unref);
}
