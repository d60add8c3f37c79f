/* cmd-show.c: mailsetupctl show ADDRESS
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"

#include "account-format.h"
#include "account-lookup.h"

int
ctl_cmd_show (CtlClient *client, const char * const *args)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;
  g_autoptr(CtlAccount) account = NULL;

  account = ctl_account_find (client, args[0], &error);
  if (account == NULL)
    return ctl_client_report_error (client, &error);

  ctl_account_print (client, account->properties);

  return CTL_EXIT_OK;
}
