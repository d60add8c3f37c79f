/* cmd-remove.c: mailsetupctl remove [--yes] ADDRESS
 *
 * Removes an account, its settings and its stored password
 * (Account.Remove), after asking on the terminal unless --yes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "account-lookup.h"
#include "mailsetup-error.h"

#define ANSWER_MAX 256

static gboolean opt_yes;

const GOptionEntry ctl_remove_options[] = {
  { "yes", 'y', 0, G_OPTION_ARG_NONE, &opt_yes,
    N_("Do not ask: remove the account"), NULL },
  { NULL }
};

/* Asks on the terminal whether to remove the account for @address.
 * Returns: TRUE for a yes in the locale's language (rpmatch). */
static gboolean
confirm (const char *address)
{
  char answer[ANSWER_MAX];
  g_autofree char *question =
    /* Translators: the answers are the locale's own yes and no (rpmatch);
     * keep the [y/N] in step with them. */
    g_strdup_printf (_("Remove the account %s and its stored password? "
                       "[y/N] "), address);

  ctl_print_text (stderr, question);
  if (fgets (answer, sizeof answer, stdin) == NULL)
    {
      /* End of input: the line the terminal did not get. */
      g_printerr ("\n");
      return FALSE;
    }

  return rpmatch (answer) == 1;
}

int
ctl_cmd_remove (CtlClient *client, const char * const *args)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;
  g_autoptr(CtlAccount) account = NULL;
  g_autoptr(GVariant) reply = NULL;

  if (!opt_yes && !isatty (STDIN_FILENO))
    return ctl_usage_error (_("Standard input is not a terminal, so there is "
                              "no one to ask before removing the account. "
                              "To remove it without asking, use --yes."));

  account = ctl_account_find (client, args[0], &error);
  if (account == NULL)
    return ctl_client_report_error (client, &error);

  if (!opt_yes && !confirm (account->address))
    {
      dbus_set_error (&error, ms_error_dbus_name (MS_ERROR_CANCELLED),
                      _("The account %s was not removed."), account->address);
      return ctl_client_report_error (client, &error);
    }

  reply = ctl_client_call (client, account->path, CTL_ACCOUNT_INTERFACE,
                           "Remove",
                           NULL, G_VARIANT_TYPE_UNIT, &error);
  if (reply == NULL)
    return ctl_client_report_error (client, &error);

  if (ctl_client_get_json (client))
    {
      g_autoptr(GVariant) result =
        g_variant_ref_sink (g_variant_new_parsed ("{'address': <%s>, "
                                                  "'removed': <true>}",
                                                  account->address));

      ctl_print_json (result);
    }
  else
    {
      g_autofree char *line = g_strdup_printf (_("Removed the account %s.\n"),
                                               account->address);

      ctl_print_text (stdout, line);
    }

  return CTL_EXIT_OK;
}
