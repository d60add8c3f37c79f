/* mailsetupctl.c: the command-line client of mailsetupd
 *
 * Parses the global options, finds the command in the table below, checks
 * its arguments and runs it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "commands.h"
#include "ctl-client.h"
#include "mailsetup-error.h"
#include "settings-format.h"

#define DAEMON_ERROR_PREFIX "org.mailsetup.MailSetup1.Error."

static const CtlCommand commands[] = {
  { "lookup", N_("ADDRESS"),
    N_("Show the settings to use for ADDRESS (offline)"),
    1, 1, ctl_cmd_lookup, NULL },
  { "validate", N_("ADDRESS"),
    N_("Check the password of ADDRESS with its mail servers (stores nothing)"),
    1, 1, ctl_cmd_validate, ctl_validate_options },
  { "add", N_("ADDRESS"),
    N_("Set up an account for ADDRESS: check its password, then keep it"),
    1, 1, ctl_cmd_add, ctl_add_options,
    N_("The password is asked for on the terminal, without showing it, or\n"
       "read from the first line of standard input with --password-stdin.\n"
       "It is stored in the keyring (Secret Service), never in a file.") },
  { "list", "",
    N_("List the accounts: address, status and display name"),
    0, 0, ctl_cmd_list, NULL },
  { "show", N_("ADDRESS"),
    N_("Show the account of ADDRESS: its status and settings"),
    1, 1, ctl_cmd_show, NULL },
  { "check", N_("ADDRESS"),
    N_("Sign in again with the stored password and show how it went"),
    1, 1, ctl_cmd_check, NULL,
    N_("Exit status:\n"
       "   0  the account works\n"
       "  13  AuthenticationFailed: the server refuses its password\n"
       "  17  ConnectionFailed: its servers cannot be reached\n"
       "  23  SecretStoreUnavailable: no password is stored for it\n"
       "  and otherwise as “mailsetupctl --help” says.") },
  { "passwd", N_("ADDRESS"),
    N_("Give the account of ADDRESS a new password (checked first)"),
    1, 1, ctl_cmd_passwd, ctl_passwd_options,
    N_("The daemon signs in with the new password before storing it; a\n"
       "password that does not work leaves the old one in place.") },
  { "remove", N_("ADDRESS"),
    N_("Remove the account of ADDRESS and its stored password"),
    1, 1, ctl_cmd_remove, ctl_remove_options,
    N_("Asks first on the terminal. Without a terminal (in scripts),\n"
       "--yes is needed.") },
  { "export", N_("ADDRESS FORMAT"),
    N_("Print the account's settings for a mail program, or install them"),
    2, 2, ctl_cmd_export, ctl_export_options,
    N_("FORMAT is one of thunderbird, msmtp, mbsync, neomutt, aerc (the\n"
       "settings, without the password: the programs read it from the\n"
       "keyring with secret-tool) or goa, which adds the account to GNOME\n"
       "Online Accounts.\n"
       "\n"
       "--install saves them where the program reads them:\n"
       "  msmtp    ~/.msmtprc, or $XDG_CONFIG_HOME/msmtp/config if that is\n"
       "           the file in use\n"
       "  mbsync   ~/.mbsyncrc, or $XDG_CONFIG_HOME/isyncrc if that is\n"
       "           the file in use\n"
       "  neomutt  $XDG_CONFIG_HOME/neomutt/accounts/ADDRESS, and a \"source\"\n"
       "           line for it in the neomuttrc in use (made if there is none)\n"
       "  aerc     $XDG_CONFIG_HOME/aerc/accounts.conf\n"
       "readable by you alone (mode 0600). A file that exists is left as it\n"
       "is (exit status 2) unless --force replaces it. Thunderbird reads no\n"
       "per-user file of this kind, so there is no --install for it.") },
  { "diagnose", N_("ADDRESS"),
    N_("Walk the troubleshooting checklist for ADDRESS"),
    1, 1, ctl_cmd_diagnose, ctl_diagnose_options,
    N_("Checks that the provider is known, that its servers can be found\n"
       "and reached on every port, their certificates, the logins and the\n"
       "message size limit, and says what to do about what fails. The\n"
       "logins use the stored password if ADDRESS has an account, or with\n"
       "--password-stdin the first line of standard input.\n"
       "\n"
       "Exit status:\n"
       "   0  no check failed (there may be warnings)\n"
       "   1  a check failed\n"
       "  and otherwise as “mailsetupctl --help” says.") },
};

static const CtlCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];

  return NULL;
}

/* "lookup ADDRESS" (transfer full) */
static char *
command_usage (const CtlCommand *command)
{
  /* Not _(""): that is the catalogue's header. */
  if (command->synopsis == NULL || *command->synopsis == '\0')
    return g_strdup (command->name);

  return g_strdup_printf ("%s %s", command->name, _(command->synopsis));
}

/* The command list for --help (transfer full). */
static char *
build_summary (void)
{
  g_autoptr(GString) out = g_string_new (_("Commands:"));
  guint width = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *usage = command_usage (&commands[i]);

      width = MAX (width, ctl_display_width (usage));
    }

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *usage = command_usage (&commands[i]);

      /* By screen columns: a Chinese synopsis is twice as wide. */
      g_string_append (out, "\n  ");
      ctl_append_padded (out, usage, width + 3);
      g_string_append (out, _(commands[i].summary));
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* "Timeout" for org.mailsetup.MailSetup1.Error.Timeout (transfer none). */
static const char *
daemon_error_short_name (int code)
{
  const char *name = ms_error_dbus_name ((MsError) code);

  g_assert (g_str_has_prefix (name, DAEMON_ERROR_PREFIX));
  return name + strlen (DAEMON_ERROR_PREFIX);
}

/* The exit statuses for --help (transfer full). */
static char *
build_description (void)
{
  g_autoptr(GString) out = g_string_new (_("Exit status:"));
  int half = (MS_ERROR_N_CODES + 1) / 2;

  g_string_append_printf (out, "\n  %2d  %s", CTL_EXIT_OK, _("Success"));
  g_string_append_printf (out, "\n  %2d  %s", CTL_EXIT_FAILURE,
                          _("Any other failure"));
  g_string_append_printf (out, "\n  %2d  %s", CTL_EXIT_USAGE,
                          _("Usage error, or the daemon refused the "
                            "arguments (InvalidArgs)"));
  g_string_append_printf (out, "\n  %2d  %s", CTL_EXIT_UNREACHABLE,
                          _("The daemon cannot be reached (no session bus, "
                            "cannot be started, no reply)"));
  g_string_append_printf (out, "\n  %s",
                          _("The daemon's errors, "
                            "org.mailsetup.MailSetup1.Error.NAME:"));

  /* Two columns, read downwards, to keep --help short. */
  for (int row = 0; row < half; row++)
    {
      g_string_append_printf (out, "\n  %2d  %-24s",
                              CTL_EXIT_DAEMON_ERROR + row,
                              daemon_error_short_name (row));
      if (row + half < MS_ERROR_N_CODES)
        g_string_append_printf (out, "%2d  %s",
                                CTL_EXIT_DAEMON_ERROR + row + half,
                                daemon_error_short_name (row + half));
    }

  g_string_append_printf (out, "\n\n%s",
                          _("“check” also exits with 13, 17 or 23 when the "
                            "account's password is refused,\n"
                            "its servers cannot be reached, or no password "
                            "is stored for it\n"
                            "(see “mailsetupctl check --help”)."));

  g_string_append_printf (out, "\n\n%s",
                          _("With --json, results go to standard output as JSON, and so do\n"
                            "the daemon's errors, as {\"error\": NAME, "
                            "\"message\": TEXT}."));

  return g_string_free (g_steal_pointer (&out), FALSE);
}

int
ctl_usage_error (const char *message)
{
  g_printerr ("mailsetupctl: %s\n", message);
  g_printerr (_("Try “%s” for more information."), "mailsetupctl --help");
  g_printerr ("\n");

  return CTL_EXIT_USAGE;
}

char *
ctl_argument_to_utf8 (const char *arg, GError **error)
{
  char *converted;
  g_autofree char *shown = NULL;

  /* Bytes that already are UTF-8 are kept as they are, since a script
   * running under LANG=C still passes UTF-8. */
  if (g_utf8_validate (arg, -1, NULL))
    return g_strdup (arg);

  converted = g_locale_to_utf8 (arg, -1, NULL, NULL, NULL);
  if (converted != NULL)
    return converted;

  shown = g_utf8_make_valid (arg, -1);
  g_set_error (error, G_CONVERT_ERROR, G_CONVERT_ERROR_ILLEGAL_SEQUENCE,
               _("The argument “%s” is not text in this locale's "
                 "encoding"), shown);
  return NULL;
}

static char **
arguments_to_utf8 (char **args, GError **error)
{
  g_autoptr(GPtrArray) converted = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; args != NULL && args[i] != NULL; i++)
    {
      char *arg = ctl_argument_to_utf8 (args[i], error);

      if (arg == NULL)
        return NULL;
      g_ptr_array_add (converted, arg);
    }
  g_ptr_array_add (converted, NULL);

  return (char **) g_ptr_array_free (g_steal_pointer (&converted), FALSE);
}

/* Parses @line, a command's name and what follows it, for the command's
 * own options and for --json, which may also come after the command.
 * Returns: (transfer full): the command's arguments, or NULL with @error
 * set. */
static char **
parse_command_line (const CtlCommand *command, char **line, gboolean *json,
                    GError **error)
{
  g_autofree char *usage = command_usage (command);
  g_autoptr(GOptionContext) context = g_option_context_new (usage);
  g_auto(GStrv) argv = g_strdupv (line);
  g_auto(GStrv) remaining = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, json,
      N_("Print results and errors as JSON"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &remaining,
      NULL, NULL },
    { NULL }
  };
  guint n_args;

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _(command->summary));
  if (command->description != NULL)
    g_option_context_set_description (context, _(command->description));
  if (command->options != NULL)
    g_option_context_add_main_entries (context, command->options,
                                       GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  /* argv[0], the command's name, stands where the program's would. */
  if (!g_option_context_parse_strv (context, &argv, error))
    return NULL;

  n_args = remaining != NULL ? g_strv_length (remaining) : 0;
  if (n_args < command->min_args || n_args > command->max_args)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   _("Usage: mailsetupctl %s"), usage);
      return NULL;
    }

  return arguments_to_utf8 (remaining, error);
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CtlClient) client = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *description = NULL;
  g_auto(GStrv) remaining = NULL;
  g_auto(GStrv) args = NULL;
  gboolean json = FALSE;
  gboolean version = FALSE;
  const CtlCommand *command;
  const char *localedir;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print results and errors as JSON"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Show the version and exit"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &remaining,
      NULL, NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  /* MAILSETUP_LOCALEDIR: the build tree's po/, for running uninstalled. */
  localedir = g_getenv ("MAILSETUP_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE,
                  localedir != NULL && localedir[0] != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  summary = build_summary ();
  description = build_description ();

  context = g_option_context_new (_("COMMAND [ARGUMENT…]"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, description);
  /* Options up to the command are mailsetupctl's own; the rest of the
   * line is the command's, parsed by parse_command_line(). */
  g_option_context_set_strict_posix (context, TRUE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return ctl_usage_error (error->message);

  if (version)
    {
      g_print ("mailsetupctl %s\n", PACKAGE_VERSION);
      return CTL_EXIT_OK;
    }

  if (remaining == NULL || remaining[0] == NULL)
    return ctl_usage_error (_("No command given"));

  command = find_command (remaining[0]);
  if (command == NULL)
    {
      g_autofree char *message =
        g_strdup_printf (_("Unknown command “%s”"), remaining[0]);

      return ctl_usage_error (message);
    }

  args = parse_command_line (command, remaining, &json, &error);
  if (args == NULL)
    return ctl_usage_error (error->message);

  client = ctl_client_new (json);

  return command->run (client, (const char * const *) args);
}
