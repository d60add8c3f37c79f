/* smtp-probe.c: one SMTP submission login attempt on a fresh connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "smtp-probe.h"

#include "mailsetup-error.h"
#include "probe-private.h"
#include "smtp-parse.h"

#include <glib/gi18n.h>
#include <string.h>

#define PROTOCOL "SMTP"

/* An EHLO reply has a dozen lines; these bounds stop a server that never
 * ends its reply. */
#define MAX_REPLY_LINES 100
#define MAX_REPLY_BYTES (64 * 1024)

/* How much of the server's own words goes into a message. */
#define MAX_SERVER_TEXT 200

typedef struct {
  const MsProbeRequest *req;
  GCancellable *cancellable;
  MsConnection *conn;
  GPtrArray *keywords; /* of char *: EHLO lines after the first, or NULL */
} SmtpProbe;

static void
smtp_probe_clear (SmtpProbe *probe)
{
  g_clear_pointer (&probe->conn, ms_connection_free);
  g_clear_pointer (&probe->keywords, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SmtpProbe, smtp_probe_clear)

/* The name we give in EHLO: our host name if it looks like one, else
 * "localhost" (some servers reject what is not a domain). */
static const char *
helo_name (void)
{
  const char *name = g_get_host_name ();
  gsize len = strlen (name);
  gsize label_len = 0;

  if (len == 0 || len > 253)
    return "localhost";

  for (gsize i = 0; i <= len; i++)
    {
      char c = name[i];

      if (c == '.' || c == '\0')
        {
          if (label_len == 0 || label_len > 63 || name[i - 1] == '-')
            return "localhost";
          label_len = 0;
        }
      else if (g_ascii_isalnum (c) || (c == '-' && label_len > 0))
        label_len++;
      else
        return "localhost";
    }

  return name;
}

static char *
reply_text (SmtpProbe *probe,
            const MsSmtpReply *reply)
{
  g_autofree char *joined = ms_smtp_reply_join (reply);

  return ms_probe_sanitize (joined, probe->req->password, MAX_SERVER_TEXT);
}

static void
set_not_smtp_error (SmtpProbe *probe,
                    const char *line,
                    GError **error)
{
  g_autofree char *said = ms_probe_sanitize (line, probe->req->password,
                                             MAX_SERVER_TEXT);

  g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
               _("%s port %u did not answer like an SMTP server (“%s”). "
                 "Check the server name, port and security setting."),
               probe->req->host, probe->req->port, said);
}

static gboolean
read_reply (SmtpProbe *probe,
            MsSmtpReply *reply,
            GError **error)
{
  guint64 first_byte = ms_connection_get_bytes_read (probe->conn);

  ms_smtp_reply_clear (reply);

  for (;;)
    {
      g_autofree char *line = ms_connection_read_line (probe->conn,
                                                       probe->req->deadline,
                                                       probe->cancellable,
                                                       error);
      MsSmtpFeed fed;

      if (line == NULL)
        return FALSE;
      ms_probe_log_received (PROTOCOL, probe->conn, line, probe->req->password);

      fed = ms_smtp_reply_feed (reply, line);
      if (fed == MS_SMTP_FEED_INVALID)
        {
          set_not_smtp_error (probe, line, error);
          return FALSE;
        }

      if (reply->lines->len > MAX_REPLY_LINES
          || ms_connection_get_bytes_read (probe->conn) - first_byte > MAX_REPLY_BYTES)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                       _("%s port %u sent an overlong reply (more than %d "
                         "lines or %d KiB). This is not a mail server "
                         "mailsetup can talk to."),
                       probe->req->host, probe->req->port, MAX_REPLY_LINES,
                       MAX_REPLY_BYTES / 1024);
          return FALSE;
        }

      if (fed == MS_SMTP_FEED_DONE)
        return TRUE;
    }
}

static gboolean
send_command (SmtpProbe *probe,
              const char *command,
              GError **error)
{
  g_autofree char *line = g_strconcat (command, "\r\n", NULL);

  ms_probe_log_sent (PROTOCOL, probe->conn, command);
  return ms_connection_write (probe->conn, line, strlen (line),
                              probe->req->deadline, probe->cancellable, error);
}

static gboolean
send_secret (SmtpProbe *probe,
             const MsSecret *line,
             const char *log_text,
             GError **error)
{
  ms_probe_log_sent (PROTOCOL, probe->conn, log_text);
  return ms_connection_write (probe->conn, line, strlen (line),
                              probe->req->deadline, probe->cancellable, error);
}

static void
set_unavailable_error (SmtpProbe *probe,
                       const MsSmtpReply *reply,
                       GError **error)
{
  g_autofree char *said = reply_text (probe, reply);

  g_set_error (error, MS_ERROR, MS_ERROR_SERVICE_UNAVAILABLE,
               _("%s port %u is not serving right now (it said: “%d %s”). "
                 "Try again later, and check the provider's system status "
                 "page (for iCloud: %s)."),
               probe->req->host, probe->req->port, reply->code, said,
               MS_PROBE_STATUS_URL);
}

static void
set_unexpected_reply_error (SmtpProbe *probe,
                            const MsSmtpReply *reply,
                            const char *command,
                            GError **error)
{
  g_autofree char *said = reply_text (probe, reply);

  g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
               _("%s port %u gave an unexpected answer to %s (“%d %s”)."),
               probe->req->host, probe->req->port, command, reply->code, said);
}

/* The first word of an EHLO keyword line, any case; *params points past
 * it. */
static const char *
find_keyword (SmtpProbe *probe,
              const char *keyword,
              const char **params)
{
  for (guint i = 0; probe->keywords != NULL && i < probe->keywords->len; i++)
    {
      const char *line = probe->keywords->pdata[i];

      if (ms_smtp_keyword_match (line, keyword, params))
        return line;
    }

  return NULL;
}

/* Mechanisms from "AUTH PLAIN LOGIN" and the old "AUTH=PLAIN LOGIN". */
static gboolean
has_auth (SmtpProbe *probe,
          const char *mechanism,
          gboolean *any_auth)
{
  gboolean found = FALSE;

  *any_auth = FALSE;
  for (guint i = 0; probe->keywords != NULL && i < probe->keywords->len; i++)
    {
      gboolean listed;

      if (ms_smtp_auth_line_parse (probe->keywords->pdata[i], mechanism, &listed))
        {
          *any_auth = TRUE;
          found |= listed;
        }
    }

  return found;
}

static gboolean
read_greeting (SmtpProbe *probe,
               GError **error)
{
  g_auto(MsSmtpReply) reply = { 0 };

  ms_connection_set_step (probe->conn, _("waiting for the greeting"));
  if (!read_reply (probe, &reply, error))
    return FALSE;

  if (reply.code == 220)
    return TRUE;
  if (reply.code == 421 || reply.code == 554)
    set_unavailable_error (probe, &reply, error);
  else
    set_unexpected_reply_error (probe, &reply, "the connection", error);
  return FALSE;
}

static gboolean
ehlo (SmtpProbe *probe,
      GError **error)
{
  g_auto(MsSmtpReply) reply = { 0 };
  g_autofree char *command = g_strconcat ("EHLO ", helo_name (), NULL);

  ms_connection_set_step (probe->conn, _("waiting for the answer to EHLO"));
  if (!send_command (probe, command, error)
      || !read_reply (probe, &reply, error))
    return FALSE;

  if (reply.code == 421)
    {
      set_unavailable_error (probe, &reply, error);
      return FALSE;
    }
  if (reply.code != 250)
    {
      set_unexpected_reply_error (probe, &reply, "EHLO", error);
      return FALSE;
    }

  g_clear_pointer (&probe->keywords, g_ptr_array_unref);
  probe->keywords = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 1; i < reply.lines->len; i++)
    g_ptr_array_add (probe->keywords, g_strdup (reply.lines->pdata[i]));

  return TRUE;
}

/* Best effort: the verdict is already in, or the connection is useless. */
static void
quit (SmtpProbe *probe)
{
  gint64 deadline = ms_probe_goodbye_deadline (probe->req->deadline);
  g_autofree char *reply = NULL;

  ms_connection_set_step (probe->conn, _("saying goodbye"));
  ms_probe_log_sent (PROTOCOL, probe->conn, "QUIT");
  if (!ms_connection_write (probe->conn, "QUIT\r\n", 6, deadline,
                            probe->cancellable, NULL))
    return;

  reply = ms_connection_read_line (probe->conn, deadline, probe->cancellable,
                                   NULL);
  if (reply != NULL)
    ms_probe_log_received (PROTOCOL, probe->conn, reply, probe->req->password);
}

static gboolean
start_tls (SmtpProbe *probe,
           GError **error)
{
  g_auto(MsSmtpReply) reply = { 0 };

  if (find_keyword (probe, "STARTTLS", NULL) == NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_STARTTLS_UNAVAILABLE,
                   _("Security problem: %s port %u does not offer STARTTLS, "
                     "so the connection cannot be encrypted. Something on the "
                     "network may be removing it. Your password was not "
                     "sent."),
                   probe->req->host, probe->req->port);
      quit (probe);
      return FALSE;
    }

  ms_probe_emit (probe->req, MS_PROBE_STAGE_TLS);
  ms_connection_set_step (probe->conn, _("waiting for the answer to STARTTLS"));
  if (!send_command (probe, "STARTTLS", error)
      || !read_reply (probe, &reply, error))
    return FALSE;

  if (reply.code == 421)
    {
      set_unavailable_error (probe, &reply, error);
      return FALSE;
    }
  if (reply.code != 220)
    {
      g_autofree char *said = reply_text (probe, &reply);

      g_set_error (error, MS_ERROR, MS_ERROR_TLS_FAILED,
                   _("%s port %u refused to start TLS (it said: “%d %s”). "
                     "Try again later, or use the port for implicit TLS."),
                   probe->req->host, probe->req->port, reply.code, said);
      return FALSE;
    }

  /* Plain text buffered after the 220, or arriving instead of the
   * handshake, is refused inside (CVE-2011-0411). */
  ms_connection_set_step (probe->conn, _("setting up TLS"));
  if (!ms_connection_start_tls (probe->conn, probe->req->deadline,
                                probe->cancellable, error))
    return FALSE;

  /* Everything learnt before encryption is void (RFC 3207 §4.2). */
  g_clear_pointer (&probe->keywords, g_ptr_array_unref);
  return ehlo (probe, error);
}

/* Answers the server's 334 challenge we do not expect with "*", which
 * cancels the exchange (RFC 4954 §4). */
static void
cancel_auth (SmtpProbe *probe)
{
  g_auto(MsSmtpReply) ignored = { 0 };

  ms_probe_log_sent (PROTOCOL, probe->conn, "*");
  if (ms_connection_write (probe->conn, "*\r\n", 3, probe->req->deadline,
                           probe->cancellable, NULL))
    read_reply (probe, &ignored, NULL);
}

static gboolean
authenticate (SmtpProbe *probe,
              MsProbeResult *result,
              GError **error)
{
  g_auto(MsSmtpReply) reply = { 0 };
  const char *mechanism;
  gboolean any_auth;

  /* Unreachable by construction; kept as the last line of defence. */
  if (ms_connection_get_tls_info (probe->conn) == NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_TLS_FAILED,
                   _("Refusing to send the password to %s port %u without "
                     "TLS."),
                   probe->req->host, probe->req->port);
      return FALSE;
    }

  ms_probe_emit (probe->req, MS_PROBE_STAGE_AUTHENTICATING);
  ms_connection_set_step (probe->conn, _("waiting for the answer to the login"));

  if (has_auth (probe, "PLAIN", &any_auth))
    {
      g_autoptr(MsSecret) response = ms_secret_sasl_plain (probe->req->username,
                                                          probe->req->password);
      g_autoptr(MsSecret) command = ms_secret_concat ("AUTH PLAIN ", response,
                                                      "\r\n", NULL);

      mechanism = "PLAIN";
      if (!send_secret (probe, command, "AUTH PLAIN <hidden>", error)
          || !read_reply (probe, &reply, error))
        return FALSE;
    }
  else if (has_auth (probe, "LOGIN", &any_auth))
    {
      const char *secrets[] = { probe->req->username, probe->req->password };
      guint sent = 0;

      mechanism = "LOGIN";
      if (!send_command (probe, "AUTH LOGIN", error)
          || !read_reply (probe, &reply, error))
        return FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (secrets) && reply.code == 334; i++)
        {
          g_autoptr(MsSecret) encoded = ms_secret_base64 (secrets[i],
                                                          strlen (secrets[i]));
          g_autoptr(MsSecret) line = ms_secret_concat (encoded, "\r\n", NULL);

          if (!send_secret (probe, line, "<hidden>", error)
              || !read_reply (probe, &reply, error))
            return FALSE;
          sent++;
        }
      /* 235 before the password went (or after the user name alone)
       * checked no password. */
      if (reply.code == 235 && sent < G_N_ELEMENTS (secrets))
        {
          g_propagate_error (error, ms_probe_premature_success_error (probe->req));
          return FALSE;
        }
    }
  else
    {
      const char *auth_line = find_keyword (probe, "AUTH", NULL);

      if (!any_auth)
        g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                     _("%s port %u does not offer a login (SMTP AUTH) on this "
                       "connection, so the password cannot be checked. Check "
                       "the server name and port: this may be a server for "
                       "receiving mail, not for sending it."),
                     probe->req->host, probe->req->port);
      else
        g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                     _("%s port %u offers only login methods mailsetup does "
                       "not support (%s); mailsetup needs PLAIN or LOGIN."),
                     probe->req->host, probe->req->port,
                     auth_line != NULL ? auth_line : "AUTH");
      return FALSE;
    }

  switch (reply.code)
    {
    case 235:
      result->mechanism = g_strdup (mechanism);
      return TRUE;

    case 334:
      cancel_auth (probe);
      g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                   _("%s port %u asked for more than the user name and "
                     "password during AUTH %s. This is not a mail server "
                     "mailsetup can talk to."),
                   probe->req->host, probe->req->port, mechanism);
      return FALSE;

    case 530:
    case 534:
    case 535:
      {
        g_autofree char *said = reply_text (probe, &reply);

        g_set_error (error, MS_ERROR, MS_ERROR_AUTHENTICATION_FAILED,
                     _("%s port %u did not accept the user name “%s” with "
                       "this password (it said: “%d %s”)."),
                     probe->req->host, probe->req->port, probe->req->username,
                     reply.code, said);
        return FALSE;
      }

    default:
      /* 421, and 454 "temporary authentication failure", say nothing
       * about the password. */
      if (reply.code >= 400 && reply.code < 500)
        set_unavailable_error (probe, &reply, error);
      else
        set_unexpected_reply_error (probe, &reply, "AUTH", error);
      return FALSE;
    }
}

static gboolean
run (SmtpProbe *probe,
     MsProbeResult *result,
     GError **error)
{
  const MsProbeRequest *req = probe->req;
  const char *size;

  ms_probe_emit (req, MS_PROBE_STAGE_CONNECTING);
  probe->conn = ms_connection_connect (req->host, req->port, req->deadline,
                                       probe->cancellable, error);
  if (probe->conn == NULL)
    return FALSE;

  if (req->security == MS_SECURITY_TLS)
    {
      ms_probe_emit (req, MS_PROBE_STAGE_TLS);
      ms_connection_set_step (probe->conn, _("setting up TLS"));
      if (!ms_connection_start_tls (probe->conn, req->deadline,
                                    probe->cancellable, error))
        return FALSE;
    }

  ms_probe_emit (req, MS_PROBE_STAGE_GREETING);
  if (!read_greeting (probe, error))
    return FALSE;
  if (req->greeted != NULL)
    g_atomic_int_set (req->greeted, 1);
  if (!ehlo (probe, error))
    return FALSE;

  if (req->security == MS_SECURITY_STARTTLS && !start_tls (probe, error))
    return FALSE;

  /* A malformed SIZE says nothing: the limit stays unknown. */
  if (find_keyword (probe, "SIZE", &size) != NULL)
    ms_smtp_size_parse (size, &result->max_message_size);

  if (req->username == NULL)
    return TRUE;

  return authenticate (probe, result, error);
}

gboolean
ms_smtp_probe_run (const MsProbeRequest *req,
                   MsProbeResult *result,
                   GCancellable *cancellable,
                   GError **error)
{
  g_auto(SmtpProbe) probe = { .req = req, .cancellable = cancellable };
  gint64 started = g_get_monotonic_time ();
  gboolean ok;

  g_return_val_if_fail (req != NULL && req->host != NULL, FALSE);
  g_return_val_if_fail (result != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ms_probe_check_request (req, error))
    return FALSE;

  ok = run (&probe, result, error);
  ms_probe_finish_result (result, probe.conn, started);
  if (probe.keywords != NULL && probe.conn != NULL
      && ms_connection_get_tls_info (probe.conn) != NULL)
    {
      result->capabilities = g_new0 (char *, probe.keywords->len + 1);
      for (guint i = 0; i < probe.keywords->len; i++)
        result->capabilities[i] = g_strdup (probe.keywords->pdata[i]);
    }

  if (!ok)
    return FALSE;

  ms_probe_report_verdict (req, result);
  quit (&probe);
  return TRUE;
}
