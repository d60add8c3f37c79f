/* cmd-validate.c: mailsetupctl validate [--password-stdin] [--timeout S] ADDRESS
 *
 * Reads the password (from the terminal without echo, or a line of
 * standard input), has the daemon sign in to the IMAP and SMTP servers
 * with it, shows the stages as its Progress signals arrive, and prints
 * the report.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"

#include <glib/gi18n.h>
#include <unistd.h>

#include "bus-variant.h"
#include "password-input.h"
#include "report-format.h"
#include "settings-format.h"

/* The daemon gives up after 20 s unless told otherwise (timeout-ms); the
 * call waits that long and a margin more, so that the daemon's own answer,
 * which says what it was waiting for, is the one the user sees. */
#define CALL_TIMEOUT_DEFAULT_MS 30000
#define CALL_TIMEOUT_MARGIN_MS 10000

static gboolean opt_password_stdin;
static char *opt_timeout;  /* seconds, as typed */

const GOptionEntry ctl_validate_options[] = {
  { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &opt_password_stdin,
    N_("Read the password from the first line of standard input"), NULL },
  { "timeout", 0, 0, G_OPTION_ARG_STRING, &opt_timeout,
    N_("Give up after SECONDS (default: 20)"), N_("SECONDS") },
  { NULL }
};

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

/* Asks for the password on the terminal, naming the kind of password the
 * provider wants.  LookupProvider first, so that a mistyped address or an
 * unknown provider is said before anyone types a password in vain.
 * Returns: as ctl_password_read_terminal(). */
static char *
ask_password (CtlClient *client, const char *address, DBusError *error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) settings = NULL;
  g_autofree char *prompt = NULL;
  const char *kind;

  reply = ctl_client_call (client, CTL_MANAGER_PATH, CTL_MANAGER_INTERFACE,
                           "LookupProvider", g_variant_new ("(s)", address),
                           G_VARIANT_TYPE ("(a{sv})"), error);
  if (reply == NULL)
    return NULL;

  settings = g_variant_get_child_value (reply, 0);
  if (ctl_settings_lookup_string (settings, "address") != NULL)
    address = ctl_settings_lookup_string (settings, "address");
  kind = ctl_settings_lookup_string (settings, "password-kind");

  if (g_strcmp0 (kind, "app-specific") == 0)
    /* Translators: %s is a mail address */
    prompt = g_strdup_printf (_("Password for %s (an app-specific "
                                "password): "), address);
  else
    prompt = g_strdup_printf (_("Password for %s: "), address);

  return ctl_password_read_terminal (prompt, error);
}

/* Calls ValidateCredentials.  @password is wiped and freed here, as soon
 * as the message holds it.
 * Returns: (transfer full): the report, or NULL with @error set. */
static GVariant *
validate (CtlClient *client, const char *address, char *password,
          const char *operation_id, guint32 timeout_ms, DBusError *error)
{
  g_auto(GVariantDict) options = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GVariant) options_value = NULL;
  g_autoptr(GVariant) reply = NULL;
  int call_timeout_ms = CALL_TIMEOUT_DEFAULT_MS;
  DBusMessageIter iter;
  DBusMessage *message;
  gboolean appended;

  g_variant_dict_insert (&options, "operation-id", "s", operation_id);
  if (timeout_ms > 0)
    {
      g_variant_dict_insert (&options, "timeout-ms", "u", timeout_ms);
      call_timeout_ms = (int) MIN ((gint64) timeout_ms
                                   + CALL_TIMEOUT_MARGIN_MS, G_MAXINT - 1);
    }
  options_value = g_variant_ref_sink (g_variant_dict_end (&options));

  /* The password goes from its buffer into the message directly: through
   * a GVariant it would leave copies that cannot be wiped. */
  message = ctl_client_new_call (CTL_MANAGER_PATH, CTL_MANAGER_INTERFACE,
                                 "ValidateCredentials");
  dbus_message_iter_init_append (message, &iter);
  appended = dbus_message_iter_append_basic (&iter, DBUS_TYPE_STRING, &address)
             && dbus_message_iter_append_basic (&iter, DBUS_TYPE_STRING,
                                                &password)
             && bus_variant_append (&iter, options_value);
  ctl_password_free (password);
  if (!appended)
    g_error ("Out of memory");

  reply = ctl_client_send (client, message, call_timeout_ms,
                           G_VARIANT_TYPE ("(a{sv})"), error);

  /* The message's copy of the password lives in libdbus's own buffers,
   * which libdbus frees without wiping and offers no way to wipe; letting
   * go of the message as soon as the reply is in is all we can do. */
  dbus_message_unref (message);

  if (reply == NULL)
    return NULL;

  return g_variant_get_child_value (reply, 0);
}

/* --timeout SECONDS as milliseconds, 0 when not given; FALSE if it is not
 * a number of seconds.  "0.5" whatever the locale, as scripts write it. */
static gboolean
timeout_option_ms (guint32 *timeout_ms)
{
  char *end = NULL;
  double seconds, ms;

  *timeout_ms = 0;
  if (opt_timeout == NULL)
    return TRUE;

  seconds = g_ascii_strtod (opt_timeout, &end);
  /* The daemon sets the upper limit (InvalidArgs above it); this only
   * keeps the number representable. */
  if (end == opt_timeout || *end != '\0'
      || !(seconds > 0 && seconds <= G_MAXUINT32 / 1000))
    return FALSE;

  ms = seconds * 1000;
  *timeout_ms = (guint32) ms;
  if (*timeout_ms < ms)
    (*timeout_ms)++;

  return TRUE;
}

int
ctl_cmd_validate (CtlClient *client, const char * const *args)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;
  g_autofree char *operation_id = g_uuid_string_random ();
  g_autoptr(GVariant) report = NULL;
  gboolean json = ctl_client_get_json (client);
  const char *address = args[0];
  guint32 timeout_ms;
  char *password;

  if (!timeout_option_ms (&timeout_ms))
    return ctl_usage_error (_("--timeout takes a number of seconds greater "
                              "than zero"));

  if (!opt_password_stdin && !isatty (STDIN_FILENO))
    return ctl_usage_error (_("Standard input is not a terminal, so the "
                              "password cannot be asked for. To read it "
                              "from standard input, use --password-stdin."));

  if (opt_password_stdin)
    password = ctl_password_read_line (STDIN_FILENO, &error);
  else
    password = ask_password (client, address, &error);
  if (password == NULL)
    return ctl_client_report_error (client, &error);

  /* Subscribed before the call, so that no stage is missed; with --json
   * stdout is for the report alone, and stderr is kept quiet too. */
  if (!json
      && !ctl_client_watch_signal (client, CTL_MANAGER_INTERFACE, "Progress",
                                   operation_id, on_progress, NULL, &error))
    {
      ctl_password_free (password);
      return ctl_client_report_error (client, &error);
    }

  report = validate (client, address, g_steal_pointer (&password),
                     operation_id, timeout_ms, &error);
  if (report == NULL)
    return ctl_client_report_error (client, &error);

  if (json)
    {
      ctl_print_json (report);
    }
  else
    {
      g_autoptr(GString) text = g_string_new (NULL);

      ctl_report_format (text, report);
      ctl_print_text (stdout, text->str);
    }

  return CTL_EXIT_OK;
}
