/* cmd-check.c: mailsetupctl check ADDRESS
 *
 * Has the daemon sign in again with the stored password (Account.Check),
 * then prints the outcome, which the account's Status and StatusMessage
 * hold, and exits with a status that tells scripts which it was.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"

#include <glib/gi18n.h>

#include "account-format.h"
#include "account-lookup.h"
#include "mailsetup-error.h"
#include "settings-format.h"
#include "validation-call.h"

/* The exit status for the Status a check ended with: those of the errors
 * that mean the same, as the command's --help says. */
static int
exit_status_for_status (const char *status)
{
  static const struct {
    const char *status;
    int code;
  } failures[] = {
    { "auth-failed", MS_ERROR_AUTHENTICATION_FAILED },
    { "unreachable", MS_ERROR_CONNECTION_FAILED },
    { "needs-password", MS_ERROR_SECRET_STORE_UNAVAILABLE },
  };

  if (g_strcmp0 (status, "ok") == 0)
    return CTL_EXIT_OK;

  for (gsize i = 0; i < G_N_ELEMENTS (failures); i++)
    if (g_strcmp0 (status, failures[i].status) == 0)
      return CTL_EXIT_DAEMON_ERROR + failures[i].code;

  return CTL_EXIT_FAILURE;
}

/* "jane@icloud.com: working", and the message below it. */
static void
print_outcome (GVariant *properties, const char *address)
{
  const char *status = ctl_settings_lookup_string (properties, "Status");
  const char *message = ctl_settings_lookup_string (properties,
                                                    "StatusMessage");
  g_autoptr(GString) text = g_string_new (NULL);

  g_string_append_printf (text, "%s: %s\n", address,
                          ctl_account_status_label (status));
  if (message != NULL)
    ctl_text_wrap_lines (text, message, 2, CTL_FORMAT_WRAP_WIDTH);
  ctl_print_text (stdout, text->str);
}

int
ctl_cmd_check (CtlClient *client, const char * const *args)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;
  g_autoptr(CtlAccount) account = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) properties = NULL;
  DBusMessage *message;

  account = ctl_account_find (client, args[0], &error);
  if (account == NULL)
    return ctl_client_report_error (client, &error);

  if (!ctl_client_get_json (client))
    {
      g_autofree char *line = g_strdup_printf (_("Checking %s…\n"),
                                               account->address);

      ctl_print_text (stderr, line);
    }

  /* Check validates with the daemon's default time limit. */
  message = ctl_client_new_call (account->path, CTL_ACCOUNT_INTERFACE,
                                 "Check");
  reply = ctl_client_send (client, message, ctl_validation_call_timeout (0),
                           G_VARIANT_TYPE_UNIT, &error);
  dbus_message_unref (message);
  if (reply == NULL)
    return ctl_client_report_error (client, &error);

  properties = ctl_account_get_properties (client, account->path, &error);
  if (properties == NULL)
    return ctl_client_report_error (client, &error);

  if (ctl_client_get_json (client))
    ctl_print_json (properties);
  else
    print_outcome (properties, account->address);

  return exit_status_for_status (ctl_settings_lookup_string (properties,
                                                             "Status"));
}
