/* fuzz-imap-response.c: IMAP server lines through the probe's parser
 *
 * Each line of the input is one line from a server.  Besides not
 * crashing, the parser must keep its promises: everything it points at
 * lies inside the line, capability atoms are non-empty and hold no space,
 * and whatever the probe would repeat to a person (the text) is cleaned.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"

#include <string.h>

#include "imap-parse.h"

static void
check_inside (const char *line,
              const char *part,
              gsize part_len)
{
  gsize line_len = strlen (line);

  g_assert_true (part >= line && part <= line + line_len);
  g_assert_cmpuint (part_len, <=, (gsize) (line + line_len - part));
}

static void
check_line (const char *line,
            gpointer user_data)
{
  guint *tagged = user_data;
  MsImapResponse response;
  g_auto(GStrv) caps = NULL;

  if (!ms_imap_response_parse (line, &response))
    {
      g_assert_cmpint (response.kind, ==, MS_IMAP_LINE_INVALID);
      return;
    }

  g_assert_nonnull (response.text);
  check_inside (line, response.text, strlen (response.text));

  switch (response.kind)
    {
    case MS_IMAP_LINE_TAGGED:
      g_assert_true (response.tag == line);
      g_assert_cmpuint (response.tag_len, >, 0);
      g_assert_cmpint (line[response.tag_len], ==, ' ');
      g_assert_cmpint (response.status, !=, MS_IMAP_STATUS_BYE);
      g_assert_cmpint (response.status, !=, MS_IMAP_STATUS_PREAUTH);
      if (ms_imap_response_is_tagged (&response, "ms1"))
        (*tagged)++;
      break;

    case MS_IMAP_LINE_UNTAGGED:
      g_assert_true (line[0] == '*' && line[1] == ' ');
      g_assert_null (response.tag);
      break;

    case MS_IMAP_LINE_CONTINUATION:
      g_assert_cmpint (line[0], ==, '+');
      g_assert_cmpint (response.status, ==, MS_IMAP_STATUS_NONE);
      break;

    case MS_IMAP_LINE_INVALID:
    default:
      g_assert_not_reached ();
    }

  if (response.code != NULL)
    {
      g_assert_cmpint (response.status, !=, MS_IMAP_STATUS_NONE);
      g_assert_true (response.code == response.text + 1);
      g_assert_cmpuint (response.code_len, >, 0);
      check_inside (line, response.code, response.code_len);
      g_assert_null (memchr (response.code, ' ', response.code_len));
      g_assert_null (memchr (response.code, ']', response.code_len));
      if (response.code_args != NULL)
        {
          check_inside (line, response.code_args, response.code_args_len);
          g_assert_cmpint (response.code_args[response.code_args_len], ==, ']');
        }
      else
        {
          g_assert_cmpint (response.code[response.code_len], ==, ']');
        }
    }
  else
    {
      g_assert_null (response.code_args);
    }

  /* The probe's decisions. */
  ms_imap_response_has_code (&response, "AUTHENTICATIONFAILED");
  ms_imap_response_has_code (&response, "UNAVAILABLE");

  caps = ms_imap_response_dup_capabilities (&response);
  for (char **atom = caps; atom != NULL && *atom != NULL; atom++)
    {
      g_assert_cmpint (**atom, !=, '\0');
      g_assert_null (strchr (*atom, ' '));
    }

  fuzz_check_sanitize (response.text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t size)
{
  guint tagged = 0;

  fuzz_setup ();
  fuzz_for_each_line (data, size, check_line, &tagged);

  /* The capability splitter on its own, over raw bytes. */
  {
    g_auto(GStrv) atoms = NULL;
    gsize len = size;
    const char *nul = memchr (data, '\0', size);

    if (nul != NULL)
      len = nul - (const char *) data;
    atoms = ms_imap_capabilities_parse ((const char *) data, len);
    g_assert_nonnull (atoms);
  }

  return 0;
}
