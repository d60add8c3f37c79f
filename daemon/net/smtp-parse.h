/* smtp-parse.h: reading SMTP replies and EHLO keywords
 *
 * Pure functions over lines the connection has already read (without
 * their CRLF, no NUL inside): no I/O.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One line of a reply, taken apart.  @text points into the line given to
 * ms_smtp_reply_line_parse() (transfer none). */
typedef struct {
  int code;          /* 200 … 559 */
  gboolean more;     /* "-" after the code: more lines follow */
  const char *text;  /* after the code and its separator; "" if none */
} MsSmtpReplyLine;

/* Takes @line apart: three digits (2–5, 0–5, 0–9), then "-", " " or the
 * end of the line (RFC 5321 §4.2; a bare code is tolerated).
 * Returns: FALSE if @line is not a reply line. */
gboolean ms_smtp_reply_line_parse (const char *line,
                                   MsSmtpReplyLine *out);

/* A whole reply, one line at a time. */
typedef struct {
  int code;          /* 0 until the first line */
  GPtrArray *lines;  /* of char *: each line's text, NULL until the first */
} MsSmtpReply;

void ms_smtp_reply_clear (MsSmtpReply *reply);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MsSmtpReply, ms_smtp_reply_clear)

typedef enum {
  MS_SMTP_FEED_MORE,     /* the reply goes on */
  MS_SMTP_FEED_DONE,     /* that was its last line */
  MS_SMTP_FEED_INVALID,  /* not a reply line, or a different code */
} MsSmtpFeed;

/* Adds @line to @reply, which must be zeroed (or cleared) before its
 * first line.  After MS_SMTP_FEED_INVALID, @reply is left as it was. */
MsSmtpFeed ms_smtp_reply_feed (MsSmtpReply *reply,
                               const char *line);

/* The texts of @reply's lines joined with spaces.
 * Returns: (transfer full) */
char *ms_smtp_reply_join (const MsSmtpReply *reply);

/* Whether the EHLO keyword line @line has the keyword @keyword (any
 * case); *params then points past it and its space (transfer none). */
gboolean ms_smtp_keyword_match (const char *line,
                                const char *keyword,
                                const char **params);

/* For an EHLO keyword line: whether it is an AUTH line ("AUTH PLAIN
 * LOGIN", or the old "AUTH=PLAIN LOGIN"), and then whether it lists
 * @mechanism (any case) in *has_mechanism. */
gboolean ms_smtp_auth_line_parse (const char *line,
                                  const char *mechanism,
                                  gboolean *has_mechanism);

/* The value of an EHLO SIZE keyword's @params (RFC 1870): decimal digits
 * only, and it must fit.  0 means no fixed limit.
 * Returns: FALSE if @params is not such a number. */
gboolean ms_smtp_size_parse (const char *params,
                             guint64 *size);

G_END_DECLS
