/* bus-variant.h: converting between libdbus messages and GVariant
 *
 * The daemon and the client speak libdbus on the wire but build and read
 * values as GVariant, which has type-checked builders and autoptrs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <dbus/dbus.h>
#include <glib.h>

G_BEGIN_DECLS

/* Reads the whole body of @message as a tuple ("()" for an empty body).
 * Unix fds are not supported and fail with G_DBUS_ERROR_INVALID_ARGS.
 * Returns: (transfer full): a floating-free tuple, or NULL. */
GVariant *bus_message_get_body (DBusMessage *message, GError **error);

/* Appends the members of the tuple @body to @message.  A floating @body
 * is sunk and released; otherwise the caller keeps its reference.  NULL
 * appends nothing. */
gboolean bus_message_append_body (DBusMessage *message, GVariant *body);

/* Reads the single value at @iter.
 * Returns: (transfer floating): the value, or NULL with @error set. */
GVariant *bus_variant_from_iter (DBusMessageIter *iter, GError **error);

/* Appends @value (not floating-sunk) at @iter. */
gboolean bus_variant_append (DBusMessageIter *iter, GVariant *value);

G_END_DECLS
