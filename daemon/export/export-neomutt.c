/* export-neomutt.c: NeoMutt settings for the account
 *
 * NeoMutt reads each value of `set` as a token: inside double quotes a
 * backslash escapes the next character, "$name" is replaced by a
 * variable and `command` by the first line the command prints.  The text
 * between backticks is read once more the same way, except that quotes
 * are kept, before /bin/sh -c runs it; so there, too, "\", "`" and "$"
 * need a backslash.  The variable names are those of NeoMutt 2022
 * (real_name, spool_file), which still reads the older ones.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "exporter.h"
#include "export-private.h"

/* @text inside a double-quoted NeoMutt token. */
static void
append_escaped (GString *out,
                const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\' || *p == '`' || *p == '$')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
}

static void
append_set (GString *out,
            const char *variable,
            const char *value)
{
  g_string_append_printf (out, "set %s = \"", variable);
  append_escaped (out, value);
  g_string_append (out, "\"\n");
}

/* A variable set to what @command prints when NeoMutt reads the file. */
static void
append_set_command (GString *out,
                    const char *variable,
                    const char *command)
{
  g_string_append_printf (out, "set %s = \"`", variable);
  for (const char *p = command; *p != '\0'; p++)
    {
      if (*p == '\\' || *p == '`' || *p == '$')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append (out, "`\"\n");
}

char *
ms_export_neomutt (const MsAccountData *account,
                   MsProvider *provider)
{
  GString *out = g_string_new (NULL);
  g_autofree char *password_command = ms_export_password_command (account);
  g_autofree char *from = ms_export_mailbox (NULL, account->address);
  g_autofree char *record = g_strconcat ("+", ms_export_sent_folder (account, provider), NULL);
  g_autofree char *imap_base = NULL;
  g_autofree char *smtp_base = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *smtp_url = NULL;
  const char *real_name = ms_export_real_name (account);
  const MsEndpoint *imap = account->imap;
  const MsEndpoint *smtp = account->smtp;

  imap_base = ms_export_url (imap->security == MS_SECURITY_TLS ? "imaps" : "imap",
                             imap->username_template, imap->hostname, imap->port);
  folder = g_strconcat (imap_base, "/", NULL);
  smtp_base = ms_export_url (smtp->security == MS_SECURITY_TLS ? "smtps" : "smtp",
                             smtp->username_template, smtp->hostname, smtp->port);
  smtp_url = g_strconcat (smtp_base, "/", NULL);

  g_string_append_printf (out,
                          "# NeoMutt settings for %s, written by mailsetup.\n"
                          "# Save them as ~/.config/neomutt/neomuttrc, or in a file of their\n"
                          "# own that neomuttrc reads with \"source\".  They hold no password:\n"
                          "# NeoMutt asks the keyring for it with secret-tool when it starts.\n",
                          account->address);

  append_set (out, "from", from);
  if (real_name != NULL)
    append_set (out, "real_name", real_name);
  append_set (out, "imap_user", imap->username_template);
  append_set_command (out, "imap_pass", password_command);
  append_set (out, "folder", folder);
  append_set (out, "spool_file", "+INBOX");
  append_set (out, "record", record);
  append_set (out, "smtp_url", smtp_url);
  append_set_command (out, "smtp_pass", password_command);
  /* STARTTLS where the URL is not imaps:// or smtps://, and never a
   * password without TLS. */
  g_string_append (out,
                   "set ssl_starttls = yes\n"
                   "set ssl_force_tls = yes\n");

  return g_string_free (out, FALSE);
}
