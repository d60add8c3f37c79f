/* json-writer.c: writing GVariant values as JSON (RFC 8259)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "json-writer.h"

#include <math.h>

static void
append_indent (GString *out, guint level)
{
  g_string_append_c (out, '\n');
  for (guint i = 0; i < level; i++)
    g_string_append (out, "  ");
}

void
ctl_json_append_string (GString *out, const char *str)
{
  g_string_append_c (out, '"');

  for (const unsigned char *p = (const unsigned char *) str; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\b':
          g_string_append (out, "\\b");
          break;
        case '\f':
          g_string_append (out, "\\f");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          /* RFC 8259 §7 requires escaping U+0000..U+001F; DEL is escaped
           * too so that no terminal control byte reaches the output.  Bytes
           * from 0x80 up are UTF-8 (GVariant strings are valid UTF-8) and
           * pass through. */
          if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
          break;
        }
    }

  g_string_append_c (out, '"');
}

static void
append_double (GString *out, double d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* JSON has no NaN or infinity. */
  if (!isfinite (d))
    {
      g_string_append (out, "null");
      return;
    }

  /* The shortest text that reads back as the same double, so that 0.1 is
   * written "0.1"; 17 significant digits always round-trip.  The g_ascii_
   * functions write '.' whatever the locale. */
  for (int digits = 15; digits <= 17; digits++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", digits);
      g_ascii_formatd (buf, sizeof buf, format, d);
      if (digits == 17 || g_ascii_strtod (buf, NULL) == d)
        break;
    }
  g_string_append (out, buf);
}

/* A dictionary key as a JSON object key: string-like keys as they are, any
 * other basic type as its JSON text, e.g. 7 → "7". */
static void
append_key (GString *out, GVariant *key)
{
  if (g_variant_is_of_type (key, G_VARIANT_TYPE_STRING)
      || g_variant_is_of_type (key, G_VARIANT_TYPE_OBJECT_PATH)
      || g_variant_is_of_type (key, G_VARIANT_TYPE_SIGNATURE))
    {
      ctl_json_append_string (out, g_variant_get_string (key, NULL));
    }
  else
    {
      g_autoptr(GString) text = g_string_new (NULL);

      ctl_json_append (text, key, 0);
      ctl_json_append_string (out, text->str);
    }
}

static void
append_container (GString *out, GVariant *value, guint level,
                  gboolean is_dict)
{
  gsize n = g_variant_n_children (value);

  g_string_append_c (out, is_dict ? '{' : '[');

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

      if (i > 0)
        g_string_append_c (out, ',');
      append_indent (out, level + 1);

      if (is_dict)
        {
          g_autoptr(GVariant) key = g_variant_get_child_value (child, 0);
          g_autoptr(GVariant) val = g_variant_get_child_value (child, 1);

          append_key (out, key);
          g_string_append (out, ": ");
          ctl_json_append (out, val, level + 1);
        }
      else
        {
          ctl_json_append (out, child, level + 1);
        }
    }

  if (n > 0)
    append_indent (out, level);
  g_string_append_c (out, is_dict ? '}' : ']');
}

void
ctl_json_append (GString *out, GVariant *value, guint level)
{
  const GVariantType *type = g_variant_get_type (value);

  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      g_string_append (out, g_variant_get_boolean (value) ? "true" : "false");
      break;
    case G_VARIANT_CLASS_BYTE:
      g_string_append_printf (out, "%u", (guint) g_variant_get_byte (value));
      break;
    case G_VARIANT_CLASS_INT16:
      g_string_append_printf (out, "%d", (int) g_variant_get_int16 (value));
      break;
    case G_VARIANT_CLASS_UINT16:
      g_string_append_printf (out, "%u", (guint) g_variant_get_uint16 (value));
      break;
    case G_VARIANT_CLASS_INT32:
      g_string_append_printf (out, "%" G_GINT32_FORMAT,
                              g_variant_get_int32 (value));
      break;
    case G_VARIANT_CLASS_UINT32:
      g_string_append_printf (out, "%" G_GUINT32_FORMAT,
                              g_variant_get_uint32 (value));
      break;
    case G_VARIANT_CLASS_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT,
                              g_variant_get_int64 (value));
      break;
    case G_VARIANT_CLASS_UINT64:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT,
                              g_variant_get_uint64 (value));
      break;
    case G_VARIANT_CLASS_HANDLE:
      g_string_append_printf (out, "%" G_GINT32_FORMAT,
                              g_variant_get_handle (value));
      break;
    case G_VARIANT_CLASS_DOUBLE:
      append_double (out, g_variant_get_double (value));
      break;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      ctl_json_append_string (out, g_variant_get_string (value, NULL));
      break;
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr(GVariant) inner = g_variant_get_variant (value);

        ctl_json_append (out, inner, level);
      }
      break;
    case G_VARIANT_CLASS_MAYBE:
      {
        g_autoptr(GVariant) inner = g_variant_get_maybe (value);

        if (inner != NULL)
          ctl_json_append (out, inner, level);
        else
          g_string_append (out, "null");
      }
      break;
    case G_VARIANT_CLASS_ARRAY:
      append_container (out, value, level,
                        g_variant_type_is_dict_entry (
                          g_variant_type_element (type)));
      break;
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
      append_container (out, value, level, FALSE);
      break;
    default:
      g_assert_not_reached ();
    }
}

char *
ctl_json_from_variant (GVariant *value)
{
  g_autoptr(GString) out = g_string_new (NULL);

  ctl_json_append (out, value, 0);
  g_string_append_c (out, '\n');

  return g_string_free (g_steal_pointer (&out), FALSE);
}
