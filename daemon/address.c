/* address.c: checking and normalising the mail addresses people type
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "address.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mailsetup-error.h"

/* The DNS limit for one label; only checked for ASCII labels, since the
 * length of an internationalised label is that of its Punycode form. */
#define LABEL_MAX_LENGTH 63

/* Messages quote what was typed; keep a pasted paragraph from flooding
 * them. */
#define QUOTE_MAX_CHARS 64

/* What was typed, made printable for a message: control characters
 * become escapes and a very long text is cut short.  @text is valid
 * UTF-8. */
static char *
printable (const char *text)
{
  GString *out = g_string_new (NULL);
  glong n = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      if (n == QUOTE_MAX_CHARS)
        {
          g_string_append (out, "…");
          break;
        }

      if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (g_unichar_iscntrl (c))
        g_string_append_printf (out, "\\u%04X", c);
      else
        g_string_append_unichar (out, c);
    }

  return g_string_free (out, FALSE);
}

static gboolean
invalid (GError **error,
         const char *address,
         const char *problem)
{
  g_autofree char *quoted = printable (address);

  /* Translators: the first %s is what the user typed, the second says
   * what is wrong with it, e.g. "it has more than one “@”." */
  g_set_error (error, MS_ERROR, MS_ERROR_INVALID_ADDRESS,
               _("“%s” is not a mail address: %s"), quoted, problem);
  return FALSE;
}

static gboolean
is_label_char (char c)
{
  /* Non-ASCII bytes belong to internationalised domain names. */
  return g_ascii_isalnum (c) || c == '-' || (guchar) c >= 0x80;
}

/* @domain is lower-case UTF-8 without white space or control
 * characters. */
static gboolean
check_domain (const char *address,
              const char *domain,
              GError **error)
{
  g_auto (GStrv) labels = NULL;

  if (domain[0] == '.')
    return invalid (error, address, _("the domain starts with a dot."));
  if (g_str_has_suffix (domain, "."))
    return invalid (error, address, _("the domain ends with a dot."));
  if (strstr (domain, "..") != NULL)
    return invalid (error, address, _("the domain has two dots in a row."));

  labels = g_strsplit (domain, ".", -1);
  for (guint i = 0; labels[i] != NULL; i++)
    {
      const char *label = labels[i];
      gsize length = strlen (label);
      g_autofree char *problem = NULL;

      for (const char *p = label; *p != '\0'; p++)
        {
          if (!is_label_char (*p))
            {
              /* Translators: %c is a character such as “_” or “!”. */
              problem = g_strdup_printf (_("the domain contains “%c”, which "
                                           "is not allowed there."), *p);
              return invalid (error, address, problem);
            }
        }

      if (label[0] == '-' || label[length - 1] == '-')
        {
          /* Translators: %s is one dot-separated part of a domain. */
          g_autofree char *shown = printable (label);

          problem = g_strdup_printf (_("the domain part “%s” starts or ends "
                                       "with a hyphen."), shown);
          return invalid (error, address, problem);
        }

      if (length > LABEL_MAX_LENGTH && g_str_is_ascii (label))
        {
          g_autofree char *shown = printable (label);

          problem = g_strdup_printf (_("the domain part “%s” is longer than "
                                       "%d characters."),
                                     shown, LABEL_MAX_LENGTH);
          return invalid (error, address, problem);
        }
    }

  return TRUE;
}

char *
ms_address_normalize (const char *address,
                      GError **error)
{
  g_autofree char *trimmed = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *result = NULL;
  const char *at;
  guint n_at = 0;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Checked first: every later step and every message relies on it. */
  if (!g_utf8_validate (address, -1, NULL))
    {
      g_set_error_literal (error, MS_ERROR, MS_ERROR_INVALID_ADDRESS,
                           _("The mail address is not valid UTF-8 text."));
      return NULL;
    }

  trimmed = g_strstrip (g_strdup (address));

  if (trimmed[0] == '\0')
    {
      g_set_error_literal (error, MS_ERROR, MS_ERROR_INVALID_ADDRESS,
                           _("No mail address was given."));
      return NULL;
    }

  for (const char *p = trimmed; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      /* Control characters first: a line break is also white space, and
       * "control character" is the more useful name for it. */
      if (g_unichar_iscntrl (c))
        {
          invalid (error, trimmed,
                   _("it contains a control character such as a line "
                     "break."));
          return NULL;
        }
      if (g_unichar_isspace (c))
        {
          invalid (error, trimmed, _("it contains a space."));
          return NULL;
        }
      if (c == '@')
        n_at++;
    }

  if (n_at == 0)
    {
      invalid (error, trimmed, _("it has no “@”."));
      return NULL;
    }
  if (n_at > 1)
    {
      invalid (error, trimmed, _("it has more than one “@”."));
      return NULL;
    }

  at = strchr (trimmed, '@');
  if (at == trimmed)
    {
      invalid (error, trimmed, _("there is nothing before the “@”."));
      return NULL;
    }
  if (at[1] == '\0')
    {
      invalid (error, trimmed, _("there is nothing after the “@”."));
      return NULL;
    }

  /* Domains are case-insensitive; local parts belong to the server and
   * keep their case. */
  domain = g_utf8_strdown (at + 1, -1);
  if (!check_domain (trimmed, domain, error))
    return NULL;

  result = g_strdup_printf ("%.*s@%s", (int) (at - trimmed), trimmed, domain);

  /* Measured after lower-casing, which can change the length of
   * non-ASCII text. */
  if (strlen (result) > MS_ADDRESS_MAX_LENGTH)
    {
      g_autofree char *problem =
        g_strdup_printf (_("it is longer than %d bytes."),
                         MS_ADDRESS_MAX_LENGTH);

      invalid (error, trimmed, problem);
      return NULL;
    }

  return g_steal_pointer (&result);
}

const char *
ms_address_get_domain (const char *address)
{
  const char *at;

  g_return_val_if_fail (address != NULL, NULL);

  at = strrchr (address, '@');
  g_return_val_if_fail (at != NULL, NULL);

  return at + 1;
}

char *
ms_address_dup_local_part (const char *address)
{
  const char *at;

  g_return_val_if_fail (address != NULL, NULL);

  at = strrchr (address, '@');
  g_return_val_if_fail (at != NULL, NULL);

  return g_strndup (address, at - address);
}
