/* probe-private.h: helpers shared by the IMAP and SMTP probes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "probe.h"

G_BEGIN_DECLS

/* The status page named in "service unavailable" messages. */
#define MS_PROBE_STATUS_URL "https://www.apple.com/support/systemstatus/"

/* A string that may hold credentials: allocated in one piece and wiped
 * before it is freed. */
typedef char MsSecret;

void ms_secret_free (MsSecret *secret);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsSecret, ms_secret_free)

/* Concatenates the NULL-terminated list of strings.
 * Returns: (transfer full) */
MsSecret *ms_secret_concat (const char *first, ...) G_GNUC_NULL_TERMINATED;

/* Base64 of @len bytes of @data.  Returns: (transfer full) */
MsSecret *ms_secret_base64 (const char *data, gsize len);

/* Base64 of "\0username\0password" (SASL PLAIN, RFC 4616).
 * Returns: (transfer full) */
MsSecret *ms_secret_sasl_plain (const char *username, const char *password);

void ms_probe_emit (const MsProbeRequest *req, const char *stage);

/* Refuses empty credentials and CR / LF in them before anything is sent. */
gboolean ms_probe_check_request (const MsProbeRequest *req, GError **error);

/* A line from the server made fit for a log or a message: printable ASCII
 * only, at most @max_len characters, any occurrence of @password replaced
 * by "<hidden>" (a server could echo it).  Returns: (transfer full) */
char *ms_probe_sanitize (const char *text, const char *password, gsize max_len);

void ms_probe_log_sent (const char *protocol, MsConnection *conn,
                        const char *text);
void ms_probe_log_received (const char *protocol, MsConnection *conn,
                            const char *line, const char *password);

/* After a successful run: marks @result authenticated when credentials
 * were given, emits "done" and calls the request's verdict_cb, all before
 * the polite LOGOUT / QUIT. */
void ms_probe_report_verdict (const MsProbeRequest *req, MsProbeResult *result);

/* Fills the result fields common to both probes from the connection. */
void ms_probe_finish_result (MsProbeResult *result, MsConnection *conn,
                             gint64 started);

/* The deadline for a polite goodbye after the verdict is known. */
gint64 ms_probe_goodbye_deadline (gint64 deadline);

/* For a server that says a login worked before it had the password: that
 * proves nothing about the password, so it is no verdict.
 * Returns: (transfer full) MS_ERROR_PROTOCOL_ERROR */
GError *ms_probe_premature_success_error (const MsProbeRequest *req);

G_END_DECLS
