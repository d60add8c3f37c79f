/* ctl-client.h: mailsetupctl's session with the daemon
 *
 * Opens the session bus on first use, calls the daemon's methods, and turns
 * what went wrong into a message for people, a JSON error object for
 * programs and an exit status.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <dbus/dbus.h>
#include <glib.h>
#include <stdio.h>

G_BEGIN_DECLS

#define CTL_BUS_NAME "org.mailsetup.MailSetup1"
#define CTL_MANAGER_PATH "/org/mailsetup/MailSetup1"
#define CTL_MANAGER_INTERFACE "org.mailsetup.MailSetup1.Manager"

/* Exit statuses; documented in --help, relied on by scripts. */
typedef enum {
  CTL_EXIT_OK = 0,
  CTL_EXIT_FAILURE = 1,      /* anything not listed below */
  CTL_EXIT_USAGE = 2,        /* bad command line, or InvalidArgs */
  CTL_EXIT_UNREACHABLE = 3,  /* no session bus, or the daemon did not answer */
  /* org.mailsetup.MailSetup1.Error.*: this plus the MsError code */
  CTL_EXIT_DAEMON_ERROR = 10,
} CtlExit;

typedef struct _CtlClient CtlClient;

/* (transfer full) */
CtlClient *ctl_client_new (gboolean json);
void ctl_client_free (CtlClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlClient, ctl_client_free)

gboolean ctl_client_get_json (CtlClient *client);

/* How long a call waits for its reply unless told otherwise: libdbus's
 * default, which the daemon's own deadlines are chosen to fit in. */
#define CTL_CALL_TIMEOUT_DEFAULT_MS 25000

/* Calls @method of @interface on @path at the daemon and waits for the
 * reply, for up to CTL_CALL_TIMEOUT_DEFAULT_MS.  @args is a tuple, or
 * NULL for none; it may be floating and is consumed.  The reply body must
 * have @reply_type (a tuple type).
 * Returns: (transfer full): the reply body, or NULL with @error set to a
 * D-Bus error name and message. */
GVariant *ctl_client_call (CtlClient *client,
                           const char *path,
                           const char *interface,
                           const char *method,
                           GVariant *args,
                           const GVariantType *reply_type,
                           DBusError *error);

/* A method call to the daemon, with no arguments yet (transfer full):
 * for arguments that must not pass through a GVariant, such as a password,
 * whose memory cannot be wiped. */
DBusMessage *ctl_client_new_call (const char *path,
                                  const char *interface,
                                  const char *method);

/* Sends @message (a call from ctl_client_new_call(); not consumed) and
 * waits up to @timeout_ms for the reply, dispatching the watched signal
 * meanwhile.  The reply body must have @reply_type (a tuple type).
 * Returns: (transfer full): the reply body, or NULL with @error set, to
 * DBUS_ERROR_NO_REPLY when the time is up. */
GVariant *ctl_client_send (CtlClient *client,
                           DBusMessage *message,
                           int timeout_ms,
                           const GVariantType *reply_type,
                           DBusError *error);

/* Called with the body (a tuple) of each watched signal. */
typedef void (*CtlSignalFunc) (GVariant *body, gpointer user_data);

/* Has the bus send this client the daemon's @interface.@member signals
 * from CTL_MANAGER_PATH whose first argument is the string @arg0, and
 * calls @func with each that arrives while ctl_client_send() waits.  The
 * match rule is in place when this returns, so a call sent afterwards
 * misses none of its signals.  One watch per client; it lasts as long as
 * the client.
 * Returns: FALSE with @error set if the bus refused. */
gboolean ctl_client_watch_signal (CtlClient *client,
                                  const char *interface,
                                  const char *member,
                                  const char *arg0,
                                  CtlSignalFunc func,
                                  gpointer user_data,
                                  DBusError *error);

/* Reports @error: "mailsetupctl: <message>" on stderr and, with --json, an
 * {"error": <name>, "message": <message>} object on stdout.
 * Returns: the exit status for @error's name. */
int ctl_client_report_error (CtlClient *client, const DBusError *error);

/* The exit status for the D-Bus error @name; see CtlExit. */
int ctl_exit_status_for_error (const char *name);

/* Writes @text (UTF-8) to @stream in the locale's character set; where
 * that is not UTF-8, the typography we use has ASCII stand-ins ("…" as
 * "...", “ ” as ", ✓ as "OK:") and anything else it lacks becomes "?". */
void ctl_print_text (FILE *stream, const char *text);

/* Writes @value to stdout as JSON (always UTF-8, whatever the locale). */
void ctl_print_json (GVariant *value);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DBusError, dbus_error_free)

G_END_DECLS
