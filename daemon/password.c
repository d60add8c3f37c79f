/* password.c: the rules for the passwords people type, and wiping them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "password.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mailsetup-error.h"

gboolean
ms_password_check (const char *password,
                   GError **error)
{
  gsize length = strlen (password);

  if (length == 0)
    {
      g_set_error_literal (error, MS_ERROR, MS_ERROR_INVALID_PASSWORD,
                           _("The password is empty. Enter the app-specific password "
                             "you created for this account."));
      return FALSE;
    }

  if (length > MS_PASSWORD_MAX_LENGTH)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INVALID_PASSWORD,
                   _("The password is longer than %d bytes; no mail password is that long."),
                   MS_PASSWORD_MAX_LENGTH);
      return FALSE;
    }

  if (!g_utf8_validate (password, length, NULL))
    {
      g_set_error_literal (error, MS_ERROR, MS_ERROR_INVALID_PASSWORD,
                           _("The password is not valid text (UTF-8)."));
      return FALSE;
    }

  /* Line breaks would end an IMAP or SMTP command early: a pasted
   * password with a trailing newline, or an attempt at command injection. */
  for (const char *p = password; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      {
        g_set_error_literal (error, MS_ERROR, MS_ERROR_INVALID_PASSWORD,
                             _("The password contains a line break or another control "
                               "character. Copy it again without the end of the line."));
        return FALSE;
      }

  return TRUE;
}

gboolean
ms_password_looks_app_specific (const char *password)
{
  if (strlen (password) != 19)
    return FALSE;

  for (int i = 0; i < 19; i++)
    {
      gboolean dash_here = (i % 5) == 4;

      if (dash_here ? password[i] != '-' : !g_ascii_islower (password[i]))
        return FALSE;
    }

  return TRUE;
}

char *
ms_password_dup (const char *password)
{
  return g_strdup (password);
}

void
ms_password_free (char *password)
{
  if (password == NULL)
    return;

  explicit_bzero (password, strlen (password));
  g_free (password);
}
