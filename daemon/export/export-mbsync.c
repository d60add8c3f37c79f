/* export-mbsync.c: an mbsync (isync) configuration for ~/.mbsyncrc
 *
 * mbsync(1): sections start with a keyword and end at an empty line;
 * arguments with blanks go in double quotes, inside which double quotes
 * and backslashes are escaped with a backslash.  PassCmd runs through
 * /bin/sh -c.  The keywords are those of isync 1.4 (Debian 12): isync 1.5
 * renamed SSLType to TLSType and still reads the old name.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "exporter.h"
#include "export-private.h"

#include <string.h>

static gboolean
is_plain_argument (const char *value)
{
  if (value[0] == '\0')
    return FALSE;

  for (const char *p = value; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("@%+=:,./_~*-", *p) == NULL)
      return FALSE;

  return TRUE;
}

static void
append_argument (GString *out,
                 const char *keyword,
                 const char *value)
{
  g_string_append_printf (out, "%s ", keyword);

  if (is_plain_argument (value))
    g_string_append (out, value);
  else
    {
      g_string_append_c (out, '"');
      for (const char *p = value; *p != '\0'; p++)
        {
          if (*p == '"' || *p == '\\')
            g_string_append_c (out, '\\');
          g_string_append_c (out, *p);
        }
      g_string_append_c (out, '"');
    }

  g_string_append_c (out, '\n');
}

char *
ms_export_mbsync (const MsAccountData *account,
                  MsProvider *provider)
{
  GString *out = g_string_new (NULL);
  g_autofree char *name = ms_export_safe_name (account->address);
  g_autofree char *password_command = ms_export_password_command (account);
  g_autofree char *remote = g_strconcat (":", name, "-remote:", NULL);
  g_autofree char *local = g_strconcat (":", name, "-local:", NULL);
  g_autofree char *remote_store = g_strconcat (name, "-remote", NULL);
  g_autofree char *local_store = g_strconcat (name, "-local", NULL);
  g_autofree char *path = g_strconcat ("~/Mail/", name, "/", NULL);
  g_autofree char *inbox = g_strconcat ("~/Mail/", name, "/INBOX", NULL);
  g_autofree char *mkdir_path = g_strconcat ("~/Mail/", name, NULL);
  g_autofree char *mkdir_word = ms_export_shell_word (mkdir_path + 2);
  g_autofree char *channel_word = ms_export_shell_word (name);
  const MsEndpoint *imap = account->imap;

  g_string_append_printf (out,
                          "# mbsync (isync) settings for %s, written by mailsetup.\n"
                          "# Add them to ~/.mbsyncrc and make the mail folder once:\n"
                          "#     mkdir -p ~/%s\n"
                          "# then fetch mail with: mbsync %s\n"
                          "# They hold no password: mbsync asks the keyring for it with\n"
                          "# secret-tool.  isync 1.5 calls SSLType TLSType, and reads both.\n"
                          "\n",
                          account->address, mkdir_word, channel_word);

  append_argument (out, "IMAPAccount", name);
  append_argument (out, "Host", imap->hostname);
  g_string_append_printf (out, "Port %u\n", imap->port);
  append_argument (out, "User", imap->username_template);
  append_argument (out, "PassCmd", password_command);
  append_argument (out, "SSLType",
                   imap->security == MS_SECURITY_TLS ? "IMAPS" : "STARTTLS");
  /* The IMAP LOGIN command is built in; SASL mechanisms depend on the
   * plug-ins installed. */
  append_argument (out, "AuthMechs", "LOGIN");
  g_string_append_c (out, '\n');

  append_argument (out, "IMAPStore", remote_store);
  append_argument (out, "Account", name);
  g_string_append_c (out, '\n');

  append_argument (out, "MaildirStore", local_store);
  append_argument (out, "Path", path);
  append_argument (out, "Inbox", inbox);
  append_argument (out, "SubFolders", "Verbatim");
  g_string_append_c (out, '\n');

  append_argument (out, "Channel", name);
  append_argument (out, "Far", remote);
  append_argument (out, "Near", local);
  append_argument (out, "Patterns", "*");
  append_argument (out, "Create", "Near");
  append_argument (out, "SyncState", "*");

  return g_string_free (out, FALSE);
}
