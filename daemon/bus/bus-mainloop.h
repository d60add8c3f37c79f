/* bus-mainloop.h: running a libdbus connection from a GLib main context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <dbus/dbus.h>
#include <glib.h>

G_BEGIN_DECLS

/* Makes @context (NULL for the default one) serve @connection: its socket
 * watches and timeouts become GSources, and incoming messages are
 * dispatched from an idle source, one per main-loop iteration, never from
 * inside a libdbus callback.  The sources live as long as the connection. */
void bus_mainloop_attach (DBusConnection *connection,
                          GMainContext *context);

G_END_DECLS
