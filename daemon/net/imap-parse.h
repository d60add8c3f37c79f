/* imap-parse.h: reading one IMAP server response line
 *
 * Pure functions over a line the connection has already read (without its
 * CRLF, no NUL inside): no I/O, no allocation except where a function says
 * it returns something to free.  Tolerant of what iCloud is known to send
 * (odd text after a tagged OK, a bare "+", a trailing space in capability
 * lists) and strict about the structure a client relies on.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MS_IMAP_LINE_INVALID,      /* none of the forms below */
  MS_IMAP_LINE_UNTAGGED,     /* "* …" */
  MS_IMAP_LINE_CONTINUATION, /* "+ …", or a bare "+" */
  MS_IMAP_LINE_TAGGED,       /* "<tag> …" */
} MsImapLineKind;

typedef enum {
  MS_IMAP_STATUS_NONE,       /* no status word: untagged data (CAPABILITY,
                              * ID, …), or an unknown word */
  MS_IMAP_STATUS_OK,
  MS_IMAP_STATUS_NO,
  MS_IMAP_STATUS_BAD,
  MS_IMAP_STATUS_BYE,        /* untagged only */
  MS_IMAP_STATUS_PREAUTH,    /* untagged only */
} MsImapStatus;

/* One response line, taken apart.  Every pointer points into the line
 * given to ms_imap_response_parse() (transfer none) and lives as long as
 * it does. */
typedef struct {
  MsImapLineKind kind;
  /* TAGGED: the tag, up to the first space (not NUL-terminated). */
  const char *tag;
  gsize tag_len;
  /* UNTAGGED and TAGGED: the status word, matched in any case.  A tagged
   * line with a word other than OK, NO or BAD has STATUS_NONE. */
  MsImapStatus status;
  /* What follows the status word and its space ("" if nothing), for a
   * status; for untagged data, what follows "* "; for a continuation,
   * what follows "+ " ("" for a bare "+").  NULL for INVALID. */
  const char *text;
  /* The response code at the start of @text ("[ATOM args]"), for a
   * status; NULL if there is none or its "]" is missing.  @code_args is
   * what follows the atom's space up to the "]", or NULL when the atom
   * ends at "]". */
  const char *code;
  gsize code_len;
  const char *code_args;
  gsize code_args_len;
} MsImapResponse;

/* Takes @line apart into @response.
 * Returns: FALSE for MS_IMAP_LINE_INVALID. */
gboolean ms_imap_response_parse (const char *line,
                                 MsImapResponse *response);

/* Whether @response has the response code @code (any case). */
gboolean ms_imap_response_has_code (const MsImapResponse *response,
                                    const char *code);

/* Whether @response is the tagged reply to the command tagged @tag. */
gboolean ms_imap_response_is_tagged (const MsImapResponse *response,
                                     const char *tag);

/* The capability list @response announces: untagged "* CAPABILITY …",
 * or a status with a "[CAPABILITY …]" code.
 * Returns: (transfer full) (nullable): the atoms, or NULL if @response
 * announces none. */
GStrv ms_imap_response_dup_capabilities (const MsImapResponse *response);

/* Splits the first @len bytes of @list at spaces into capability atoms,
 * dropping the empty ones a trailing or doubled space leaves.
 * Returns: (transfer full): the atoms (possibly none). */
GStrv ms_imap_capabilities_parse (const char *list,
                                  gsize len);

G_END_DECLS
