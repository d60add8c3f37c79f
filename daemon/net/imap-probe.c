/* imap-probe.c: one IMAP login attempt on a fresh connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "imap-probe.h"

#include "imap-parse.h"
#include "mailsetup-error.h"
#include "probe-private.h"

#include <glib/gi18n.h>
#include <openssl/crypto.h>
#include <string.h>

#define PROTOCOL "IMAP"

/* A real server sends a few KiB of untagged data before a tagged reply;
 * more than this is a flood we stop reading. */
#define MAX_UNTAGGED_BYTES (1024 * 1024)
#define MAX_LOGGED_UNTAGGED 50

/* How much of the server's own words goes into a message. */
#define MAX_SERVER_TEXT 200

typedef enum {
  IMAP_OK,
  IMAP_NO,
  IMAP_BAD,
  IMAP_CONTINUE,
} ImapStatus;

typedef struct {
  const MsProbeRequest *req;
  GCancellable *cancellable;
  MsConnection *conn;
  guint last_tag;
  GStrv caps;      /* NULL while unknown */
  char *bye;       /* the text of an untagged BYE, if one came */
} ImapProbe;

static void
imap_probe_clear (ImapProbe *probe)
{
  g_clear_pointer (&probe->conn, ms_connection_free);
  g_clear_pointer (&probe->caps, g_strfreev);
  g_clear_pointer (&probe->bye, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ImapProbe, imap_probe_clear)

/* A buffer for a command that holds credentials: fixed capacity, wiped. */
typedef struct {
  char *data;
  gsize len;
  gsize capacity;
} SecretBuf;

static void
secret_buf_init (SecretBuf *buf,
                 gsize capacity)
{
  buf->data = g_malloc (capacity);
  buf->len = 0;
  buf->capacity = capacity;
}

static void
secret_buf_append (SecretBuf *buf,
                   const char *data,
                   gsize len)
{
  g_assert (buf->len + len <= buf->capacity);
  memcpy (buf->data + buf->len, data, len);
  buf->len += len;
}

static void
secret_buf_reset (SecretBuf *buf)
{
  OPENSSL_cleanse (buf->data, buf->len);
  buf->len = 0;
}

static void
secret_buf_clear (SecretBuf *buf)
{
  if (buf->data != NULL)
    OPENSSL_cleanse (buf->data, buf->capacity);
  g_clear_pointer (&buf->data, g_free);
  buf->len = buf->capacity = 0;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SecretBuf, secret_buf_clear)

static char *
next_tag (ImapProbe *probe)
{
  return g_strdup_printf ("ms%u", ++probe->last_tag);
}

/* Keeps the capability list @response announces, if it does. */
static void
take_capabilities (ImapProbe *probe,
                   const MsImapResponse *response)
{
  GStrv caps = ms_imap_response_dup_capabilities (response);

  if (caps != NULL)
    {
      g_strfreev (probe->caps);
      probe->caps = caps;
    }
}

static gboolean
has_capability (ImapProbe *probe,
                const char *name)
{
  for (guint i = 0; probe->caps != NULL && probe->caps[i] != NULL; i++)
    if (g_ascii_strcasecmp (probe->caps[i], name) == 0)
      return TRUE;

  return FALSE;
}

static char *
server_text (ImapProbe *probe,
             const char *text)
{
  return ms_probe_sanitize (text, probe->req->password, MAX_SERVER_TEXT);
}

static void
set_bye_error (ImapProbe *probe,
               const char *bye,
               GError **error)
{
  g_autofree char *said = server_text (probe, bye);

  g_set_error (error, MS_ERROR, MS_ERROR_SERVICE_UNAVAILABLE,
               _("%s port %u ended the session (it said: “%s”). The mail "
                 "service may be unavailable for a while; try again later, "
                 "and check the provider's system status page (for iCloud: "
                 "%s)."),
               probe->req->host, probe->req->port, said, MS_PROBE_STATUS_URL);
}

static void
set_unexpected_error (ImapProbe *probe,
                      const char *line,
                      GError **error)
{
  g_autofree char *said = server_text (probe, line);

  g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
               _("%s port %u sent something an IMAP server should not "
                 "(“%s”). Check the server name and port."),
               probe->req->host, probe->req->port, said);
}

static gboolean
send_command (ImapProbe *probe,
              const char *tag,
              const char *command,
              GError **error)
{
  g_autofree char *text = g_strdup_printf ("%s %s", tag, command);
  g_autofree char *line = g_strconcat (text, "\r\n", NULL);

  ms_probe_log_sent (PROTOCOL, probe->conn, text);
  return ms_connection_write (probe->conn, line, strlen (line),
                              probe->req->deadline, probe->cancellable, error);
}

static gboolean
send_secret (ImapProbe *probe,
             const char *data,
             gsize len,
             const char *log_text,
             GError **error)
{
  ms_probe_log_sent (PROTOCOL, probe->conn, log_text);
  return ms_connection_write (probe->conn, data, len, probe->req->deadline,
                              probe->cancellable, error);
}

/* Reads until the reply tagged @tag (or a continuation request, if
 * @continuation_ok), taking note of capabilities and BYE on the way. */
static gboolean
read_response (ImapProbe *probe,
               const char *tag,
               gboolean continuation_ok,
               ImapStatus *status,
               char **text,
               GError **error)
{
  guint64 first_byte = ms_connection_get_bytes_read (probe->conn);
  guint untagged = 0;

  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *line = NULL;
      MsImapResponse response;

      line = ms_connection_read_line (probe->conn, probe->req->deadline,
                                      probe->cancellable, &local_error);
      if (line == NULL)
        {
          /* iCloud says BYE and hangs up when it will not serve us. */
          if (probe->bye != NULL
              && g_error_matches (local_error, MS_ERROR,
                                  MS_ERROR_CONNECTION_FAILED))
            set_bye_error (probe, probe->bye, error);
          else
            g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      /* A flood would drown the log. */
      if (line[0] != '*' || ++untagged <= MAX_LOGGED_UNTAGGED)
        ms_probe_log_received (PROTOCOL, probe->conn, line, probe->req->password);
      else if (untagged == MAX_LOGGED_UNTAGGED + 1)
        ms_probe_log_received (PROTOCOL, probe->conn, "(more untagged lines not shown)", NULL);

      if (!ms_imap_response_parse (line, &response))
        {
          set_unexpected_error (probe, line, error);
          return FALSE;
        }

      switch (response.kind)
        {
        case MS_IMAP_LINE_UNTAGGED:
          if (response.status == MS_IMAP_STATUS_NONE
              || response.status == MS_IMAP_STATUS_OK)
            take_capabilities (probe, &response);
          else if (response.status == MS_IMAP_STATUS_BYE)
            {
              g_free (probe->bye);
              probe->bye = g_strdup (response.text);
            }

          if (ms_connection_get_bytes_read (probe->conn) - first_byte > MAX_UNTAGGED_BYTES)
            {
              g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                           _("%s port %u sent more than %d MiB without "
                             "answering the command. This is not a mail "
                             "server mailsetup can talk to."),
                           probe->req->host, probe->req->port,
                           MAX_UNTAGGED_BYTES / (1024 * 1024));
              return FALSE;
            }
          continue;

        case MS_IMAP_LINE_CONTINUATION:
          if (!continuation_ok)
            break;
          *status = IMAP_CONTINUE;
          *text = g_strdup (response.text);
          return TRUE;

        case MS_IMAP_LINE_TAGGED:
          if (!ms_imap_response_is_tagged (&response, tag))
            break;
          if (response.status == MS_IMAP_STATUS_OK)
            *status = IMAP_OK;
          else if (response.status == MS_IMAP_STATUS_NO)
            *status = IMAP_NO;
          else if (response.status == MS_IMAP_STATUS_BAD)
            *status = IMAP_BAD;
          else
            break;

          if (*status == IMAP_OK)
            take_capabilities (probe, &response);
          *text = g_strdup (response.text);
          return TRUE;

        case MS_IMAP_LINE_INVALID:
        default:
          break;
        }

      set_unexpected_error (probe, line, error);
      return FALSE;
    }
}

/* Sends a command without credentials and reads its tagged reply. */
static gboolean
run_command (ImapProbe *probe,
             const char *command,
             ImapStatus *status,
             char **text,
             GError **error)
{
  g_autofree char *tag = next_tag (probe);

  return send_command (probe, tag, command, error)
         && read_response (probe, tag, FALSE, status, text, error);
}

static gboolean
fetch_capabilities (ImapProbe *probe,
                    GError **error)
{
  g_autofree char *text = NULL;
  ImapStatus status;

  ms_connection_set_step (probe->conn, _("waiting for the capability list"));
  if (!run_command (probe, "CAPABILITY", &status, &text, error))
    return FALSE;

  if (status != IMAP_OK)
    {
      g_autofree char *said = server_text (probe, text);

      g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                   _("%s port %u refused to list its capabilities (“%s”). "
                     "Check the server name and port."),
                   probe->req->host, probe->req->port, said);
      return FALSE;
    }
  if (probe->caps == NULL)
    probe->caps = g_new0 (char *, 1);

  return TRUE;
}

typedef enum {
  GREETING_OK,
  GREETING_PREAUTH,
} Greeting;

static gboolean
read_greeting (ImapProbe *probe,
               Greeting *greeting,
               GError **error)
{
  g_autofree char *line = NULL;
  MsImapResponse response;

  ms_connection_set_step (probe->conn, _("waiting for the greeting"));
  line = ms_connection_read_line (probe->conn, probe->req->deadline,
                                  probe->cancellable, error);
  if (line == NULL)
    return FALSE;
  ms_probe_log_received (PROTOCOL, probe->conn, line, probe->req->password);

  if (ms_imap_response_parse (line, &response)
      && response.kind == MS_IMAP_LINE_UNTAGGED)
    {
      switch (response.status)
        {
        case MS_IMAP_STATUS_OK:
          *greeting = GREETING_OK;
          take_capabilities (probe, &response);
          return TRUE;

        case MS_IMAP_STATUS_PREAUTH:
          *greeting = GREETING_PREAUTH;
          take_capabilities (probe, &response);
          return TRUE;

        case MS_IMAP_STATUS_BYE:
          set_bye_error (probe, response.text, error);
          return FALSE;

        case MS_IMAP_STATUS_NONE:
        case MS_IMAP_STATUS_NO:
        case MS_IMAP_STATUS_BAD:
        default:
          break;
        }
    }

  {
    g_autofree char *said = server_text (probe, line);

    g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                 _("%s port %u did not greet like an IMAP server (“%s”). "
                   "Check the server name, port and security setting."),
                 probe->req->host, probe->req->port, said);
  }
  return FALSE;
}

static gboolean
start_tls (ImapProbe *probe,
           GError **error)
{
  g_autofree char *text = NULL;
  ImapStatus status;

  if (!has_capability (probe, "STARTTLS"))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_STARTTLS_UNAVAILABLE,
                   _("Security problem: %s port %u does not offer STARTTLS, "
                     "so the connection cannot be encrypted. Something on the "
                     "network may be removing it. Your password was not "
                     "sent."),
                   probe->req->host, probe->req->port);
      return FALSE;
    }

  ms_probe_emit (probe->req, MS_PROBE_STAGE_TLS);
  ms_connection_set_step (probe->conn, _("waiting for the answer to STARTTLS"));
  if (!run_command (probe, "STARTTLS", &status, &text, error))
    return FALSE;

  if (status != IMAP_OK)
    {
      g_autofree char *said = server_text (probe, text);

      g_set_error (error,
                   MS_ERROR,
                   status == IMAP_BAD ? MS_ERROR_PROTOCOL_ERROR : MS_ERROR_TLS_FAILED,
                   _("%s port %u refused to start TLS (“%s”). Try again "
                     "later, or use the port for implicit TLS."),
                   probe->req->host, probe->req->port, said);
      return FALSE;
    }

  ms_connection_set_step (probe->conn, _("setting up TLS"));
  if (!ms_connection_start_tls (probe->conn, probe->req->deadline,
                                probe->cancellable, error))
    return FALSE;

  /* What was said before encryption may have been forged (RFC 9051
   * §6.2.1): forget it and ask again. */
  g_clear_pointer (&probe->caps, g_strfreev);
  g_clear_pointer (&probe->bye, g_free);
  return fetch_capabilities (probe, error);
}

/* Quoted strings carry 7-bit text without CR, LF or controls; anything
 * else goes as a literal. */
static gboolean
needs_literal (const char *s)
{
  for (const guchar *p = (const guchar *) s; *p != '\0'; p++)
    if (*p < 0x20 || *p >= 0x7f)
      return TRUE;

  return FALSE;
}

static void
append_quoted (SecretBuf *buf,
               const char *s)
{
  secret_buf_append (buf, "\"", 1);
  for (const char *p = s; *p != '\0'; p++)
    {
      if (*p == '\\' || *p == '"')
        secret_buf_append (buf, "\\", 1);
      secret_buf_append (buf, p, 1);
    }
  secret_buf_append (buf, "\"", 1);
}

/* LOGIN with quoted strings, or synchronising literals where needed. */
static gboolean
send_login (ImapProbe *probe,
            ImapStatus *status,
            char **text,
            GError **error)
{
  g_autofree char *tag = next_tag (probe);
  g_autofree char *log_text = g_strdup_printf ("%s LOGIN <hidden>", tag);
  const char *args[] = { probe->req->username, probe->req->password };
  g_auto(SecretBuf) buf = { 0 };
  gsize capacity = strlen (tag) + strlen (" LOGIN ") + 3;

  for (guint i = 0; i < G_N_ELEMENTS (args); i++)
    capacity += 2 * strlen (args[i]) + 2 + 32;
  secret_buf_init (&buf, capacity);

  secret_buf_append (&buf, tag, strlen (tag));
  secret_buf_append (&buf, " LOGIN ", strlen (" LOGIN "));

  for (guint i = 0; i < G_N_ELEMENTS (args); i++)
    {
      gsize len = strlen (args[i]);

      if (needs_literal (args[i]))
        {
          char marker[32];
          int marker_len = g_snprintf (marker, sizeof marker,
                                       "{%" G_GSIZE_FORMAT "}\r\n", len);

          secret_buf_append (&buf, marker, marker_len);
          if (!send_secret (probe, buf.data, buf.len, log_text, error))
            return FALSE;
          secret_buf_reset (&buf);
          g_clear_pointer (&log_text, g_free);
          log_text = g_strdup ("<hidden literal>");

          /* The server may refuse before the literal is sent. */
          if (!read_response (probe, tag, TRUE, status, text, error))
            return FALSE;
          if (*status == IMAP_OK)
            {
              g_propagate_error (error, ms_probe_premature_success_error (probe->req));
              return FALSE;
            }
          if (*status != IMAP_CONTINUE)
            return TRUE;
          g_clear_pointer (text, g_free);

          secret_buf_append (&buf, args[i], len);
        }
      else
        {
          append_quoted (&buf, args[i]);
        }

      if (i + 1 < G_N_ELEMENTS (args))
        secret_buf_append (&buf, " ", 1);
      else
        secret_buf_append (&buf, "\r\n", 2);
    }

  if (!send_secret (probe, buf.data, buf.len, log_text, error))
    return FALSE;

  if (!read_response (probe, tag, FALSE, status, text, error))
    return FALSE;

  return TRUE;
}

/* AUTHENTICATE PLAIN (RFC 4616), with SASL-IR (RFC 4959) if offered. */
static gboolean
send_authenticate_plain (ImapProbe *probe,
                         ImapStatus *status,
                         char **text,
                         GError **error)
{
  g_autofree char *tag = next_tag (probe);
  g_autoptr(MsSecret) response = ms_secret_sasl_plain (probe->req->username,
                                                      probe->req->password);

  if (has_capability (probe, "SASL-IR"))
    {
      g_autofree char *log_text = g_strdup_printf ("%s AUTHENTICATE PLAIN <hidden>", tag);
      g_autoptr(MsSecret) command = ms_secret_concat (tag, " AUTHENTICATE PLAIN ",
                                                      response, "\r\n", NULL);

      if (!send_secret (probe, command, strlen (command), log_text, error))
        return FALSE;
    }
  else
    {
      g_autoptr(MsSecret) line = ms_secret_concat (response, "\r\n", NULL);

      if (!send_command (probe, tag, "AUTHENTICATE PLAIN", error)
          || !read_response (probe, tag, TRUE, status, text, error))
        return FALSE;
      if (*status == IMAP_OK)
        {
          g_propagate_error (error, ms_probe_premature_success_error (probe->req));
          return FALSE;
        }
      if (*status != IMAP_CONTINUE)
        return TRUE;
      g_clear_pointer (text, g_free);

      if (!send_secret (probe, line, strlen (line), "<hidden>", error))
        return FALSE;
    }

  if (!read_response (probe, tag, TRUE, status, text, error))
    return FALSE;

  if (*status == IMAP_CONTINUE)
    {
      /* PLAIN has one step; a second challenge means we disagree about
       * the protocol.  Cancel the exchange (RFC 9051 §6.2.2). */
      g_clear_pointer (text, g_free);
      ms_probe_log_sent (PROTOCOL, probe->conn, "*");
      if (ms_connection_write (probe->conn, "*\r\n", 3, probe->req->deadline,
                               probe->cancellable, NULL))
        {
          g_autofree char *ignored = NULL;

          read_response (probe, tag, FALSE, status, &ignored, NULL);
        }
      g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                   _("%s port %u asked for more than the password during "
                     "AUTHENTICATE PLAIN. This is not a mail server "
                     "mailsetup can talk to."),
                   probe->req->host, probe->req->port);
      return FALSE;
    }

  return TRUE;
}

static gboolean
log_in (ImapProbe *probe,
        MsProbeResult *result,
        GError **error)
{
  g_autofree char *text = NULL;
  const char *mechanism;
  ImapStatus status;
  gboolean sent;

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

  /* iCloud's AUTHENTICATE PLAIN can fail where LOGIN works, so LOGIN is
   * used unless the server forbids it. */
  if (!has_capability (probe, "LOGINDISABLED"))
    {
      mechanism = "LOGIN";
      sent = send_login (probe, &status, &text, error);
    }
  else if (has_capability (probe, "AUTH=PLAIN"))
    {
      mechanism = "PLAIN";
      sent = send_authenticate_plain (probe, &status, &text, error);
    }
  else
    {
      g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                   _("%s port %u does not allow LOGIN and offers no other "
                     "login method mailsetup supports (AUTHENTICATE PLAIN)."),
                   probe->req->host, probe->req->port);
      return FALSE;
    }

  if (!sent)
    return FALSE;

  switch (status)
    {
    case IMAP_OK:
      result->mechanism = g_strdup (mechanism);
      return TRUE;

    case IMAP_NO:
      {
        g_autofree char *said = server_text (probe, text);

        /* RFC 5530: a temporary outage, not a verdict on the password. */
        if (strstr (text, "[UNAVAILABLE]") != NULL)
          g_set_error (error, MS_ERROR, MS_ERROR_SERVICE_UNAVAILABLE,
                       _("%s port %u cannot check logins right now (it said: "
                         "“%s”). Try again later, and check the provider's "
                         "system status page (for iCloud: %s)."),
                       probe->req->host, probe->req->port, said,
                       MS_PROBE_STATUS_URL);
        else
          g_set_error (error, MS_ERROR, MS_ERROR_AUTHENTICATION_FAILED,
                       _("%s port %u did not accept the user name “%s” with "
                         "this password (it said: “%s”)."),
                       probe->req->host, probe->req->port,
                       probe->req->username, said);
        return FALSE;
      }

    case IMAP_BAD:
    case IMAP_CONTINUE:
    default:
      {
        g_autofree char *said = server_text (probe, text);

        g_set_error (error, MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                     _("%s port %u did not understand the login command (it "
                       "said: “%s”)."),
                     probe->req->host, probe->req->port, said);
        return FALSE;
      }
    }
}

/* Best effort: the verdict is already in. */
static void
log_out (ImapProbe *probe)
{
  g_autofree char *tag = next_tag (probe);
  gint64 deadline = ms_probe_goodbye_deadline (probe->req->deadline);

  ms_connection_set_step (probe->conn, _("logging out"));
  if (!send_command (probe, tag, "LOGOUT", NULL))
    return;

  for (;;)
    {
      g_autofree char *reply = ms_connection_read_line (probe->conn, deadline,
                                                        probe->cancellable, NULL);

      if (reply == NULL)
        return;
      ms_probe_log_received (PROTOCOL, probe->conn, reply, probe->req->password);
      if (g_str_has_prefix (reply, tag) && reply[strlen (tag)] == ' ')
        return;
    }
}

static gboolean
run (ImapProbe *probe,
     MsProbeResult *result,
     GError **error)
{
  const MsProbeRequest *req = probe->req;
  Greeting greeting;

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
  if (!read_greeting (probe, &greeting, error))
    return FALSE;

  if (req->security == MS_SECURITY_STARTTLS)
    {
      /* Logged in before encryption: there is no way to STARTTLS now. */
      if (greeting == GREETING_PREAUTH)
        {
          g_set_error (error, MS_ERROR, MS_ERROR_STARTTLS_UNAVAILABLE,
                       _("Security problem: %s port %u started an "
                         "unencrypted session without a login, so STARTTLS is "
                         "impossible. Something on the network may be "
                         "tampering with the connection. Your password was "
                         "not sent."),
                       req->host, req->port);
          return FALSE;
        }
      if (probe->caps == NULL && !fetch_capabilities (probe, error))
        return FALSE;
      if (!start_tls (probe, error))
        return FALSE;
    }
  else if (greeting == GREETING_OK && probe->caps == NULL
           && !fetch_capabilities (probe, error))
    {
      return FALSE;
    }

  if (greeting == GREETING_PREAUTH)
    {
      result->mechanism = g_strdup ("PREAUTH");
      return TRUE;
    }

  if (req->username == NULL)
    return TRUE;

  return log_in (probe, result, error);
}

gboolean
ms_imap_probe_run (const MsProbeRequest *req,
                   MsProbeResult *result,
                   GCancellable *cancellable,
                   GError **error)
{
  g_auto(ImapProbe) probe = { .req = req, .cancellable = cancellable };
  gint64 started = g_get_monotonic_time ();
  gboolean ok;

  g_return_val_if_fail (req != NULL && req->host != NULL, FALSE);
  g_return_val_if_fail (result != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ms_probe_check_request (req, error))
    return FALSE;

  ok = run (&probe, result, error);
  ms_probe_finish_result (result, probe.conn, started);
  if (probe.caps != NULL && probe.conn != NULL
      && ms_connection_get_tls_info (probe.conn) != NULL)
    result->capabilities = g_strdupv (probe.caps);

  if (!ok)
    return FALSE;

  ms_probe_report_verdict (req, result);
  log_out (&probe);
  return TRUE;
}
