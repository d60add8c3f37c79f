/* bus-variant.c: converting between libdbus messages and GVariant
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "bus-variant.h"

#include <gio/gio.h>

/* GVariant and D-Bus share one type system, so the conversion is a walk
 * over the value that maps each type code to its libdbus twin. */

static GVariant *
basic_from_iter (DBusMessageIter *iter, int type)
{
  DBusBasicValue value;

  dbus_message_iter_get_basic (iter, &value);

  switch (type)
    {
    case DBUS_TYPE_BYTE:
      return g_variant_new_byte (value.byt);
    case DBUS_TYPE_BOOLEAN:
      return g_variant_new_boolean (value.bool_val);
    case DBUS_TYPE_INT16:
      return g_variant_new_int16 (value.i16);
    case DBUS_TYPE_UINT16:
      return g_variant_new_uint16 (value.u16);
    case DBUS_TYPE_INT32:
      return g_variant_new_int32 (value.i32);
    case DBUS_TYPE_UINT32:
      return g_variant_new_uint32 (value.u32);
    case DBUS_TYPE_INT64:
      return g_variant_new_int64 (value.i64);
    case DBUS_TYPE_UINT64:
      return g_variant_new_uint64 (value.u64);
    case DBUS_TYPE_DOUBLE:
      return g_variant_new_double (value.dbl);
    case DBUS_TYPE_STRING:
      return g_variant_new_string (value.str);
    case DBUS_TYPE_OBJECT_PATH:
      return g_variant_new_object_path (value.str);
    case DBUS_TYPE_SIGNATURE:
      return g_variant_new_signature (value.str);
    default:
      g_assert_not_reached ();
    }
}

/* Reads the elements of a container into a builder for @type. */
static GVariant *
container_from_iter (DBusMessageIter *iter,
                     const GVariantType *type,
                     GError **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (type);
  DBusMessageIter sub;

  dbus_message_iter_recurse (iter, &sub);
  while (dbus_message_iter_get_arg_type (&sub) != DBUS_TYPE_INVALID)
    {
      GVariant *child = bus_variant_from_iter (&sub, error);

      if (child == NULL)
        return NULL;
      g_variant_builder_add_value (&builder, child);
      dbus_message_iter_next (&sub);
    }

  return g_variant_builder_end (&builder);
}

GVariant *
bus_variant_from_iter (DBusMessageIter *iter,
                       GError **error)
{
  int type = dbus_message_iter_get_arg_type (iter);
  g_autofree char *signature = NULL;
  g_autoptr(GVariantType) variant_type = NULL;

  switch (type)
    {
    case DBUS_TYPE_VARIANT:
      {
        DBusMessageIter sub;
        GVariant *inner;

        dbus_message_iter_recurse (iter, &sub);
        inner = bus_variant_from_iter (&sub, error);
        return inner != NULL ? g_variant_new_variant (inner) : NULL;
      }

    case DBUS_TYPE_ARRAY:
    case DBUS_TYPE_STRUCT:
    case DBUS_TYPE_DICT_ENTRY:
      {
        char *raw = dbus_message_iter_get_signature (iter);

        signature = g_strdup (raw);
        dbus_free (raw);
        variant_type = g_variant_type_new (signature);
        return container_from_iter (iter, variant_type, error);
      }

    case DBUS_TYPE_UNIX_FD:
      g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                           "File descriptors are not accepted");
      return NULL;

    case DBUS_TYPE_INVALID:
      g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                           "Missing value");
      return NULL;

    default:
      return basic_from_iter (iter, type);
    }
}

GVariant *
bus_message_get_body (DBusMessage *message,
                      GError **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_TUPLE);
  DBusMessageIter iter;

  if (dbus_message_iter_init (message, &iter))
    {
      while (dbus_message_iter_get_arg_type (&iter) != DBUS_TYPE_INVALID)
        {
          GVariant *child = bus_variant_from_iter (&iter, error);

          if (child == NULL)
            return NULL;
          g_variant_builder_add_value (&builder, child);
          dbus_message_iter_next (&iter);
        }
    }

  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static gboolean
append_basic (DBusMessageIter *iter,
              GVariant *value)
{
  DBusBasicValue basic;
  int type;

  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BYTE:
      type = DBUS_TYPE_BYTE;
      basic.byt = g_variant_get_byte (value);
      break;
    case G_VARIANT_CLASS_BOOLEAN:
      type = DBUS_TYPE_BOOLEAN;
      basic.bool_val = g_variant_get_boolean (value);
      break;
    case G_VARIANT_CLASS_INT16:
      type = DBUS_TYPE_INT16;
      basic.i16 = g_variant_get_int16 (value);
      break;
    case G_VARIANT_CLASS_UINT16:
      type = DBUS_TYPE_UINT16;
      basic.u16 = g_variant_get_uint16 (value);
      break;
    case G_VARIANT_CLASS_INT32:
      type = DBUS_TYPE_INT32;
      basic.i32 = g_variant_get_int32 (value);
      break;
    case G_VARIANT_CLASS_UINT32:
      type = DBUS_TYPE_UINT32;
      basic.u32 = g_variant_get_uint32 (value);
      break;
    case G_VARIANT_CLASS_INT64:
      type = DBUS_TYPE_INT64;
      basic.i64 = g_variant_get_int64 (value);
      break;
    case G_VARIANT_CLASS_UINT64:
      type = DBUS_TYPE_UINT64;
      basic.u64 = g_variant_get_uint64 (value);
      break;
    case G_VARIANT_CLASS_DOUBLE:
      type = DBUS_TYPE_DOUBLE;
      basic.dbl = g_variant_get_double (value);
      break;
    case G_VARIANT_CLASS_STRING:
      type = DBUS_TYPE_STRING;
      basic.str = (char *) g_variant_get_string (value, NULL);
      break;
    case G_VARIANT_CLASS_OBJECT_PATH:
      type = DBUS_TYPE_OBJECT_PATH;
      basic.str = (char *) g_variant_get_string (value, NULL);
      break;
    case G_VARIANT_CLASS_SIGNATURE:
      type = DBUS_TYPE_SIGNATURE;
      basic.str = (char *) g_variant_get_string (value, NULL);
      break;
    default:
      /* Maybe types and handles have no libdbus twin we use. */
      return FALSE;
    }

  return dbus_message_iter_append_basic (iter, type, &basic);
}

static gboolean
append_children (DBusMessageIter *iter,
                 GVariant *value)
{
  GVariantIter children;
  GVariant *child;

  g_variant_iter_init (&children, value);
  while ((child = g_variant_iter_next_value (&children)) != NULL)
    {
      gboolean ok = bus_variant_append (iter, child);

      g_variant_unref (child);
      if (!ok)
        return FALSE;
    }

  return TRUE;
}

gboolean
bus_variant_append (DBusMessageIter *iter,
                    GVariant *value)
{
  DBusMessageIter sub;
  int container;
  const char *contained = NULL;
  g_autofree char *element = NULL;
  gboolean ok;

  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr(GVariant) inner = g_variant_get_variant (value);

        container = DBUS_TYPE_VARIANT;
        contained = g_variant_get_type_string (inner);
        if (!dbus_message_iter_open_container (iter, container, contained, &sub))
          return FALSE;
        ok = bus_variant_append (&sub, inner);
        break;
      }

    case G_VARIANT_CLASS_ARRAY:
      container = DBUS_TYPE_ARRAY;
      element = g_variant_type_dup_string (g_variant_type_element (g_variant_get_type (value)));
      if (!dbus_message_iter_open_container (iter, container, element, &sub))
        return FALSE;
      ok = append_children (&sub, value);
      break;

    case G_VARIANT_CLASS_TUPLE:
      container = DBUS_TYPE_STRUCT;
      if (!dbus_message_iter_open_container (iter, container, NULL, &sub))
        return FALSE;
      ok = append_children (&sub, value);
      break;

    case G_VARIANT_CLASS_DICT_ENTRY:
      container = DBUS_TYPE_DICT_ENTRY;
      if (!dbus_message_iter_open_container (iter, container, NULL, &sub))
        return FALSE;
      ok = append_children (&sub, value);
      break;

    default:
      return append_basic (iter, value);
    }

  if (!ok)
    {
      dbus_message_iter_abandon_container (iter, &sub);
      return FALSE;
    }

  return dbus_message_iter_close_container (iter, &sub);
}

gboolean
bus_message_append_body (DBusMessage *message,
                         GVariant *body)
{
  g_autoptr(GVariant) owned = NULL;
  DBusMessageIter iter;

  if (body == NULL)
    return TRUE;

  owned = g_variant_ref_sink (body);
  g_return_val_if_fail (g_variant_is_of_type (owned, G_VARIANT_TYPE_TUPLE), FALSE);

  dbus_message_iter_init_append (message, &iter);
  return append_children (&iter, owned);
}
