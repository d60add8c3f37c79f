/* export-msmtp.c: an msmtp account for ~/.msmtprc
 *
 * msmtp takes the rest of a line, without surrounding blanks, as the
 * argument of its command; double quotes around the whole of it are
 * removed, and nothing else is special (msmtp(1), CONFIGURATION FILES).
 * msmtp runs passwordeval with popen(), that is with /bin/sh -c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "exporter.h"
#include "export-private.h"

#include <string.h>

/* @value as msmtp reads it back. */
static void
append_command (GString *out,
                const char *command,
                const char *value)
{
  gsize length = strlen (value);
  gboolean quote = length > 0
                   && (value[0] == ' ' || value[0] == '\t'
                       || value[length - 1] == ' ' || value[length - 1] == '\t'
                       || (value[0] == '"' && value[length - 1] == '"'));

  g_string_append_printf (out, quote ? "%s \"%s\"\n" : "%s %s\n", command, value);
}

char *
ms_export_msmtp (const MsAccountData *account,
                 MsProvider *provider)
{
  GString *out = g_string_new (NULL);
  g_autofree char *name = ms_export_safe_name (account->address);
  g_autofree char *password_command = ms_export_password_command (account);
  const MsEndpoint *smtp = account->smtp;

  g_string_append_printf (out,
                          "# msmtp account for %s, written by mailsetup.\n"
                          "# Add it to ~/.msmtprc (or ~/.config/msmtp/config).  It holds no\n"
                          "# password: msmtp asks the keyring for it with secret-tool.\n",
                          account->address);

  append_command (out, "account", name);
  append_command (out, "host", smtp->hostname);
  g_string_append_printf (out, "port %u\n", smtp->port);
  g_string_append (out, "tls on\n");
  g_string_append_printf (out, "tls_starttls %s\n",
                          smtp->security == MS_SECURITY_STARTTLS ? "on" : "off");
  g_string_append (out, "auth on\n");
  append_command (out, "user", smtp->username_template);
  append_command (out, "from", account->address);
  append_command (out, "passwordeval", password_command);

  g_string_append_printf (out,
                          "\n"
                          "# The account msmtp uses when neither -a nor a matching from\n"
                          "# address picks one; leave this out if your file has a default.\n"
                          "account default : %s\n",
                          name);

  return g_string_free (out, FALSE);
}
