/* smtp-parse.c: reading SMTP replies and EHLO keywords
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "smtp-parse.h"

#include <string.h>

gboolean
ms_smtp_reply_line_parse (const char *line,
                          MsSmtpReplyLine *out)
{
  g_return_val_if_fail (line != NULL && out != NULL, FALSE);

  /* Each test stops at the NUL of a shorter line. */
  if (line[0] < '2' || line[0] > '5'
      || line[1] < '0' || line[1] > '5'
      || !g_ascii_isdigit (line[2])
      || (line[3] != '-' && line[3] != ' ' && line[3] != '\0'))
    return FALSE;

  out->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  out->more = line[3] == '-';
  out->text = line[3] != '\0' ? line + 4 : line + 3;
  return TRUE;
}

void
ms_smtp_reply_clear (MsSmtpReply *reply)
{
  g_clear_pointer (&reply->lines, g_ptr_array_unref);
  reply->code = 0;
}

MsSmtpFeed
ms_smtp_reply_feed (MsSmtpReply *reply,
                    const char *line)
{
  MsSmtpReplyLine parsed;

  g_return_val_if_fail (reply != NULL && line != NULL, MS_SMTP_FEED_INVALID);

  if (!ms_smtp_reply_line_parse (line, &parsed))
    return MS_SMTP_FEED_INVALID;
  /* Every line of a reply has the same code (RFC 5321 §4.2.1). */
  if (reply->lines != NULL && reply->lines->len > 0 && parsed.code != reply->code)
    return MS_SMTP_FEED_INVALID;

  if (reply->lines == NULL)
    reply->lines = g_ptr_array_new_with_free_func (g_free);
  reply->code = parsed.code;
  g_ptr_array_add (reply->lines, g_strdup (parsed.text));

  return parsed.more ? MS_SMTP_FEED_MORE : MS_SMTP_FEED_DONE;
}

char *
ms_smtp_reply_join (const MsSmtpReply *reply)
{
  GString *joined = g_string_new (NULL);

  g_return_val_if_fail (reply != NULL, NULL);

  for (guint i = 0; reply->lines != NULL && i < reply->lines->len; i++)
    {
      if (i > 0)
        g_string_append_c (joined, ' ');
      g_string_append (joined, reply->lines->pdata[i]);
    }

  return g_string_free (joined, FALSE);
}

gboolean
ms_smtp_keyword_match (const char *line,
                       const char *keyword,
                       const char **params)
{
  gsize len;

  g_return_val_if_fail (line != NULL && keyword != NULL, FALSE);

  len = strlen (keyword);
  if (g_ascii_strncasecmp (line, keyword, len) != 0
      || (line[len] != ' ' && line[len] != '\0'))
    return FALSE;

  if (params != NULL)
    *params = line[len] == ' ' ? line + len + 1 : line + len;
  return TRUE;
}

gboolean
ms_smtp_auth_line_parse (const char *line,
                         const char *mechanism,
                         gboolean *has_mechanism)
{
  g_auto(GStrv) words = NULL;

  g_return_val_if_fail (line != NULL && mechanism != NULL, FALSE);
  g_return_val_if_fail (has_mechanism != NULL, FALSE);

  *has_mechanism = FALSE;
  if (g_ascii_strncasecmp (line, "AUTH", 4) != 0
      || (line[4] != ' ' && line[4] != '='))
    return FALSE;

  words = g_strsplit (line + 5, " ", -1);
  for (char **word = words; *word != NULL; word++)
    if (g_ascii_strcasecmp (*word, mechanism) == 0)
      *has_mechanism = TRUE;

  return TRUE;
}

gboolean
ms_smtp_size_parse (const char *params,
                    guint64 *size)
{
  guint64 value = 0;
  gsize len;

  g_return_val_if_fail (params != NULL && size != NULL, FALSE);

  len = strlen (params);

  /* Not g_ascii_strtoull(): it takes a sign, leading white space and
   * "0x", and wraps "-1" around to 2^64 - 1.  Trailing spaces are
   * tolerated, as in IMAP capability lists. */
  while (len > 0 && params[len - 1] == ' ')
    len--;
  if (len == 0)
    return FALSE;
  for (const char *p = params; p < params + len; p++)
    {
      guint digit;

      if (!g_ascii_isdigit (*p))
        return FALSE;
      digit = *p - '0';
      if (value > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
    }

  *size = value;
  return TRUE;
}
