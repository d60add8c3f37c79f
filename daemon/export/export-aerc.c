/* export-aerc.c: an aerc account for ~/.config/aerc/accounts.conf
 *
 * aerc reads the file with go-ini and its default options: a value is the
 * rest of the line without surrounding blanks, cut at the first "#" or ";"
 * (an inline comment), with one pair of surrounding quotes removed; a
 * value in triple double quotes is taken as it is.  Source and outgoing
 * are URLs with the user name percent-encoded (aerc-imap(5),
 * aerc-smtp(5)); the -cred-cmd commands run through sh -c.
 *
 * The SMTP scheme follows aerc 0.14 (Debian 12): smtps:// is TLS from the
 * first byte, smtp:// is STARTTLS only with smtp-starttls = true.  aerc
 * 0.15 and later use STARTTLS for smtp:// anyway and warn that
 * smtp-starttls is obsolete.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "exporter.h"
#include "export-private.h"

#include <string.h>

/* Whether go-ini would read @value back as something else. */
static gboolean
needs_triple_quotes (const char *value)
{
  gsize length = strlen (value);

  if (length == 0)
    return FALSE;

  return strpbrk (value, "#;") != NULL
         || value[0] == '`'
         || g_str_has_prefix (value, "\"\"\"")
         || value[length - 1] == '\\'
         || g_ascii_isspace (value[0]) || g_ascii_isspace (value[length - 1])
         || (length >= 2 && (value[0] == '"' || value[0] == '\'')
             && value[length - 1] == value[0]);
}

static void
append_key (GString *out,
            const char *key,
            const char *value)
{
  if (needs_triple_quotes (value))
    g_string_append_printf (out, "%s = \"\"\"%s\"\"\"\n", key, value);
  else
    g_string_append_printf (out, "%s = %s\n", key, value);
}

char *
ms_export_aerc (const MsAccountData *account,
                MsProvider *provider)
{
  GString *out = g_string_new (NULL);
  g_autofree char *password_command = ms_export_password_command (account);
  g_autofree char *from = ms_export_mailbox (ms_export_real_name (account), account->address);
  const MsEndpoint *imap = account->imap;
  const MsEndpoint *smtp = account->smtp;
  g_autofree char *source = ms_export_url (imap->security == MS_SECURITY_TLS ? "imaps" : "imap",
                                           imap->username_template,
                                           imap->hostname, imap->port);
  g_autofree char *outgoing = ms_export_url (smtp->security == MS_SECURITY_TLS ? "smtps" : "smtp",
                                             smtp->username_template,
                                             smtp->hostname, smtp->port);

  g_string_append_printf (out,
                          "# aerc account for %s, written by mailsetup.\n"
                          "# Add it to ~/.config/aerc/accounts.conf, which aerc wants readable\n"
                          "# by you alone (chmod 600 ~/.config/aerc/accounts.conf).  It holds\n"
                          "# no password: aerc asks the keyring for it with secret-tool.\n",
                          account->address);

  /* go-ini takes everything up to the last "]" as the section's name. */
  g_string_append_printf (out, "[%s]\n", account->address);
  append_key (out, "source", source);
  append_key (out, "source-cred-cmd", password_command);
  append_key (out, "outgoing", outgoing);
  append_key (out, "outgoing-cred-cmd", password_command);
  if (smtp->security == MS_SECURITY_STARTTLS)
    g_string_append (out,
                     "# STARTTLS: aerc 0.14 needs this line; later versions do it\n"
                     "# anyway and say the line is obsolete.\n"
                     "smtp-starttls = true\n");
  append_key (out, "default", "INBOX");
  append_key (out, "from", from);
  append_key (out, "copy-to", ms_export_sent_folder (account, provider));

  return g_string_free (out, FALSE);
}
