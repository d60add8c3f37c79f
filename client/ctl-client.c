/* ctl-client.c: mailsetupctl's session with the daemon
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "ctl-client.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "bus-variant.h"
#include "json-writer.h"
#include "mailsetup-error.h"

struct _CtlClient {
  gboolean json;
  DBusConnection *connection;  /* private, opened on the first call */
};

CtlClient *
ctl_client_new (gboolean json)
{
  CtlClient *client = g_new0 (CtlClient, 1);

  client->json = json;

  return client;
}

void
ctl_client_free (CtlClient *client)
{
  if (client == NULL)
    return;

  if (client->connection != NULL)
    {
      dbus_connection_close (client->connection);
      dbus_connection_unref (client->connection);
    }
  g_free (client);
}

gboolean
ctl_client_get_json (CtlClient *client)
{
  return client->json;
}

/* Every failure to reach the bus is reported as NoServer, so that the exit
 * status follows from the name alone: libdbus reports a missing bus under
 * many names (NotSupported when it cannot autolaunch, FileNotFound, …). */
static gboolean
ensure_connection (CtlClient *client, DBusError *error)
{
  g_auto(DBusError) local_error = DBUS_ERROR_INIT;

  if (client->connection != NULL)
    return TRUE;

  /* A private connection, so that closing it at the end is ours to do. */
  client->connection = dbus_bus_get_private (DBUS_BUS_SESSION, &local_error);
  if (client->connection == NULL)
    {
      dbus_set_error (error, DBUS_ERROR_NO_SERVER,
                      _("Cannot connect to the session bus: %s"),
                      local_error.message != NULL ? local_error.message
                                                  : local_error.name);
      return FALSE;
    }

  /* A bus that goes away is an error to report, not a reason to _exit(). */
  dbus_connection_set_exit_on_disconnect (client->connection, FALSE);

  return TRUE;
}

GVariant *
ctl_client_call (CtlClient *client,
                 const char *path,
                 const char *interface,
                 const char *method,
                 GVariant *args,
                 const GVariantType *reply_type,
                 DBusError *error)
{
  /* Sunk here, so that it is released on every path; appending it takes
   * and drops a reference of its own. */
  g_autoptr(GVariant) owned_args = args != NULL ? g_variant_ref_sink (args)
                                                : NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GVariant) body = NULL;
  DBusMessage *message;
  DBusMessage *reply;

  if (!ensure_connection (client, error))
    return NULL;

  message = dbus_message_new_method_call (CTL_BUS_NAME, path, interface,
                                          method);
  if (message == NULL)
    g_error ("Out of memory");

  if (owned_args != NULL
      && !bus_message_append_body (message, owned_args))
    {
      dbus_message_unref (message);
      dbus_set_error (error, DBUS_ERROR_INVALID_ARGS,
                      _("Cannot send the arguments of %s"), method);
      return NULL;
    }

  reply = dbus_connection_send_with_reply_and_block (client->connection,
                                                     message,
                                                     DBUS_TIMEOUT_USE_DEFAULT,
                                                     error);
  dbus_message_unref (message);
  if (reply == NULL)
    return NULL;

  body = bus_message_get_body (reply, &local_error);
  dbus_message_unref (reply);

  /* A reply we cannot read means a daemon of another version, not a
   * mistake of the user's: InvalidSignature maps to the plain failure. */
  if (body == NULL)
    {
      dbus_set_error (error, DBUS_ERROR_INVALID_SIGNATURE,
                      _("Cannot read the reply to %s: %s"), method,
                      local_error->message);
      return NULL;
    }

  if (!g_variant_is_of_type (body, reply_type))
    {
      g_autofree char *expected = g_variant_type_dup_string (reply_type);

      dbus_set_error (error, DBUS_ERROR_INVALID_SIGNATURE,
                      _("The reply to %s has type %s, expected %s"), method,
                      g_variant_get_type_string (body), expected);
      return NULL;
    }

  return g_steal_pointer (&body);
}

static gboolean
name_has_prefix (const char *name, const char *prefix)
{
  return strncmp (name, prefix, strlen (prefix)) == 0;
}

int
ctl_exit_status_for_error (const char *name)
{
  /* The daemon is not running and could not be started, or did not answer
   * in time. */
  static const char * const unreachable[] = {
    DBUS_ERROR_SERVICE_UNKNOWN,
    DBUS_ERROR_NAME_HAS_NO_OWNER,
    DBUS_ERROR_NO_REPLY,
    DBUS_ERROR_TIMEOUT,
    DBUS_ERROR_TIMED_OUT,
    DBUS_ERROR_DISCONNECTED,
    DBUS_ERROR_NO_SERVER,
    DBUS_ERROR_NO_NETWORK,
  };
  int code;

  if (name == NULL)
    return CTL_EXIT_FAILURE;

  code = ms_error_from_dbus_name (name);
  if (code >= 0)
    return CTL_EXIT_DAEMON_ERROR + code;

  for (gsize i = 0; i < G_N_ELEMENTS (unreachable); i++)
    if (strcmp (name, unreachable[i]) == 0)
      return CTL_EXIT_UNREACHABLE;

  /* Bus activation failures: dbus-daemon's own spawning, or systemd's. */
  if (name_has_prefix (name, "org.freedesktop.DBus.Error.Spawn.")
      || name_has_prefix (name, "org.freedesktop.systemd1."))
    return CTL_EXIT_UNREACHABLE;

  /* The daemon refused the arguments it was given, e.g. an unknown option:
   * the remedy is on the command line, as for a usage error. */
  if (strcmp (name, DBUS_ERROR_INVALID_ARGS) == 0)
    return CTL_EXIT_USAGE;

  return CTL_EXIT_FAILURE;
}

void
ctl_print_json (GVariant *value)
{
  g_autofree char *text = ctl_json_from_variant (value);

  /* Not g_print(): that converts to the locale's charset, and JSON is
   * UTF-8 whatever the locale. */
  fputs (text, stdout);
  fflush (stdout);
}

int
ctl_client_report_error (CtlClient *client, const DBusError *error)
{
  const char *name = error->name != NULL ? error->name : DBUS_ERROR_FAILED;
  const char *message = error->message != NULL ? error->message : name;

  g_printerr ("mailsetupctl: %s\n", message);

  if (client->json)
    {
      g_auto(GVariantBuilder) builder =
        G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{ss}"));
      g_autoptr(GVariant) object = NULL;

      g_variant_builder_add (&builder, "{ss}", "error", name);
      g_variant_builder_add (&builder, "{ss}", "message", message);
      object = g_variant_ref_sink (g_variant_builder_end (&builder));
      ctl_print_json (object);
    }

  return ctl_exit_status_for_error (name);
}
