/* probe.c: helpers shared by the IMAP and SMTP probes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "probe-private.h"

#include "mailsetup-error.h"

#include <glib/gi18n.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <string.h>

/* How long LOGOUT / QUIT may take once the verdict is in. */
#define GOODBYE_TIMEOUT_US (1 * G_USEC_PER_SEC)

void
ms_probe_result_clear (MsProbeResult *result)
{
  g_clear_pointer (&result->mechanism, g_free);
  ms_tls_info_clear (&result->tls);
  g_clear_pointer (&result->capabilities, g_strfreev);
  result->max_message_size = 0;
  result->authenticated = FALSE;
  result->elapsed_us = 0;
}

void
ms_secret_free (MsSecret *secret)
{
  if (secret == NULL)
    return;

  OPENSSL_cleanse (secret, strlen (secret));
  g_free (secret);
}

MsSecret *
ms_secret_concat (const char *first,
                  ...)
{
  va_list args;
  gsize total = 0;
  char *result, *out;

  va_start (args, first);
  for (const char *s = first; s != NULL; s = va_arg (args, const char *))
    total += strlen (s);
  va_end (args);

  /* One allocation, so no stale partial copy is left behind by a realloc. */
  result = out = g_malloc (total + 1);
  va_start (args, first);
  for (const char *s = first; s != NULL; s = va_arg (args, const char *))
    out = stpcpy (out, s);
  va_end (args);

  return result;
}

MsSecret *
ms_secret_base64 (const char *data,
                  gsize len)
{
  /* g_base64_encode() allocates its output once, at its final size. */
  return g_base64_encode ((const guchar *) data, len);
}

MsSecret *
ms_secret_sasl_plain (const char *username,
                      const char *password)
{
  gsize user_len = strlen (username);
  gsize pass_len = strlen (password);
  gsize len = 1 + user_len + 1 + pass_len;
  char *message = g_malloc (len);
  MsSecret *result;

  message[0] = '\0';
  memcpy (message + 1, username, user_len);
  message[1 + user_len] = '\0';
  memcpy (message + 2 + user_len, password, pass_len);

  result = ms_secret_base64 (message, len);
  OPENSSL_cleanse (message, len);
  g_free (message);

  return result;
}

void
ms_probe_emit (const MsProbeRequest *req,
               const char *stage)
{
  if (req->stage_cb != NULL)
    req->stage_cb (stage, req->user_data);
}

gboolean
ms_probe_check_request (const MsProbeRequest *req,
                        GError **error)
{
  /* No credentials at all asks for a connection check only. */
  if (req->username == NULL && req->password == NULL)
    return TRUE;

  /* Callers check these first; this keeps a line break from ever
   * smuggling a second command onto the wire. */
  if (req->username == NULL || *req->username == '\0'
      || strpbrk (req->username, "\r\n") != NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INVALID_ADDRESS,
                   _("The user name is empty or contains a line break."));
      return FALSE;
    }
  if (req->password == NULL || *req->password == '\0'
      || strpbrk (req->password, "\r\n") != NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_INVALID_PASSWORD,
                   _("The password is empty or contains a line break."));
      return FALSE;
    }

  return TRUE;
}

char *
ms_probe_sanitize (const char *text,
                   const char *password,
                   gsize max_len)
{
  GString *out = g_string_new (NULL);
  gsize pass_len = password != NULL ? strlen (password) : 0;

  for (const char *p = text; *p != '\0' && out->len < max_len; )
    {
      if (pass_len > 0 && strncmp (p, password, pass_len) == 0)
        {
          g_string_append (out, "<hidden>");
          p += pass_len;
        }
      else
        {
          guchar c = *p++;

          g_string_append_c (out, c >= 0x20 && c < 0x7f ? (char) c : '?');
        }
    }
  if (out->len >= max_len)
    g_string_append (out, "…");

  return g_string_free (out, FALSE);
}

void
ms_probe_log_sent (const char *protocol,
                   MsConnection *conn,
                   const char *text)
{
  g_debug ("%s %s:%u C: %s", protocol, ms_connection_get_host (conn),
           ms_connection_get_port (conn), text);
}

void
ms_probe_log_received (const char *protocol,
                       MsConnection *conn,
                       const char *line,
                       const char *password)
{
  g_autofree char *clean = ms_probe_sanitize (line, password, 300);

  g_debug ("%s %s:%u S: %s", protocol, ms_connection_get_host (conn),
           ms_connection_get_port (conn), clean);
}

void
ms_probe_report_verdict (const MsProbeRequest *req,
                         MsProbeResult *result)
{
  /* No credentials: a connection check, which signs nobody in. */
  result->authenticated = req->username != NULL;
  if (result->authenticated)
    ms_probe_emit (req, MS_PROBE_STAGE_DONE);
  /* Reported before the goodbye, which costs a round trip nobody waits for. */
  if (req->verdict_cb != NULL)
    req->verdict_cb (result, req->user_data);
}

void
ms_probe_finish_result (MsProbeResult *result,
                        MsConnection *conn,
                        gint64 started)
{
  const MsTlsInfo *tls = conn != NULL ? ms_connection_get_tls_info (conn) : NULL;

  result->elapsed_us = g_get_monotonic_time () - started;
  result->certificate_dates_wrong = conn != NULL && ms_connection_certificate_dates_wrong (conn);
  if (tls != NULL && result->tls.version == NULL)
    ms_tls_info_copy (tls, &result->tls);
}

gint64
ms_probe_goodbye_deadline (gint64 deadline)
{
  return MIN (deadline, g_get_monotonic_time () + GOODBYE_TIMEOUT_US);
}

GError *
ms_probe_premature_success_error (const MsProbeRequest *req)
{
  return g_error_new (MS_ERROR, MS_ERROR_PROTOCOL_ERROR,
                      _("%s port %u said the login worked before the password "
                        "was sent, so the password was not checked. This is not "
                        "a mail server mailsetup can trust."),
                      req->host, req->port);
}
