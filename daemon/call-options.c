/* call-options.c: the a{sv} options of the Manager's methods
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "call-options.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "accounts/account-data.h"
#include "password.h"
#include "validation/validator.h"

/* Past the 25 s D-Bus default a caller must raise its own timeout anyway. */
#define MAX_TIMEOUT_MS 120000

void
ms_call_options_clear (MsCallOptions *options)
{
  g_clear_pointer (&options->operation_id, g_free);
  g_clear_pointer (&options->display_name, g_free);
  g_clear_pointer (&options->login, g_free);
  g_clear_pointer (&options->password, ms_password_free);
}

static gboolean
read_string (GVariant *dict,
             const char *key,
             char **out,
             GError **error)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, key, NULL);

  if (value == NULL)
    return TRUE;

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   _("Option %s must be a string (s), not %s"), key,
                   g_variant_get_type_string (value));
      return FALSE;
    }

  *out = g_variant_dup_string (value, NULL);
  return TRUE;
}

static gboolean
read_timeout (GVariant *dict,
              guint *out,
              GError **error)
{
  g_autoptr(GVariant) timeout = g_variant_lookup_value (dict, "timeout-ms", NULL);
  gint64 value;

  if (timeout == NULL)
    return TRUE;

  /* Any integer type: busctl users type "u", Python users get "x". */
  if (g_variant_is_of_type (timeout, G_VARIANT_TYPE_UINT32))
    value = g_variant_get_uint32 (timeout);
  else if (g_variant_is_of_type (timeout, G_VARIANT_TYPE_INT32))
    value = g_variant_get_int32 (timeout);
  else if (g_variant_is_of_type (timeout, G_VARIANT_TYPE_UINT64))
    value = (gint64) MIN (g_variant_get_uint64 (timeout), (guint64) G_MAXINT64);
  else if (g_variant_is_of_type (timeout, G_VARIANT_TYPE_INT64))
    value = g_variant_get_int64 (timeout);
  else
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   _("Option timeout-ms must be a number (u), not %s"),
                   g_variant_get_type_string (timeout));
      return FALSE;
    }

  if (value < 1 || value > MAX_TIMEOUT_MS)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   _("Option timeout-ms must be between 1 and %d"), MAX_TIMEOUT_MS);
      return FALSE;
    }

  *out = (guint) value;
  return TRUE;
}

gboolean
ms_call_options_parse (GVariant *dict,
                       MsCallOptions *options,
                       GError **error)
{
  options->timeout_ms = MS_VALIDATION_DEFAULT_TIMEOUT_MS;

  if (!read_timeout (dict, &options->timeout_ms, error) ||
      !read_string (dict, "operation-id", &options->operation_id, error) ||
      !read_string (dict, "display-name", &options->display_name, error) ||
      !read_string (dict, "login", &options->login, error) ||
      !read_string (dict, "password", &options->password, error))
    return FALSE;

  if (options->password != NULL && !ms_password_check (options->password, error))
    return FALSE;
  if (options->display_name != NULL &&
      !ms_account_display_name_check (options->display_name, error))
    return FALSE;

  if (options->operation_id == NULL)
    options->operation_id = g_uuid_string_random ();

  return TRUE;
}
