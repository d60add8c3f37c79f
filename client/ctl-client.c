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

  /* The signal watch, see ctl_client_watch_signal(); func is NULL when
   * there is none. */
  char *watch_interface;
  char *watch_member;
  char *watch_arg0;
  CtlSignalFunc watch_func;
  gpointer watch_data;
};

static DBusHandlerResult on_message (DBusConnection *connection,
                                     DBusMessage *message,
                                     void *user_data);

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
      if (client->watch_func != NULL)
        dbus_connection_remove_filter (client->connection, on_message,
                                       client);
      dbus_connection_close (client->connection);
      dbus_connection_unref (client->connection);
    }
  g_free (client->watch_interface);
  g_free (client->watch_member);
  g_free (client->watch_arg0);
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

DBusMessage *
ctl_client_new_call (const char *path,
                     const char *interface,
                     const char *method)
{
  DBusMessage *message = dbus_message_new_method_call (CTL_BUS_NAME, path,
                                                       interface, method);

  if (message == NULL)
    g_error ("Out of memory");

  return message;
}

/* Waits for @pending to complete until @deadline (monotonic time), handling
 * the messages that arrive meanwhile, watched signals among them.  libdbus
 * only enforces a pending call's timeout from a main loop or from
 * dbus_pending_call_block(), which dispatches nothing; so the deadline is
 * kept here.  Returns FALSE if the time ran out or the bus went away. */
static gboolean
wait_for_reply (DBusConnection *connection, DBusPendingCall *pending,
                gint64 deadline)
{
  while (!dbus_pending_call_get_completed (pending))
    {
      int wait_ms = -1;

      if (deadline >= 0)
        {
          gint64 left_us = deadline - g_get_monotonic_time ();

          if (left_us <= 0)
            return FALSE;
          wait_ms = (int) MIN ((left_us + 999) / 1000, G_MAXINT);
        }

      /* FALSE once the disconnection has been dispatched; libdbus then
       * completes every pending call with an error of its own. */
      if (!dbus_connection_read_write_dispatch (connection, wait_ms))
        return dbus_pending_call_get_completed (pending);
    }

  /* Signals read together with the reply, so that none is lost. */
  while (dbus_connection_dispatch (connection) == DBUS_DISPATCH_DATA_REMAINS)
    ;

  return TRUE;
}

GVariant *
ctl_client_send (CtlClient *client,
                 DBusMessage *message,
                 int timeout_ms,
                 const GVariantType *reply_type,
                 DBusError *error)
{
  const char *method = dbus_message_get_member (message);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GVariant) body = NULL;
  DBusPendingCall *pending = NULL;
  DBusMessage *reply;
  gint64 deadline = -1;

  if (!ensure_connection (client, error))
    return NULL;

  if (timeout_ms == DBUS_TIMEOUT_USE_DEFAULT)
    timeout_ms = CTL_CALL_TIMEOUT_DEFAULT_MS;
  if (timeout_ms != DBUS_TIMEOUT_INFINITE)
    deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  if (!dbus_connection_send_with_reply (client->connection, message, &pending,
                                        timeout_ms))
    g_error ("Out of memory");
  /* NULL when the connection is already closed. */
  if (pending == NULL)
    {
      dbus_set_error (error, DBUS_ERROR_DISCONNECTED,
                      _("The connection to the session bus is closed"));
      return NULL;
    }

  if (!wait_for_reply (client->connection, pending, deadline))
    {
      dbus_pending_call_cancel (pending);
      dbus_pending_call_unref (pending);
      int seconds = (timeout_ms + 999) / 1000;

      dbus_set_error (error, DBUS_ERROR_NO_REPLY,
                      ngettext ("The daemon did not answer %s within %d second",
                                "The daemon did not answer %s within %d seconds",
                                seconds),
                      method, seconds);
      return NULL;
    }

  reply = dbus_pending_call_steal_reply (pending);
  dbus_pending_call_unref (pending);
  if (reply == NULL)
    g_error ("A completed call has no reply");

  if (dbus_set_error_from_message (error, reply))
    {
      dbus_message_unref (reply);
      return NULL;
    }

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
  DBusMessage *message;
  GVariant *body;

  message = ctl_client_new_call (path, interface, method);

  if (owned_args != NULL
      && !bus_message_append_body (message, owned_args))
    {
      dbus_message_unref (message);
      dbus_set_error (error, DBUS_ERROR_INVALID_ARGS,
                      _("Cannot send the arguments of %s"), method);
      return NULL;
    }

  body = ctl_client_send (client, message, CTL_CALL_TIMEOUT_DEFAULT_MS,
                          reply_type, error);
  dbus_message_unref (message);

  return body;
}

static DBusHandlerResult
on_message (DBusConnection *connection,
            DBusMessage *message,
            void *user_data)
{
  CtlClient *client = user_data;
  g_autoptr(GVariant) body = NULL;
  g_autoptr(GVariant) first = NULL;

  if (client->watch_func == NULL
      || !dbus_message_is_signal (message, client->watch_interface,
                                  client->watch_member)
      || !dbus_message_has_path (message, CTL_MANAGER_PATH))
    return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;

  /* Broadcasts reach us only through our match rule, for which the bus
   * checks that the sender owns CTL_BUS_NAME; a signal addressed to us
   * bypasses match rules, so anyone on the bus could have sent it. */
  if (dbus_message_get_destination (message) != NULL)
    return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;

  body = bus_message_get_body (message, NULL);
  if (body == NULL || g_variant_n_children (body) == 0)
    return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;

  first = g_variant_get_child_value (body, 0);
  if (!g_variant_is_of_type (first, G_VARIANT_TYPE_STRING)
      || strcmp (g_variant_get_string (first, NULL), client->watch_arg0) != 0)
    return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;

  client->watch_func (body, client->watch_data);

  return DBUS_HANDLER_RESULT_HANDLED;
}

/* @value quoted for a match rule: inside '…' a backslash is literal and
 * an apostrophe is written '\'' (transfer full). */
static char *
match_rule_quote (const char *value)
{
  g_autoptr(GString) out = g_string_new ("'");

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '\'')
        g_string_append (out, "'\\''");
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '\'');

  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
ctl_client_watch_signal (CtlClient *client,
                         const char *interface,
                         const char *member,
                         const char *arg0,
                         CtlSignalFunc func,
                         gpointer user_data,
                         DBusError *error)
{
  g_auto(DBusError) local_error = DBUS_ERROR_INIT;
  g_autofree char *quoted_arg0 = match_rule_quote (arg0);
  g_autofree char *rule = NULL;

  g_return_val_if_fail (client->watch_func == NULL, FALSE);

  if (!ensure_connection (client, error))
    return FALSE;

  rule = g_strdup_printf ("type='signal',sender='%s',path='%s',"
                          "interface='%s',member='%s',arg0=%s",
                          CTL_BUS_NAME, CTL_MANAGER_PATH, interface, member,
                          quoted_arg0);

  /* With an error to fill, this waits for the bus's answer. */
  dbus_bus_add_match (client->connection, rule, &local_error);
  if (dbus_error_is_set (&local_error))
    {
      dbus_move_error (&local_error, error);
      return FALSE;
    }

  if (!dbus_connection_add_filter (client->connection, on_message, client,
                                   NULL))
    g_error ("Out of memory");

  client->watch_interface = g_strdup (interface);
  client->watch_member = g_strdup (member);
  client->watch_arg0 = g_strdup (arg0);
  client->watch_func = func;
  client->watch_data = user_data;

  return TRUE;
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

/* @text with ASCII stand-ins for the characters beyond ASCII that our
 * texts and the daemon's messages use (transfer full).  iconv's
 * //TRANSLIT would depend on the locale, and the C locale has next to
 * none. */
static char *
replace_typography (const char *text)
{
  static const struct {
    gunichar c;
    const char *ascii;
  } stand_ins[] = {
    { 0x00A0, " " },    /* no-break space, as in "20.0 MiB" */
    { 0x2013, "-" },    /* – */
    { 0x2014, "-" },    /* — */
    { 0x2018, "'" },    /* ‘ */
    { 0x2019, "'" },    /* ’ */
    { 0x201C, "\"" },   /* “ */
    { 0x201D, "\"" },   /* ” */
    { 0x2022, "*" },    /* • */
    { 0x2026, "..." },  /* … */
    { 0x2713, "OK:" },  /* ✓ */
  };
  g_autoptr(GString) out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      const char *ascii = NULL;

      for (gsize i = 0; i < G_N_ELEMENTS (stand_ins) && ascii == NULL; i++)
        if (stand_ins[i].c == c)
          ascii = stand_ins[i].ascii;

      if (ascii != NULL)
        g_string_append (out, ascii);
      else
        g_string_append_unichar (out, c);
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

void
ctl_print_text (FILE *stream, const char *text)
{
  g_autofree char *plain = NULL;
  g_autofree char *converted = NULL;
  const char *charset;

  if (g_get_charset (&charset) || !g_utf8_validate (text, -1, NULL))
    {
      fputs (text, stream);
      fflush (stream);
      return;
    }

  plain = replace_typography (text);
  converted = g_convert_with_fallback (plain, -1, charset, "UTF-8", "?",
                                       NULL, NULL, NULL);

  fputs (converted != NULL ? converted : plain, stream);
  fflush (stream);
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
  g_autofree char *line = g_strdup_printf ("mailsetupctl: %s\n", message);

  ctl_print_text (stderr, line);

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
