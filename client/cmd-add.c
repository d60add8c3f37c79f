/* cmd-add.c: mailsetupctl add [--password-stdin] [--login LOGIN]
 *                              [--name NAME] [--timeout S] ADDRESS
 *
 * Reads the password as validate does, has the daemon check it with the
 * mail servers and keep the account (AddAccount), shows the stages as they
 * come, and prints the new account as show does.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"

#include <glib/gi18n.h>

#include "account-format.h"
#include "account-lookup.h"
#include "credentials.h"
#include "settings-format.h"
#include "validation-call.h"

static char *opt_name;  /* as typed, see ctl_argument_to_utf8() */

const GOptionEntry ctl_add_options[] = {
  CTL_PASSWORD_STDIN_OPTION,
  CTL_LOGIN_OPTION,
  { "name", 0, 0, G_OPTION_ARG_FILENAME, &opt_name,
    N_("Call the account DISPLAY_NAME"), N_("DISPLAY_NAME") },
  CTL_TIMEOUT_OPTION,
  { NULL }
};

int
ctl_cmd_add (CtlClient *client, const char * const *args)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) properties = NULL;
  const char *path;
  int status;

  if (opt_name != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *name = ctl_argument_to_utf8 (opt_name, &local_error);

      if (name == NULL)
        return ctl_usage_error (local_error->message);
      g_variant_dict_insert (&options, "display-name", "s", name);
    }

  status = ctl_validation_run (client, "AddAccount", args[0], &options,
                               G_VARIANT_TYPE ("(o)"), &reply);
  if (status != CTL_EXIT_OK)
    return status;

  g_variant_get (reply, "(&o)", &path);
  properties = ctl_account_get_properties (client, path, &error);
  if (properties == NULL)
    return ctl_client_report_error (client, &error);

  if (!ctl_client_get_json (client))
    {
      const char *added = ctl_settings_lookup_string (properties, "Address");
      g_autofree char *line =
        g_strdup_printf (_("Added the account %s.\n\n"),
                         added != NULL ? added : args[0]);

      ctl_print_text (stdout, line);
    }
  ctl_account_print (client, properties);

  return CTL_EXIT_OK;
}
