/* validation-call.c: having the daemon sign in to the mail servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "validation-call.h"

#include <glib/gi18n.h>
#include <string.h>

#include "commands.h"
#include "credentials.h"
#include "mailsetup-error.h"
#include "password-input.h"
#include "settings-format.h"

/* The daemon gives up after 20 s unless told otherwise (timeout-ms). */
#define CALL_TIMEOUT_DEFAULT_MS 30000
#define CALL_TIMEOUT_MARGIN_MS 10000

char *ctl_validation_timeout;

gboolean
ctl_validation_parse_timeout (const char *text, guint32 *timeout_ms)
{
  char *end = NULL;
  double seconds, ms;

  *timeout_ms = 0;
  if (text == NULL)
    return TRUE;

  seconds = g_ascii_strtod (text, &end);
  /* The daemon sets the upper limit (InvalidArgs above it); this only
   * keeps the number representable. */
  if (end == text || *end != '\0'
      || !(seconds > 0 && seconds <= G_MAXUINT32 / 1000))
    return FALSE;

  ms = seconds * 1000;
  *timeout_ms = (guint32) ms;
  if (*timeout_ms < ms)
    (*timeout_ms)++;

  return TRUE;
}

int
ctl_validation_call_timeout (guint32 timeout_ms)
{
  if (timeout_ms == 0)
    return CALL_TIMEOUT_DEFAULT_MS;

  return (int) MIN ((gint64) timeout_ms + CALL_TIMEOUT_MARGIN_MS,
                    G_MAXINT - 1);
}

/* The words people see for the stages of the Progress signal
 * (transfer none); an unknown stage is shown as it is. */
static const char *
stage_text (const char *stage)
{
  static const struct {
    const char *stage;
    const char *text;
  } stages[] = {
    { "connecting", N_("connecting") },
    { "tls", N_("securing the connection (TLS)") },
    { "greeting", N_("reading the greeting") },
    { "authenticating", N_("signing in") },
    { "done", N_("signed in") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (stages); i++)
    if (g_str_equal (stage, stages[i].stage))
      return _(stages[i].text);

  return stage;
}

/* Progress(s operation, s protocol, s stage): "IMAP: signing in…". */
static void
on_progress (GVariant *body, gpointer user_data)
{
  const char *operation, *protocol, *stage;
  g_autofree char *label = NULL;
  g_autofree char *line = NULL;

  if (!g_variant_is_of_type (body, G_VARIANT_TYPE ("(sss)")))
    return;

  g_variant_get (body, "(&s&s&s)", &operation, &protocol, &stage);
  label = g_ascii_strup (protocol, -1);

  /* "done" is the end of that protocol's check; the rest go on. */
  line = g_strdup_printf ("%s: %s%s\n", label, stage_text (stage),
                          g_str_equal (stage, "done") ? "" : "…");
  ctl_print_text (stderr, line);
}

/* After the daemon refused @address with @error: when that is for want
 * of a login (InvalidAddress for an address whose LookupProvider says
 * "login-required"), and the daemon's message does not say how to give
 * one, says it on stderr. */
static void
hint_login (CtlClient *client, const char *address, const DBusError *error)
{
  g_auto(DBusError) lookup_error = DBUS_ERROR_INIT;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) settings = NULL;
  g_autofree char *line = NULL;

  if (ctl_credentials_login != NULL
      || g_strcmp0 (error->name,
                    ms_error_dbus_name (MS_ERROR_INVALID_ADDRESS)) != 0
      || (error->message != NULL && strstr (error->message, "--login") != NULL))
    return;

  /* A malformed address is InvalidAddress too; only the daemon knows
   * which addresses need a login. */
  reply = ctl_client_call (client, CTL_MANAGER_PATH, CTL_MANAGER_INTERFACE,
                           "LookupProvider", g_variant_new ("(s)", address),
                           G_VARIANT_TYPE ("(a{sv})"), &lookup_error);
  if (reply == NULL)
    return;
  settings = g_variant_get_child_value (reply, 0);
  if (!ctl_settings_login_required (settings))
    return;

  line = g_strdup_printf ("mailsetupctl: %s\n",
                          /* Translators: LOGIN as in the --help of
                           * "mailsetupctl add". */
                          _("Give the address to sign in with as "
                            "--login=LOGIN."));
  ctl_print_text (stderr, line);
}

int
ctl_validation_run (CtlClient *client,
                    const char *method,
                    const char *address,
                    GVariantDict *options,
                    const GVariantType *reply_type,
                    GVariant **reply)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;
  g_autoptr(GError) login_error = NULL;
  g_autofree char *operation_id = g_uuid_string_random ();
  g_autofree char *login = NULL;
  g_autoptr(GVariant) options_value = NULL;
  const char *problem;
  guint32 timeout_ms;
  char *password;
  int status;

  if (!ctl_validation_parse_timeout (ctl_validation_timeout, &timeout_ms))
    return ctl_usage_error (_("--timeout takes a number of seconds greater "
                              "than zero"));
  if (!ctl_credentials_get_login (&login, &login_error))
    return ctl_usage_error (login_error->message);
  problem = ctl_credentials_problem ();
  if (problem != NULL)
    return ctl_usage_error (problem);

  password = ctl_credentials_get (client, address, login, TRUE, &error);
  if (password == NULL)
    return ctl_client_report_error (client, &error);

  /* Subscribed before the call, so that no stage is missed; with --json
   * stdout is for the result alone, and stderr is kept quiet too. */
  if (!ctl_client_get_json (client)
      && !ctl_client_watch_signal (client, CTL_MANAGER_INTERFACE, "Progress",
                                   operation_id, on_progress, NULL, &error))
    {
      ctl_password_free (password);
      return ctl_client_report_error (client, &error);
    }

  g_variant_dict_insert (options, "operation-id", "s", operation_id);
  if (timeout_ms > 0)
    g_variant_dict_insert (options, "timeout-ms", "u", timeout_ms);
  if (login != NULL)
    g_variant_dict_insert (options, "login", "s", login);
  options_value = g_variant_ref_sink (g_variant_dict_end (options));

  *reply = ctl_credentials_call (client, CTL_MANAGER_PATH,
                                 CTL_MANAGER_INTERFACE, method, address,
                                 g_steal_pointer (&password), options_value,
                                 ctl_validation_call_timeout (timeout_ms),
                                 reply_type, &error);
  if (*reply == NULL)
    {
      status = ctl_client_report_error (client, &error);
      hint_login (client, address, &error);
      return status;
    }

  return CTL_EXIT_OK;
}
