/* export-common.c: quoting and naming that the format writers share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "export-private.h"

#include <string.h>

/* Characters that mean nothing to a POSIX shell inside a word. */
static gboolean
is_shell_plain (char c)
{
  return g_ascii_isalnum (c) || strchr ("@%+=:,./_-", c) != NULL;
}

char *
ms_export_shell_word (const char *word)
{
  if (word[0] == '\0')
    return g_shell_quote (word);

  for (const char *p = word; *p != '\0'; p++)
    if (!is_shell_plain (*p))
      return g_shell_quote (word);

  return g_strdup (word);
}

char *
ms_export_url (const char *scheme,
               const char *user,
               const char *host,
               guint16 port)
{
  g_autofree char *escaped_user = g_uri_escape_string (user, NULL, FALSE);
  gboolean ipv6 = strchr (host, ':') != NULL;

  return g_strdup_printf ("%s://%s@%s%s%s:%u", scheme, escaped_user,
                          ipv6 ? "[" : "", host, ipv6 ? "]" : "", port);
}

/* RFC 5322 atext. */
static gboolean
is_atext (char c)
{
  return g_ascii_isalnum (c) || strchr ("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static gboolean
is_dot_atom (const char *text,
             gsize length)
{
  if (length == 0 || text[0] == '.' || text[length - 1] == '.')
    return FALSE;

  for (gsize i = 0; i < length; i++)
    {
      if (text[i] == '.')
        {
          if (text[i + 1] == '.')
            return FALSE;
        }
      else if (!is_atext (text[i]))
        return FALSE;
    }

  return TRUE;
}

/* Words of atext with single spaces between them. */
static gboolean
is_phrase (const char *text)
{
  if (text[0] == ' ')
    return FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ' ')
        {
          if (p[1] == ' ' || p[1] == '\0')
            return FALSE;
        }
      else if (!is_atext (*p))
        return FALSE;
    }

  return TRUE;
}

/* An RFC 5322 quoted-string; UTF-8 stays as it is (RFC 6532). */
static void
append_quoted_string (GString *out,
                      const char *text,
                      gsize length)
{
  g_string_append_c (out, '"');
  for (gsize i = 0; i < length; i++)
    {
      if (text[i] == '"' || text[i] == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, text[i]);
    }
  g_string_append_c (out, '"');
}

char *
ms_export_mailbox (const char *name,
                   const char *address)
{
  GString *out = g_string_new (NULL);
  const char *at = strrchr (address, '@');
  gsize local_length = at != NULL ? (gsize) (at - address) : strlen (address);

  if (name != NULL && name[0] != '\0')
    {
      if (is_phrase (name))
        g_string_append (out, name);
      else
        append_quoted_string (out, name, strlen (name));
      g_string_append (out, " <");
    }

  if (is_dot_atom (address, local_length))
    g_string_append_len (out, address, local_length);
  else
    append_quoted_string (out, address, local_length);
  if (at != NULL)
    g_string_append (out, at);

  if (name != NULL && name[0] != '\0')
    g_string_append_c (out, '>');

  return g_string_free (out, FALSE);
}

const char *
ms_export_real_name (const MsAccountData *account)
{
  if (account->display_name == NULL || account->display_name[0] == '\0')
    return NULL;

  return account->display_name;
}

const char *
ms_export_sent_folder (const MsAccountData *account,
                       MsProvider *provider)
{
  if (g_strcmp0 (account->provider, "icloud.com") == 0
      || (provider != NULL && g_strcmp0 (provider->id, "icloud.com") == 0))
    return "Sent Messages";

  return "Sent";
}

char *
ms_export_safe_name (const char *name)
{
  char *safe = g_strdup (name);

  for (char *p = safe; *p != '\0'; p++)
    if ((guchar) *p < 0x80 && !g_ascii_isalnum (*p) && strchr ("@.+-_'", *p) == NULL)
      *p = '_';

  return safe;
}
