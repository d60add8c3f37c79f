/* bus-mainloop.c: running a libdbus connection from a GLib main context
 *
 * libdbus asks its host loop for three things: watch these file
 * descriptors, fire these timeouts, and tell me when messages wait to be
 * dispatched.  Each becomes a GSource here.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "bus-mainloop.h"

#include <glib-unix.h>

typedef struct {
  DBusConnection *connection; /* not owned: we live in its data slot */
  GMainContext *context;
  GSource *dispatch_source;
} BusLoop;

static dbus_int32_t loop_slot = -1;

static void
destroy_source (void *data)
{
  GSource *source = data;

  g_source_destroy (source);
  g_source_unref (source);
}

/* Watches */

static gboolean
watch_ready (int fd,
             GIOCondition condition,
             gpointer user_data)
{
  DBusWatch *watch = user_data;
  unsigned int flags = 0;

  if (condition & G_IO_IN)
    flags |= DBUS_WATCH_READABLE;
  if (condition & G_IO_OUT)
    flags |= DBUS_WATCH_WRITABLE;
  if (condition & G_IO_ERR)
    flags |= DBUS_WATCH_ERROR;
  if (condition & G_IO_HUP)
    flags |= DBUS_WATCH_HANGUP;

  /* Reading may queue messages; libdbus then calls dispatch_status_changed. */
  dbus_watch_handle (watch, flags);

  return G_SOURCE_CONTINUE;
}

static dbus_bool_t
add_watch (DBusWatch *watch,
           void *user_data)
{
  BusLoop *loop = user_data;
  unsigned int flags;
  GIOCondition condition = G_IO_ERR | G_IO_HUP;
  GSource *source;

  if (!dbus_watch_get_enabled (watch))
    return TRUE;

  flags = dbus_watch_get_flags (watch);
  if (flags & DBUS_WATCH_READABLE)
    condition |= G_IO_IN;
  if (flags & DBUS_WATCH_WRITABLE)
    condition |= G_IO_OUT;

  source = g_unix_fd_source_new (dbus_watch_get_unix_fd (watch), condition);
  g_source_set_name (source, "[mailsetup] D-Bus watch");
  g_source_set_callback (source, G_SOURCE_FUNC (watch_ready), watch, NULL);
  g_source_attach (source, loop->context);

  /* Replacing the data frees the previous source, if any. */
  dbus_watch_set_data (watch, source, destroy_source);

  return TRUE;
}

static void
remove_watch (DBusWatch *watch,
              void *user_data)
{
  dbus_watch_set_data (watch, NULL, NULL);
}

static void
toggle_watch (DBusWatch *watch,
              void *user_data)
{
  if (dbus_watch_get_enabled (watch))
    add_watch (watch, user_data);
  else
    remove_watch (watch, user_data);
}

/* Timeouts */

static gboolean
timeout_fired (gpointer user_data)
{
  DBusTimeout *timeout = user_data;

  dbus_timeout_handle (timeout);

  return G_SOURCE_CONTINUE;
}

static dbus_bool_t
add_timeout (DBusTimeout *timeout,
             void *user_data)
{
  BusLoop *loop = user_data;
  GSource *source;

  if (!dbus_timeout_get_enabled (timeout))
    return TRUE;

  source = g_timeout_source_new (dbus_timeout_get_interval (timeout));
  g_source_set_name (source, "[mailsetup] D-Bus timeout");
  g_source_set_callback (source, timeout_fired, timeout, NULL);
  g_source_attach (source, loop->context);

  dbus_timeout_set_data (timeout, source, destroy_source);

  return TRUE;
}

static void
remove_timeout (DBusTimeout *timeout,
                void *user_data)
{
  dbus_timeout_set_data (timeout, NULL, NULL);
}

static void
toggle_timeout (DBusTimeout *timeout,
                void *user_data)
{
  if (dbus_timeout_get_enabled (timeout))
    add_timeout (timeout, user_data);
  else
    remove_timeout (timeout, user_data);
}

/* Dispatching */

/* One message per main-loop iteration: other sources (sockets of running
 * validations, timers) get their turn between messages, and property
 * changes made by one handler are flushed in one batch. */
static gboolean
dispatch_one (gpointer user_data)
{
  BusLoop *loop = user_data;
  DBusDispatchStatus status;

  dbus_connection_ref (loop->connection);
  status = dbus_connection_dispatch (loop->connection);
  dbus_connection_unref (loop->connection);

  if (status == DBUS_DISPATCH_DATA_REMAINS)
    return G_SOURCE_CONTINUE;

  g_clear_pointer (&loop->dispatch_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
schedule_dispatch (BusLoop *loop)
{
  if (loop->dispatch_source != NULL)
    return;

  loop->dispatch_source = g_idle_source_new ();
  g_source_set_priority (loop->dispatch_source, G_PRIORITY_DEFAULT);
  g_source_set_name (loop->dispatch_source, "[mailsetup] D-Bus dispatch");
  g_source_set_callback (loop->dispatch_source, dispatch_one, loop, NULL);
  g_source_attach (loop->dispatch_source, loop->context);
}

static void
dispatch_status_changed (DBusConnection *connection,
                         DBusDispatchStatus status,
                         void *user_data)
{
  if (status == DBUS_DISPATCH_DATA_REMAINS)
    schedule_dispatch (user_data);
}

static void
wakeup_main (void *user_data)
{
  BusLoop *loop = user_data;

  g_main_context_wakeup (loop->context);
}

static void
bus_loop_free (void *data)
{
  BusLoop *loop = data;

  if (loop->dispatch_source != NULL)
    destroy_source (loop->dispatch_source);
  g_main_context_unref (loop->context);
  g_free (loop);
}

void
bus_mainloop_attach (DBusConnection *connection,
                     GMainContext *context)
{
  BusLoop *loop;

  g_return_if_fail (connection != NULL);

  if (!dbus_connection_allocate_data_slot (&loop_slot))
    g_error ("Out of memory");

  loop = g_new0 (BusLoop, 1);
  loop->connection = connection;
  loop->context = context != NULL ? g_main_context_ref (context)
                                  : g_main_context_ref (g_main_context_default ());

  if (!dbus_connection_set_data (connection, loop_slot, loop, bus_loop_free) ||
      !dbus_connection_set_watch_functions (connection, add_watch, remove_watch,
                                            toggle_watch, loop, NULL) ||
      !dbus_connection_set_timeout_functions (connection, add_timeout,
                                              remove_timeout, toggle_timeout,
                                              loop, NULL))
    g_error ("Out of memory");

  dbus_connection_set_wakeup_main_function (connection, wakeup_main, loop, NULL);
  dbus_connection_set_dispatch_status_function (connection,
                                                dispatch_status_changed,
                                                loop, NULL);

  /* Messages may have arrived while the connection was being set up. */
  if (dbus_connection_get_dispatch_status (connection) == DBUS_DISPATCH_DATA_REMAINS)
    schedule_dispatch (loop);
}
