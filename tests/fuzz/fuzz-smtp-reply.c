/* fuzz-smtp-reply.c: SMTP server lines through the probe's parser
 *
 * The input is what a server sends: replies of one or more lines.  Each
 * complete reply is read the way the probe reads one; a 250 reply is
 * also read as an EHLO reply (keywords, AUTH mechanisms, SIZE).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"

#include <string.h>

#include "smtp-parse.h"

static void
check_ehlo (const MsSmtpReply *reply)
{
  static const char *const keywords[] = { "STARTTLS", "SIZE", "AUTH", "PIPELINING" };
  static const char *const mechanisms[] = { "PLAIN", "LOGIN", "XOAUTH2" };

  for (guint i = 1; i < reply->lines->len; i++)
    {
      const char *line = reply->lines->pdata[i];
      const char *params;
      guint64 size;

      for (guint k = 0; k < G_N_ELEMENTS (keywords); k++)
        if (ms_smtp_keyword_match (line, keywords[k], &params))
          g_assert_true (params >= line && params <= line + strlen (line));

      for (guint m = 0; m < G_N_ELEMENTS (mechanisms); m++)
        {
          gboolean listed = TRUE;
          gboolean is_auth = ms_smtp_auth_line_parse (line, mechanisms[m], &listed);

          g_assert_true (is_auth || !listed);
        }

      if (ms_smtp_keyword_match (line, "SIZE", &params)
          && ms_smtp_size_parse (params, &size))
        {
          g_autofree char *digits = g_strdup (params);

          /* Only digits (and trailing spaces) get through, and the value
           * is theirs. */
          g_strchomp (digits);
          g_assert_cmpuint (g_ascii_strtoull (digits, NULL, 10), ==, size);
          for (const char *p = digits; *p != '\0'; p++)
            g_assert_true (g_ascii_isdigit (*p));
        }
    }
}

static void
check_line (const char *line,
            gpointer user_data)
{
  MsSmtpReply *reply = user_data;
  MsSmtpReplyLine parsed;
  guint before = reply->lines != NULL ? reply->lines->len : 0;
  MsSmtpFeed fed;

  if (ms_smtp_reply_line_parse (line, &parsed))
    {
      g_assert_cmpint (parsed.code, >=, 200);
      g_assert_cmpint (parsed.code, <=, 559);
      g_assert_true (parsed.text >= line + 3 && parsed.text <= line + strlen (line));
    }

  fed = ms_smtp_reply_feed (reply, line);
  if (fed == MS_SMTP_FEED_INVALID)
    {
      /* The probe gives up here; go on with a fresh reply. */
      g_assert_cmpuint (reply->lines != NULL ? reply->lines->len : 0, ==, before);
      ms_smtp_reply_clear (reply);
      return;
    }

  g_assert_nonnull (reply->lines);
  g_assert_cmpuint (reply->lines->len, ==, before + 1);
  g_assert_cmpint (reply->code, ==, parsed.code);

  if (fed == MS_SMTP_FEED_DONE)
    {
      g_autofree char *joined = ms_smtp_reply_join (reply);

      fuzz_check_sanitize (joined);
      if (reply->code == 250)
        check_ehlo (reply);
      ms_smtp_reply_clear (reply);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t size)
{
  g_auto(MsSmtpReply) reply = { 0 };

  fuzz_setup ();
  fuzz_for_each_line (data, size, check_line, &reply);

  return 0;
}
