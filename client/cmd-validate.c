/* cmd-validate.c: mailsetupctl validate [--password-stdin] [--login LOGIN]
 *                                        [--timeout S] ADDRESS
 *
 * Reads the password (from the terminal without echo, or a line of
 * standard input), has the daemon sign in to the IMAP and SMTP servers
 * with it, shows the stages as its Progress signals arrive, and prints
 * the report.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"

#include <glib/gi18n.h>

#include "credentials.h"
#include "report-format.h"
#include "validation-call.h"

const GOptionEntry ctl_validate_options[] = {
  CTL_PASSWORD_STDIN_OPTION,
  CTL_LOGIN_OPTION,
  CTL_TIMEOUT_OPTION,
  { NULL }
};

int
ctl_cmd_validate (CtlClient *client, const char * const *args)
{
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) report = NULL;
  int status;

  status = ctl_validation_run (client, "ValidateCredentials", args[0],
                               &options, G_VARIANT_TYPE ("(a{sv})"), &reply);
  if (status != CTL_EXIT_OK)
    return status;

  report = g_variant_get_child_value (reply, 0);
  if (ctl_client_get_json (client))
    {
      ctl_print_json (report);
    }
  else
    {
      g_autoptr(GString) text = g_string_new (NULL);

      ctl_report_format (text, report);
      ctl_print_text (stdout, text->str);
    }

  return CTL_EXIT_OK;
}
