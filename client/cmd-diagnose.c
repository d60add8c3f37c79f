/* cmd-diagnose.c: mailsetupctl diagnose [--password-stdin] [--login LOGIN]
 *                                        [--timeout S] ADDRESS
 *
 * Has the daemon walk the troubleshooting checklist for ADDRESS
 * (Manager.Diagnose) and prints it, a mark for each step:
 *
 *   ✓ Mail provider
 *   ✗ Connecting to smtp.mail.me.com (SMTP) on port 587
 *       smtp.mail.me.com port 587 refused the connection. …
 *       What to do: Some Internet providers block outgoing mail (SMTP) …
 *   – Secure connection and certificate on port 587 (SMTP)
 *       No connection to check.
 *
 * Failed and warned steps have what was found and the advice below them,
 * skipped ones the reason.  The marks are ✓ ✗ ! – where the locale's
 * character set has them, else ASCII words; colour only on a terminal,
 * and not with NO_COLOR (https://no-color.org) or TERM=dumb.  The logins
 * use the stored password when the address has an account, or with
 * --password-stdin the first line of standard input; they sign in as
 * --login when it is given (an iCloud+ custom domain), else as the
 * account does.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "commands.h"

#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "credentials.h"
#include "password-input.h"
#include "settings-format.h"
#include "validation-call.h"

/* The daemon's checklist ends within its timeout-ms (20 s by default). */
#define DIAGNOSE_DEFAULT_TIMEOUT_MS 20000

#define COLOUR_RESET "\033[0m"

/* The text under a step starts in this column. */
#define STEP_INDENT 4

const GOptionEntry ctl_diagnose_options[] = {
  CTL_PASSWORD_STDIN_OPTION,
  CTL_LOGIN_OPTION,
  CTL_TIMEOUT_OPTION,
  { NULL }
};

typedef struct {
  const char *status;
  const char *mark;        /* UTF-8 */
  const char *ascii_mark;  /* the same width for all */
  const char *colour;      /* SGR sequence */
} Mark;

static const Mark marks[] = {
  { "pass", "✓", "[ok]  ", "\033[32m" },
  { "fail", "✗", "[FAIL]", "\033[1;31m" },
  { "warn", "!", "[warn]", "\033[33m" },
  { "skipped", "–", "[skip]", "\033[2m" },
};

/* The mark for @status; an unknown one as "?" (transfer none). */
static const Mark *
find_mark (const char *status)
{
  static const Mark unknown = { NULL, "?", "[?]   ", "" };

  for (gsize i = 0; i < G_N_ELEMENTS (marks); i++)
    if (g_strcmp0 (marks[i].status, status) == 0)
      return &marks[i];

  return &unknown;
}

static gboolean
use_colour (void)
{
  const char *no_colour = g_getenv ("NO_COLOR");

  return isatty (STDOUT_FILENO)
         && (no_colour == NULL || *no_colour == '\0')
         && g_strcmp0 (g_getenv ("TERM"), "dumb") != 0;
}

static void
append_step (GString *out, GVariant *step, gboolean utf8, gboolean colour)
{
  const char *status = ctl_settings_lookup_string (step, "status");
  const char *title = ctl_settings_lookup_string (step, "title");
  const char *detail = ctl_settings_lookup_string (step, "detail");
  const char *advice = ctl_settings_lookup_string (step, "advice");
  const Mark *mark = find_mark (status);
  gboolean trouble = g_strcmp0 (status, "fail") == 0
                     || g_strcmp0 (status, "warn") == 0;

  if (colour && *mark->colour != '\0')
    g_string_append_printf (out, "%s%s%s", mark->colour,
                            utf8 ? mark->mark : mark->ascii_mark,
                            COLOUR_RESET);
  else
    g_string_append (out, utf8 ? mark->mark : mark->ascii_mark);
  g_string_append_printf (out, " %s\n",
                          title != NULL ? title
                                        : ctl_settings_lookup_string (step, "id"));

  /* What went wrong and what to do; for a skipped step, why. */
  if (detail != NULL && (trouble || g_strcmp0 (status, "skipped") == 0))
    ctl_text_wrap_lines (out, detail, STEP_INDENT, CTL_FORMAT_WRAP_WIDTH);
  if (advice != NULL && trouble)
    {
      /* Translators: introduces the advice under a failed step. */
      g_autofree char *text = g_strdup_printf (_("What to do: %s"), advice);

      ctl_text_wrap_lines (out, text, STEP_INDENT, CTL_FORMAT_WRAP_WIDTH);
    }
}

/* How many of @steps (an aa{sv}) have @status. */
static guint
count_status (GVariant *steps, const char *status)
{
  gsize n = g_variant_n_children (steps);
  guint count = 0;

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) step = g_variant_get_child_value (steps, i);

      if (g_strcmp0 (ctl_settings_lookup_string (step, "status"), status) == 0)
        count++;
    }

  return count;
}

/* Prints the checklist @steps (an aa{sv}) and a line that sums it up. */
static void
print_steps (GVariant *steps)
{
  g_autoptr(GString) out = g_string_new (NULL);
  gboolean utf8 = g_get_charset (NULL);
  gboolean colour = use_colour ();
  gsize n = g_variant_n_children (steps);
  guint failed = count_status (steps, "fail");
  guint warned = count_status (steps, "warn");

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) step = g_variant_get_child_value (steps, i);

      append_step (out, step, utf8, colour);
    }

  g_string_append_c (out, '\n');
  if (failed > 0)
    g_string_append_printf (out, g_dngettext (GETTEXT_PACKAGE,
                                              "%u check failed.\n",
                                              "%u checks failed.\n", failed),
                            failed);
  else if (warned > 0)
    g_string_append_printf (out, g_dngettext (GETTEXT_PACKAGE,
                                              "No check failed; %u warning.\n",
                                              "No check failed; %u warnings.\n",
                                              warned),
                            warned);
  else
    g_string_append (out, _("Every check passed.\n"));

  ctl_print_text (stdout, out->str);
}

static gboolean
append_option_key (DBusMessageIter *dict, DBusMessageIter *entry,
                   DBusMessageIter *variant, const char *key,
                   const char *signature)
{
  return dbus_message_iter_open_container (dict, DBUS_TYPE_DICT_ENTRY, NULL,
                                           entry)
         && dbus_message_iter_append_basic (entry, DBUS_TYPE_STRING, &key)
         && dbus_message_iter_open_container (entry, DBUS_TYPE_VARIANT,
                                              signature, variant);
}

static gboolean
close_option (DBusMessageIter *dict, DBusMessageIter *entry,
              DBusMessageIter *variant)
{
  return dbus_message_iter_close_container (entry, variant)
         && dbus_message_iter_close_container (dict, entry);
}

/* Diagnose(s address, a{sv} options), the options built with libdbus so
 * that the password goes from its buffer into the message without the
 * copies a GVariant would leave (transfer full). */
static DBusMessage *
new_diagnose_call (const char *address, const char *login,
                   const char *password, guint32 timeout_ms)
{
  DBusMessage *message = ctl_client_new_call (CTL_MANAGER_PATH,
                                              CTL_MANAGER_INTERFACE,
                                              "Diagnose");
  DBusMessageIter iter, dict, entry, variant;
  gboolean ok;

  dbus_message_iter_init_append (message, &iter);
  ok = dbus_message_iter_append_basic (&iter, DBUS_TYPE_STRING, &address)
       && dbus_message_iter_open_container (&iter, DBUS_TYPE_ARRAY, "{sv}",
                                            &dict);
  if (ok && password != NULL)
    ok = append_option_key (&dict, &entry, &variant, "password", "s")
         && dbus_message_iter_append_basic (&variant, DBUS_TYPE_STRING,
                                            &password)
         && close_option (&dict, &entry, &variant);
  if (ok && login != NULL)
    ok = append_option_key (&dict, &entry, &variant, "login", "s")
         && dbus_message_iter_append_basic (&variant, DBUS_TYPE_STRING,
                                            &login)
         && close_option (&dict, &entry, &variant);
  if (ok && timeout_ms > 0)
    ok = append_option_key (&dict, &entry, &variant, "timeout-ms", "u")
         && dbus_message_iter_append_basic (&variant, DBUS_TYPE_UINT32,
                                            &timeout_ms)
         && close_option (&dict, &entry, &variant);
  if (!ok || !dbus_message_iter_close_container (&iter, &dict))
    g_error ("Out of memory");

  return message;
}

int
ctl_cmd_diagnose (CtlClient *client, const char * const *args)
{
  g_auto(DBusError) error = DBUS_ERROR_INIT;
  g_autoptr(GError) login_error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) steps = NULL;
  g_autofree char *login = NULL;
  char *password = NULL;
  DBusMessage *message;
  guint32 timeout_ms;

  if (!ctl_validation_parse_timeout (ctl_validation_timeout, &timeout_ms))
    return ctl_usage_error (_("--timeout takes a number of seconds greater "
                              "than zero"));
  if (!ctl_credentials_get_login (&login, &login_error))
    return ctl_usage_error (login_error->message);

  if (ctl_credentials_from_stdin)
    {
      password = ctl_password_read_line (STDIN_FILENO, &error);
      if (password == NULL)
        return ctl_client_report_error (client, &error);
    }

  if (!ctl_client_get_json (client))
    {
      g_autofree char *line = g_strdup_printf (_("Diagnosing %s…\n"), args[0]);

      ctl_print_text (stderr, line);
    }

  message = new_diagnose_call (args[0], login, password, timeout_ms);
  ctl_password_free (password);
  reply = ctl_client_send (client, message,
                           ctl_validation_call_timeout (timeout_ms > 0
                                                        ? timeout_ms
                                                        : DIAGNOSE_DEFAULT_TIMEOUT_MS),
                           G_VARIANT_TYPE ("(aa{sv})"), &error);
  /* libdbus frees its copy of the password without wiping it; letting go
   * of the message at once is all we can do (see credentials.c). */
  dbus_message_unref (message);
  if (reply == NULL)
    return ctl_client_report_error (client, &error);

  steps = g_variant_get_child_value (reply, 0);
  if (ctl_client_get_json (client))
    ctl_print_json (steps);
  else
    print_steps (steps);

  return count_status (steps, "fail") > 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}
