/* bus-introspect.c: the interfaces' XML, served as Introspect replies and
 * used to check argument signatures and method tables
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "bus-private.h"

#include <string.h>

/* The standard interfaces every object has; theirs is not our API, so
 * they live here rather than in dbus-interfaces/. */
static const char standard_xml[] =
  "<node>"
  " <interface name='" BUS_INTERFACE_PEER "'>"
  "  <method name='Ping'/>"
  "  <method name='GetMachineId'><arg name='machine_uuid' type='s' direction='out'/></method>"
  " </interface>"
  " <interface name='" BUS_INTERFACE_INTROSPECTABLE "'>"
  "  <method name='Introspect'><arg name='xml_data' type='s' direction='out'/></method>"
  " </interface>"
  " <interface name='" BUS_INTERFACE_PROPERTIES "'>"
  "  <method name='Get'>"
  "   <arg name='interface_name' type='s' direction='in'/>"
  "   <arg name='property_name' type='s' direction='in'/>"
  "   <arg name='value' type='v' direction='out'/>"
  "  </method>"
  "  <method name='GetAll'>"
  "   <arg name='interface_name' type='s' direction='in'/>"
  "   <arg name='props' type='a{sv}' direction='out'/>"
  "  </method>"
  "  <method name='Set'>"
  "   <arg name='interface_name' type='s' direction='in'/>"
  "   <arg name='property_name' type='s' direction='in'/>"
  "   <arg name='value' type='v' direction='in'/>"
  "  </method>"
  "  <signal name='PropertiesChanged'>"
  "   <arg name='interface_name' type='s'/>"
  "   <arg name='changed_properties' type='a{sv}'/>"
  "   <arg name='invalidated_properties' type='as'/>"
  "  </signal>"
  " </interface>"
  " <interface name='" BUS_INTERFACE_OBJECT_MANAGER "'>"
  "  <method name='GetManagedObjects'>"
  "   <arg name='objpath_interfaces_and_properties' type='a{oa{sa{sv}}}' direction='out'/>"
  "  </method>"
  "  <signal name='InterfacesAdded'>"
  "   <arg name='object_path' type='o'/>"
  "   <arg name='interfaces_and_properties' type='a{sa{sv}}'/>"
  "  </signal>"
  "  <signal name='InterfacesRemoved'>"
  "   <arg name='object_path' type='o'/>"
  "   <arg name='interfaces' type='as'/>"
  "  </signal>"
  " </interface>"
  "</node>";

static gboolean
add_node_info (BusService *service,
               const char *xml,
               const char *source,
               GError **error)
{
  g_autoptr(GDBusNodeInfo) node = NULL;

  node = g_dbus_node_info_new_for_xml (xml, error);
  if (node == NULL)
    {
      g_prefix_error (error, "%s: ", source);
      return FALSE;
    }

  for (GDBusInterfaceInfo **iface = node->interfaces; iface && *iface; iface++)
    {
      /* Caches let Properties and argument checks find members quickly. */
      g_dbus_interface_info_cache_build (*iface);
      g_hash_table_replace (service->interface_info, (*iface)->name,
                            g_dbus_interface_info_ref (*iface));
    }

  return TRUE;
}

gboolean
bus_introspect_load (BusService *service,
                     const char *resource_path,
                     GError **error)
{
  g_auto(GStrv) names = NULL;

  if (!add_node_info (service, standard_xml, "standard interfaces", error))
    return FALSE;

  names = g_resources_enumerate_children (resource_path,
                                          G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (names == NULL)
    return FALSE;

  for (char **name = names; *name; name++)
    {
      g_autofree char *path = NULL;
      g_autoptr(GBytes) bytes = NULL;

      if (!g_str_has_suffix (*name, ".xml"))
        continue;

      path = g_build_path ("/", resource_path, *name, NULL);
      bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE,
                                       error);
      if (bytes == NULL ||
          !add_node_info (service, g_bytes_get_data (bytes, NULL), *name, error))
        return FALSE;
    }

  return TRUE;
}

GDBusInterfaceInfo *
bus_introspect_lookup (BusService *service,
                       const char *interface)
{
  return g_hash_table_lookup (service->interface_info, interface);
}

char *
bus_introspect_signature (GDBusArgInfo **args)
{
  GString *signature = g_string_new (NULL);

  for (; args && *args; args++)
    g_string_append (signature, (*args)->signature);

  return g_string_free (signature, FALSE);
}

static const BusMethod *
find_method (const BusInterfaceVTable *vtable,
             const char *name)
{
  for (const BusMethod *m = vtable->methods; m && m->name; m++)
    if (strcmp (m->name, name) == 0)
      return m;
  return NULL;
}

static const BusProperty *
find_property (const BusInterfaceVTable *vtable,
               const char *name)
{
  for (const BusProperty *p = vtable->properties; p && p->name; p++)
    if (strcmp (p->name, name) == 0)
      return p;
  return NULL;
}

/* A table that disagrees with its XML is a programming error: stop at
 * once, so that the first test run finds it. */
void
bus_introspect_check_vtable (const BusInterfaceVTable *vtable,
                             GDBusInterfaceInfo *info)
{
  for (GDBusMethodInfo **m = info->methods; m && *m; m++)
    if (find_method (vtable, (*m)->name) == NULL)
      g_error ("%s.%s is in the XML but has no handler", info->name, (*m)->name);

  for (const BusMethod *m = vtable->methods; m && m->name; m++)
    if (g_dbus_interface_info_lookup_method (info, m->name) == NULL)
      g_error ("%s.%s has a handler but is not in the XML", info->name, m->name);

  for (GDBusPropertyInfo **p = info->properties; p && *p; p++)
    {
      const BusProperty *property = find_property (vtable, (*p)->name);
      gboolean writable = ((*p)->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE) != 0;

      if (property == NULL || property->get == NULL)
        g_error ("%s.%s is in the XML but has no getter", info->name, (*p)->name);
      if (writable != (property->set != NULL))
        g_error ("%s.%s: the XML access and the setter disagree", info->name, (*p)->name);
    }

  for (const BusProperty *p = vtable->properties; p && p->name; p++)
    if (g_dbus_interface_info_lookup_property (info, p->name) == NULL)
      g_error ("%s.%s has a getter but is not in the XML", info->name, p->name);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The names of the nodes directly below @path, sorted, so that
 * "busctl tree" can walk down from "/" to every object. */
static GPtrArray *
list_children (BusService *service,
               const char *path)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *prefix = NULL;
  GPtrArray *children = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  const char *other;

  prefix = g_str_equal (path, "/") ? g_strdup ("/") : g_strconcat (path, "/", NULL);

  g_hash_table_iter_init (&iter, service->objects);
  while (g_hash_table_iter_next (&iter, (gpointer *) &other, NULL))
    {
      const char *rest, *slash;
      char *child;

      if (!g_str_has_prefix (other, prefix) || other[strlen (prefix)] == '\0')
        continue;

      rest = other + strlen (prefix);
      slash = strchr (rest, '/');
      child = slash ? g_strndup (rest, slash - rest) : g_strdup (rest);
      if (g_hash_table_contains (seen, child))
        {
          g_free (child);
          continue;
        }
      g_hash_table_add (seen, child);
      g_ptr_array_add (children, child);
    }

  g_ptr_array_sort (children, compare_strings);
  return children;
}

static void
append_interface (GString *xml,
                  BusService *service,
                  const char *name)
{
  g_dbus_interface_info_generate_xml (bus_introspect_lookup (service, name), 2, xml);
}

char *
bus_introspect_xml (BusService *service,
                    const char *path)
{
  BusObject *object = g_hash_table_lookup (service->objects, path);
  g_autoptr(GPtrArray) children = list_children (service, path);
  GString *xml = g_string_new (DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE);

  g_string_append (xml, "<node>\n");

  /* A node that only leads to objects offers nothing but Introspectable. */
  if (object != NULL)
    {
      append_interface (xml, service, BUS_INTERFACE_PEER);
      append_interface (xml, service, BUS_INTERFACE_INTROSPECTABLE);
      append_interface (xml, service, BUS_INTERFACE_PROPERTIES);
      if (object->object_manager)
        append_interface (xml, service, BUS_INTERFACE_OBJECT_MANAGER);

      for (guint i = 0; i < object->interfaces->len; i++)
        {
          BusInterface *iface = &g_array_index (object->interfaces, BusInterface, i);

          g_dbus_interface_info_generate_xml (iface->info, 2, xml);
        }
    }
  else
    {
      append_interface (xml, service, BUS_INTERFACE_INTROSPECTABLE);
    }

  for (guint i = 0; i < children->len; i++)
    {
      g_autofree char *escaped = g_markup_escape_text (children->pdata[i], -1);

      g_string_append_printf (xml, "  <node name=\"%s\"/>\n", escaped);
    }

  g_string_append (xml, "</node>\n");
  return g_string_free (xml, FALSE);
}
