/* report-format.c: a validation report as text for people
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "report-format.h"

#include <glib/gi18n.h>
#include <string.h>

#include "settings-format.h"

#define DAEMON_ERROR_PREFIX "org.mailsetup.MailSetup1.Error."

/* "412 ms", or "12.3 s" from a second up (transfer full). */
static char *
format_duration (guint32 ms)
{
  if (ms < 1000)
    return g_strdup_printf (_("%u ms"), ms);

  return g_strdup_printf (_("%.1f s"), ms / 1000.0);
}

/* "host:port", with brackets around an IPv6 address (transfer full). */
static char *
format_host_port (const char *host, guint port)
{
  if (host == NULL)
    host = "?";
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", host, port);

  return g_strdup_printf ("%s:%u", host, port);
}

static void
append_summary (GString *out, GVariant *report)
{
  const char *address = ctl_settings_lookup_string (report, "address");
  const char *name = ctl_settings_lookup_string (report, "display-name");
  guint32 elapsed_ms;

  if (name == NULL)
    name = ctl_settings_lookup_string (report, "provider");
  if (address == NULL)
    address = _("The address");

  g_string_append (out, "✓ ");
  /* Translators: "jane@icloud.com works with iCloud Mail" */
  if (name != NULL)
    g_string_append_printf (out, _("%s works with %s"), address, name);
  else
    g_string_append_printf (out, _("%s works"), address);

  if (g_variant_lookup (report, "elapsed-ms", "u", &elapsed_ms))
    {
      g_autofree char *duration = format_duration (elapsed_ms);

      g_string_append_printf (out, " (%s)", duration);
    }
  g_string_append_c (out, '\n');
}

/* "imap.mail.me.com port 993, SSL/TLS" (transfer full), or NULL. */
static char *
format_endpoint (GVariant *details)
{
  const char *host = ctl_settings_lookup_string (details, "host");
  guint port = ctl_settings_lookup_port (details, "port");
  const char *security = ctl_settings_lookup_string (details, "security");
  g_autofree char *port_text = ctl_format_port (port, security);

  /* Translators: a server, then "993, SSL/TLS" */
  if (host != NULL && port_text != NULL)
    return g_strdup_printf (_("%s port %s"), host, port_text);
  if (host != NULL)
    return g_strdup (host);

  return g_steal_pointer (&port_text);
}

static void
append_user (GString *out, GVariant *details)
{
  const char *username = ctl_settings_lookup_string (details, "username");
  const char *mechanism = ctl_settings_lookup_string (details, "mechanism");
  g_autofree char *text = NULL;

  if (username == NULL)
    return;

  /* Translators: a user name, then a SASL mechanism such as PLAIN */
  if (mechanism != NULL)
    text = g_strdup_printf (_("%s  (signed in with %s)"), username,
                            mechanism);
  ctl_format_field (out, 2, _("User name:"), text != NULL ? text : username);
}

/* The SHA-256 fingerprint, 32 bytes as "AB:CD:…", on two lines of 16. */
static void
append_fingerprint (GString *out, const char *fingerprint)
{
  const gsize half = 16 * 3;

  if (strlen (fingerprint) > half && fingerprint[half - 1] == ':')
    {
      g_autofree char *first = g_strndup (fingerprint, half);

      ctl_format_field (out, 2, _("SHA-256:"), first);
      ctl_format_field (out, 2, "", fingerprint + half);
    }
  else
    {
      ctl_format_field (out, 2, _("SHA-256:"), fingerprint);
    }
}

static void
append_tls (GString *out, GVariant *details)
{
  const char *version = ctl_settings_lookup_string (details, "tls-version");
  const char *cipher = ctl_settings_lookup_string (details, "tls-cipher");
  const char *subject =
    ctl_settings_lookup_string (details, "certificate-subject");
  const char *issuer =
    ctl_settings_lookup_string (details, "certificate-issuer");
  const char *fingerprint =
    ctl_settings_lookup_string (details, "certificate-sha256");
  gint64 expires = 0;

  if (version != NULL && cipher != NULL)
    {
      g_autofree char *text = g_strdup_printf ("%s, %s", version, cipher);

      ctl_format_field (out, 2, _("TLS:"), text);
    }
  else if (version != NULL)
    {
      ctl_format_field (out, 2, _("TLS:"), version);
    }

  if (subject != NULL)
    ctl_format_field (out, 2, _("Certificate:"), subject);
  if (issuer != NULL)
    ctl_format_field (out, 2, _("Issued by:"), issuer);
  if (g_variant_lookup (details, "certificate-expires", "x", &expires)
      && expires > 0)
    {
      g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (expires);
      g_autofree char *date = time != NULL ? g_date_time_format (time,
                                                                 "%Y-%m-%d")
                                           : NULL;

      if (date != NULL)
        ctl_format_field (out, 2, _("Valid until:"), date);
    }
  if (fingerprint != NULL)
    append_fingerprint (out, fingerprint);
}

static void
append_protocol (GString *out, GVariant *report, const char *key,
                 const char *heading)
{
  g_autoptr(GVariant) details =
    g_variant_lookup_value (report, key, G_VARIANT_TYPE_VARDICT);
  g_autofree char *endpoint = NULL;
  const char *reason;
  guint64 max_size = 0;

  if (details == NULL)
    return;

  endpoint = format_endpoint (details);
  g_string_append_printf (out, "\n%s", heading);
  if (endpoint != NULL)
    g_string_append_printf (out, "   %s", endpoint);
  g_string_append_c (out, '\n');

  /* Why a fallback endpoint was used (port 465 when 587 was silent). */
  reason = ctl_settings_lookup_string (details, "reason");
  if (reason != NULL)
    ctl_text_wrap (out, reason, 2, CTL_FORMAT_WRAP_WIDTH);

  append_user (out, details);
  append_tls (out, details);

  if (g_variant_lookup (details, "max-message-size", "t", &max_size)
      && max_size > 0)
    {
      g_autofree char *text = ctl_format_size_limit (max_size);

      ctl_format_field (out, 2, _("Size limit:"), text);
    }
}

/* "AuthenticationFailed" for our own errors, the whole name for others
 * (transfer none). */
static const char *
short_error_name (const char *name)
{
  if (g_str_has_prefix (name, DAEMON_ERROR_PREFIX)
      && name[strlen (DAEMON_ERROR_PREFIX)] != '\0')
    return name + strlen (DAEMON_ERROR_PREFIX);

  return name;
}

static void
append_attempt (GString *out, GVariant *attempt, const char *protocol)
{
  const char *host = ctl_settings_lookup_string (attempt, "host");
  guint port = ctl_settings_lookup_port (attempt, "port");
  const char *username = ctl_settings_lookup_string (attempt, "username");
  const char *outcome = ctl_settings_lookup_string (attempt, "outcome");
  const char *message = ctl_settings_lookup_string (attempt, "message");
  g_autofree char *where = format_host_port (host, port);
  gboolean ok = g_strcmp0 (outcome, "ok") == 0;
  guint32 elapsed_ms;

  g_string_append_printf (out, "  %s %s", protocol, where);
  if (username != NULL)
    {
      g_string_append_c (out, ' ');
      /* Translators: after a server and port, "as jane@icloud.com" */
      g_string_append_printf (out, _("as %s"), username);
    }

  g_string_append_printf (out, " — %s",
                          ok ? _("ok")
                             : outcome != NULL ? short_error_name (outcome)
                                               : _("failed"));

  if (g_variant_lookup (attempt, "elapsed-ms", "u", &elapsed_ms))
    {
      g_autofree char *duration = format_duration (elapsed_ms);

      g_string_append_printf (out, " (%s)", duration);
    }
  g_string_append_c (out, '\n');

  if (!ok && message != NULL)
    ctl_text_wrap (out, message, 4, CTL_FORMAT_WRAP_WIDTH);
}

static void
append_attempts (GString *out, GVariant *report)
{
  static const struct {
    const char *key;
    const char *label;
  } protocols[] = {
    { "imap", "IMAP" },
    { "smtp", "SMTP" },
  };
  gboolean heading = FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (protocols); i++)
    {
      g_autoptr(GVariant) details =
        g_variant_lookup_value (report, protocols[i].key,
                                G_VARIANT_TYPE_VARDICT);
      g_autoptr(GVariant) attempts = NULL;
      gsize n;

      if (details == NULL)
        continue;
      attempts = g_variant_lookup_value (details, "attempts",
                                         G_VARIANT_TYPE ("aa{sv}"));
      if (attempts == NULL)
        continue;

      n = g_variant_n_children (attempts);
      for (gsize j = 0; j < n; j++)
        {
          g_autoptr(GVariant) attempt = g_variant_get_child_value (attempts,
                                                                   j);

          if (!heading)
            {
              g_string_append_printf (out, "\n%s\n", _("Attempts:"));
              heading = TRUE;
            }
          append_attempt (out, attempt, protocols[i].label);
        }
    }
}

void
ctl_report_format (GString *out, GVariant *report)
{
  g_return_if_fail (g_variant_is_of_type (report, G_VARIANT_TYPE_VARDICT));

  append_summary (out, report);
  append_protocol (out, report, "imap", _("Incoming mail (IMAP)"));
  append_protocol (out, report, "smtp", _("Outgoing mail (SMTP)"));
  append_attempts (out, report);
}
