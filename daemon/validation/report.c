/* report.c: what a validation found, as a dictionary for clients
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "report.h"

#include "mailsetup-error.h"
#include "settings.h"

static GVariant *
milliseconds (gint64 us)
{
  return g_variant_new_uint32 ((guint32) CLAMP (us / 1000, 0, G_MAXUINT32));
}

static void
add_endpoint (GVariantDict *dict,
              MsAttempt *attempt)
{
  g_variant_dict_insert (dict, "host", "s", attempt->endpoint->hostname);
  g_variant_dict_insert (dict, "port", "q", attempt->endpoint->port);
  g_variant_dict_insert (dict, "security", "s",
                         ms_security_to_string (attempt->endpoint->security));
  g_variant_dict_insert (dict, "username", "s", attempt->username);
  g_variant_dict_insert_value (dict, "elapsed-ms", milliseconds (attempt->result.elapsed_us));
  /* Why this endpoint or user name was tried: a fallback says so. */
  g_variant_dict_insert (dict, "started-because", "s", ms_attempt_cause_to_string (attempt->cause));
  if (attempt->reason != NULL)
    g_variant_dict_insert (dict, "reason", "s", attempt->reason);
}

static GVariant *
attempt_to_variant (MsAttempt *attempt)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  add_endpoint (&dict, attempt);
  if (attempt->error == NULL)
    {
      g_variant_dict_insert (&dict, "outcome", "s", "ok");
    }
  else
    {
      const char *name = attempt->error->domain == MS_ERROR
                         ? ms_error_dbus_name (attempt->error->code)
                         : "org.freedesktop.DBus.Error.Failed";

      g_variant_dict_insert (&dict, "outcome", "s", name);
      g_variant_dict_insert (&dict, "message", "s", attempt->error->message);
    }

  return g_variant_dict_end (&dict);
}

static GVariant *
protocol_to_variant (MsAttempt *winner,
                     GPtrArray *attempts)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));
  const MsTlsInfo *tls = &winner->result.tls;

  add_endpoint (&dict, winner);
  if (winner->result.mechanism != NULL)
    g_variant_dict_insert (&dict, "mechanism", "s", winner->result.mechanism);
  if (tls->version != NULL)
    {
      g_variant_dict_insert (&dict, "tls-version", "s", tls->version);
      g_variant_dict_insert (&dict, "tls-cipher", "s", tls->cipher);
      g_variant_dict_insert (&dict, "certificate-subject", "s", tls->subject);
      g_variant_dict_insert (&dict, "certificate-issuer", "s", tls->issuer);
      g_variant_dict_insert (&dict, "certificate-sha256", "s", tls->fingerprint);
      g_variant_dict_insert (&dict, "certificate-expires", "x", tls->not_after);
    }
  if (winner->result.max_message_size > 0)
    g_variant_dict_insert (&dict, "max-message-size", "t", winner->result.max_message_size);

  for (guint i = 0; i < attempts->len; i++)
    g_variant_builder_add_value (&list, attempt_to_variant (attempts->pdata[i]));
  g_variant_dict_insert_value (&dict, "attempts", g_variant_builder_end (&list));

  return g_variant_dict_end (&dict);
}

GVariant *
ms_report_from_validation (MsValidation *validation,
                           const char *operation_id)
{
  MsAttempt *imap = validation->imap;
  MsAttempt *smtp = validation->smtp;
  /* What worked replaces what the provider file merely suggested. */
  g_autoptr(GVariant) settings =
    g_variant_ref_sink (ms_settings_build (validation->provider, validation->address, validation->login,
                                           imap->username, smtp->endpoint));
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (settings);

  /* SMTP may have signed in with IMAP's user name rather than its own. */
  g_variant_dict_insert (&dict, "smtp-username", "s", smtp->username);
  if (smtp->result.max_message_size > 0)
    g_variant_dict_insert (&dict, "smtp-max-message-size", "t", smtp->result.max_message_size);

  if (operation_id != NULL)
    g_variant_dict_insert (&dict, "operation", "s", operation_id);
  g_variant_dict_insert_value (&dict, "elapsed-ms", milliseconds (validation->elapsed_us));
  g_variant_dict_insert_value (&dict, "imap", protocol_to_variant (imap, validation->imap_attempts));
  g_variant_dict_insert_value (&dict, "smtp", protocol_to_variant (smtp, validation->smtp_attempts));

  return g_variant_dict_end (&dict);
}
