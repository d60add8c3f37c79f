/* cmd-passwd.c: mailsetupctl passwd [--password-stdin] ADDRESS
 *
 * Gives an account a new password (Account.SetPassword): the daemon signs
 * in with it first and keeps the old one unless it works.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"

#include <glib/gi18n.h>

#include "account-lookup.h"
#include "credentials.h"
#include "validation-call.h"

const GOptionEntry ctl_passwd_options[] = {
  CTL_PASSWORD_STDIN_OPTION,
  { NULL }
};

int
ctl_cmd_passwd (CtlClient *client, const char * const *args)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;
  g_autoptr(CtlAccount) account = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) properties = NULL;
  const char *problem;
  char *password;

  problem = ctl_credentials_problem ();
  if (problem != NULL)
    return ctl_usage_error (problem);

  /* Before the password is typed, so that a typo in the address is not
   * found out after it. */
  account = ctl_account_find (client, args[0], &error);
  if (account == NULL)
    return ctl_client_report_error (client, &error);

  /* The account signs in as it did when it was added. */
  password = ctl_credentials_get (client, account->address, NULL, FALSE,
                                  &error);
  if (password == NULL)
    return ctl_client_report_error (client, &error);

  if (!ctl_client_get_json (client))
    ctl_print_text (stderr, _("Checking the new password…\n"));

  /* SetPassword validates with the daemon's default time limit. */
  reply = ctl_credentials_call (client, account->path, CTL_ACCOUNT_INTERFACE,
                                "SetPassword", NULL,
                                g_steal_pointer (&password), NULL,
                                ctl_validation_call_timeout (0),
                                G_VARIANT_TYPE_UNIT, &error);
  if (reply == NULL)
    return ctl_client_report_error (client, &error);

  if (ctl_client_get_json (client))
    {
      properties = ctl_account_get_properties (client, account->path,
                                               &error);
      if (properties == NULL)
        return ctl_client_report_error (client, &error);
      ctl_print_json (properties);
    }
  else
    {
      g_autofree char *line =
        g_strdup_printf (_("The new password of %s works and is stored.\n"),
                         account->address);

      ctl_print_text (stdout, line);
    }

  return CTL_EXIT_OK;
}
