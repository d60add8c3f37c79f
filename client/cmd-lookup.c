/* cmd-lookup.c: mailsetupctl lookup ADDRESS
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"

#include "settings-format.h"

int
ctl_cmd_lookup (CtlClient *client, const char * const *args)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) settings = NULL;

  reply = ctl_client_call (client, CTL_MANAGER_PATH, CTL_MANAGER_INTERFACE,
                           "LookupProvider", g_variant_new ("(s)", args[0]),
                           G_VARIANT_TYPE ("(a{sv})"), &error);
  if (reply == NULL)
    return ctl_client_report_error (client, &error);

  settings = g_variant_get_child_value (reply, 0);

  if (ctl_client_get_json (client))
    {
      ctl_print_json (settings);
    }
  else
    {
      g_autoptr(GString) text = g_string_new (NULL);

      ctl_settings_format (text, settings);
      ctl_print_text (stdout, text->str);
    }

  return CTL_EXIT_OK;
}
