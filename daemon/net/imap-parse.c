/* imap-parse.c: reading one IMAP server response line
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "imap-parse.h"

#include <string.h>

/* Whether @text starts with @word (any case) followed by a space or the
 * end; *rest then points past the space. */
static gboolean
starts_with_word (const char *text,
                  const char *word,
                  const char **rest)
{
  gsize len = strlen (word);

  if (g_ascii_strncasecmp (text, word, len) != 0
      || (text[len] != ' ' && text[len] != '\0'))
    return FALSE;

  *rest = text[len] == ' ' ? text + len + 1 : text + len;
  return TRUE;
}

static void
parse_code (MsImapResponse *response)
{
  const char *atom;
  gsize atom_len;
  const char *end;

  if (response->text[0] != '[')
    return;
  atom = response->text + 1;
  atom_len = strcspn (atom, " ]");
  if (atom_len == 0)
    return;

  if (atom[atom_len] == ']')
    {
      response->code = atom;
      response->code_len = atom_len;
      return;
    }
  if (atom[atom_len] != ' ')
    return;

  /* Arguments never hold "]" (RFC 9051 resp-text-code). */
  end = strchr (atom + atom_len + 1, ']');
  if (end == NULL)
    return;

  response->code = atom;
  response->code_len = atom_len;
  response->code_args = atom + atom_len + 1;
  response->code_args_len = end - response->code_args;
}

/* Reads the status word at @rest, then the response code after it. */
static void
parse_status (MsImapResponse *response,
              const char *rest,
              gboolean untagged)
{
  static const struct {
    const char *word;
    MsImapStatus status;
    gboolean untagged_only;
  } words[] = {
    { "OK", MS_IMAP_STATUS_OK, FALSE },
    { "NO", MS_IMAP_STATUS_NO, FALSE },
    { "BAD", MS_IMAP_STATUS_BAD, FALSE },
    { "BYE", MS_IMAP_STATUS_BYE, TRUE },
    { "PREAUTH", MS_IMAP_STATUS_PREAUTH, TRUE },
  };

  response->status = MS_IMAP_STATUS_NONE;
  response->text = rest;

  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    {
      if ((untagged || !words[i].untagged_only)
          && starts_with_word (rest, words[i].word, &response->text))
        {
          response->status = words[i].status;
          parse_code (response);
          return;
        }
    }
}

gboolean
ms_imap_response_parse (const char *line,
                        MsImapResponse *response)
{
  const char *space;

  g_return_val_if_fail (line != NULL, FALSE);
  g_return_val_if_fail (response != NULL, FALSE);

  memset (response, 0, sizeof *response);

  if (line[0] == '*')
    {
      if (line[1] != ' ')
        return FALSE;
      response->kind = MS_IMAP_LINE_UNTAGGED;
      parse_status (response, line + 2, TRUE);
      return TRUE;
    }

  /* iCloud sends a bare "+" with no text. */
  if (line[0] == '+')
    {
      if (line[1] != ' ' && line[1] != '\0')
        return FALSE;
      response->kind = MS_IMAP_LINE_CONTINUATION;
      response->text = line[1] == ' ' ? line + 2 : line + 1;
      return TRUE;
    }

  space = strchr (line, ' ');
  if (space == NULL || space == line)
    return FALSE;

  response->kind = MS_IMAP_LINE_TAGGED;
  response->tag = line;
  response->tag_len = space - line;
  parse_status (response, space + 1, FALSE);
  return TRUE;
}

gboolean
ms_imap_response_has_code (const MsImapResponse *response,
                           const char *code)
{
  g_return_val_if_fail (response != NULL && code != NULL, FALSE);

  return response->code != NULL
         && response->code_len == strlen (code)
         && g_ascii_strncasecmp (response->code, code, response->code_len) == 0;
}

gboolean
ms_imap_response_is_tagged (const MsImapResponse *response,
                            const char *tag)
{
  g_return_val_if_fail (response != NULL && tag != NULL, FALSE);

  return response->kind == MS_IMAP_LINE_TAGGED
         && response->tag_len == strlen (tag)
         && strncmp (response->tag, tag, response->tag_len) == 0;
}

GStrv
ms_imap_response_dup_capabilities (const MsImapResponse *response)
{
  const char *list;

  g_return_val_if_fail (response != NULL, NULL);

  if (response->kind == MS_IMAP_LINE_UNTAGGED
      && response->status == MS_IMAP_STATUS_NONE
      && starts_with_word (response->text, "CAPABILITY", &list))
    return ms_imap_capabilities_parse (list, strlen (list));

  if (response->status != MS_IMAP_STATUS_NONE
      && response->code_args != NULL
      && ms_imap_response_has_code (response, "CAPABILITY"))
    return ms_imap_capabilities_parse (response->code_args,
                                       response->code_args_len);

  return NULL;
}

GStrv
ms_imap_capabilities_parse (const char *list,
                            gsize len)
{
  GPtrArray *atoms;
  gsize start = 0;

  g_return_val_if_fail (list != NULL || len == 0, NULL);

  atoms = g_ptr_array_new ();
  /* Empty atoms come from the trailing space some servers send. */
  for (gsize i = 0; i <= len; i++)
    {
      if (i < len && list[i] != ' ')
        continue;
      if (i > start)
        g_ptr_array_add (atoms, g_strndup (list + start, i - start));
      start = i + 1;
    }
  g_ptr_array_add (atoms, NULL);

  return (GStrv) g_ptr_array_free (atoms, FALSE);
}
