/* main.c: mailsetupd, the mailsetup daemon
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib-unix.h>
#include <libsecret/secret.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/bus-mainloop.h"
#include "bus/bus-service.h"
#include "accounts/account-file.h"
#include "accounts/accounts.h"
#include "manager.h"
#include "mailsetup-error.h"
#include "providers/provider-registry.h"

/* LeakSanitizer stops the world with ptrace(), which a non-dumpable
 * process refuses: sanitizer builds keep the default. */
#if defined(__SANITIZE_ADDRESS__)
#define MS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MS_SANITIZED 1
#endif
#endif

#define INTERFACES_RESOURCE "/org/mailsetup/MailSetup1/interfaces"

static gboolean
quit_on_signal (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_message ("Stopping on request");
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

/* Without a bus there is nobody to serve: a clean exit lets the next call
 * activate a fresh daemon. */
static DBusHandlerResult
quit_on_disconnect (DBusConnection *connection,
                    DBusMessage *message,
                    void *user_data)
{
  GMainLoop *loop = user_data;

  if (dbus_message_is_signal (message, DBUS_INTERFACE_LOCAL, "Disconnected"))
    {
      g_message ("The session bus went away; stopping");
      g_main_loop_quit (loop);
      return DBUS_HANDLER_RESULT_HANDLED;
    }

  return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

static DBusConnection *
connect_to_session_bus (void)
{
  DBusError error = DBUS_ERROR_INIT;
  DBusConnection *connection = dbus_bus_get_private (DBUS_BUS_SESSION, &error);

  if (connection == NULL)
    {
      g_printerr (_("mailsetupd: cannot connect to the session bus: %s\n"), error.message);
      dbus_error_free (&error);
      return NULL;
    }

  /* libdbus would call _exit(); we want to clean up first. */
  dbus_connection_set_exit_on_disconnect (connection, FALSE);
  return connection;
}

/* Owning the name is the last step of start-up: a client that activated
 * us may call the moment we own it, so every object is exported by then. */
static gboolean
own_bus_name (DBusConnection *connection)
{
  DBusError error = DBUS_ERROR_INIT;
  int result = dbus_bus_request_name (connection, MS_BUS_NAME,
                                      DBUS_NAME_FLAG_DO_NOT_QUEUE, &error);

  if (result == -1)
    {
      g_printerr (_("mailsetupd: cannot own the bus name %s: %s\n"),
                  MS_BUS_NAME, error.message);
      dbus_error_free (&error);
      return FALSE;
    }

  if (result != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER &&
      result != DBUS_REQUEST_NAME_REPLY_ALREADY_OWNER)
    {
      g_printerr (_("mailsetupd: another process already owns %s on this "
                    "session bus; is mailsetupd already running?\n"),
                  MS_BUS_NAME);
      return FALSE;
    }

  return TRUE;
}

int
main (int argc,
      char **argv)
{
  gboolean show_version = FALSE;
  gboolean verbose = FALSE;
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &show_version, N_("Print the version and exit"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Log debugging messages"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) denial = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(BusService) service = NULL;
  g_autoptr(MsProviderRegistry) registry = NULL;
  g_autoptr(MsAccountFile) account_file = NULL;
  g_autoptr(MsAccounts) accounts = NULL;
  g_autoptr(MsManager) manager = NULL;
  DBusConnection *connection;
  const char *localedir;

  setlocale (LC_ALL, "");
  /* MAILSETUP_LOCALEDIR: the build tree's po/, for running uninstalled. */
  localedir = g_getenv ("MAILSETUP_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE,
                  localedir != NULL && localedir[0] != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* Nothing we write is for other users' eyes, and a process that holds
   * passwords leaves no core dump and cannot be ptrace()d by its peers. */
  umask (0077);
#ifndef MS_SANITIZED
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _("Serves org.mailsetup.MailSetup1 on the session bus: "
                                  "checks mail accounts and hands their settings to mail programs.\n"
                                  "Normally started by D-Bus activation or systemd, not by hand."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("mailsetupd: %s\n", error->message);
      return 2;
    }

  if (show_version)
    {
      g_print ("mailsetupd %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  if (verbose)
    g_log_set_debug_enabled (TRUE);

  /* Registers our error names with GIO before the first reply. */
  ms_error_quark ();

  /* GLib sets up the C locale behind g_ascii_strtoull() on first use.
   * When that first use raced with libsecret's D-Bus thread starting up,
   * valid numbers were rejected now and then (provider files with port
   * "993" skipped, about one start in twenty); doing it before any thread
   * exists made that go away. */
  g_ascii_strtoull ("0", NULL, 10);

  /* GIO opens libsecret's bus connection in a thread-pool thread; by
   * default an idle pool thread wakes up after 15 s only to exit, a
   * wake-up of a daemon that is otherwise asleep.  Idle pool threads
   * wait without a timer instead. */
  g_thread_pool_set_max_idle_time (0);

  connection = connect_to_session_bus ();
  if (connection == NULL)
    return EXIT_FAILURE;

  loop = g_main_loop_new (NULL, FALSE);
  bus_mainloop_attach (connection, NULL);

  service = bus_service_new (connection, INTERFACES_RESOURCE, &error);
  if (service == NULL)
    g_error ("Cannot load the interface descriptions: %s", error->message);
  /* Passwords are handed out over the bus: only to our own user. */
  denial = g_error_new_literal (MS_ERROR, MS_ERROR_ACCESS_DENIED,
                                _("mailsetupd serves only the programs of the user it "
                                  "runs for."));
  bus_service_restrict_to_user (service, getuid (), denial);

  registry = ms_provider_registry_new_default ();
  account_file = ms_account_file_new (NULL);
  /* The manager first: it announces the accounts as they are exported. */
  accounts = ms_accounts_new (service, registry, account_file);
  manager = ms_manager_new (service, registry, accounts);

  if (!dbus_connection_add_filter (connection, quit_on_disconnect, loop, NULL))
    g_error ("Out of memory");

  if (!own_bus_name (connection))
    {
      g_clear_pointer (&accounts, ms_accounts_free);
      g_clear_pointer (&manager, ms_manager_free);
      g_clear_pointer (&service, bus_service_free);
      dbus_connection_close (connection);
      dbus_connection_unref (connection);
      return EXIT_FAILURE;
    }

  /* Calls that came with our activation wait in the queue until the loop
   * runs, so the accounts are on the bus before anyone can ask for them;
   * a second instance never touches the file. */
  ms_accounts_load (accounts);

  g_unix_signal_add (SIGTERM, quit_on_signal, loop);
  g_unix_signal_add (SIGINT, quit_on_signal, loop);

  g_debug ("Serving %s", MS_BUS_NAME);
  g_main_loop_run (loop);

  g_clear_pointer (&accounts, ms_accounts_free);
  g_clear_pointer (&manager, ms_manager_free);
  g_clear_pointer (&service, bus_service_free);
  /* libsecret keeps a connection and its proxies for the whole process;
   * let them go so that leak checkers see only real leaks. */
  secret_service_disconnect ();
  dbus_connection_remove_filter (connection, quit_on_disconnect, loop);
  dbus_connection_close (connection);
  dbus_connection_unref (connection);

  return EXIT_SUCCESS;
}
