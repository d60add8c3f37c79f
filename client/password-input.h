/* password-input.h: reading a password without showing or keeping it
 *
 * From the terminal with echo off, or one line from a file descriptor (for
 * scripts).  The password is read with read(2) straight into one buffer,
 * never through stdio, and every copy is wiped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <dbus/dbus.h>
#include <glib.h>

G_BEGIN_DECLS

/* Writes @prompt on stderr and reads a line from the controlling terminal
 * (/dev/tty) with echo off.  The terminal is restored on every path: on
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT it is restored before the signal takes
 * its usual course; after a stop (^Z) and fg, the prompt is shown again.
 * Returns: (transfer full): the password as UTF-8, to free with
 * ctl_password_free(), or NULL with @error set (InvalidPassword when it
 * cannot be sent at all, e.g. too long). */
char *ctl_password_read_terminal (const char *prompt, DBusError *error);

/* Reads one line from @fd, without the "\n" or "\r\n" that ends it (and
 * nothing else stripped).  End of file ends the line too.
 * Returns: as ctl_password_read_terminal(). */
char *ctl_password_read_line (int fd, DBusError *error);

/* Overwrites @password with zeros and frees it.  NULL is fine. */
void ctl_password_free (char *password);

G_END_DECLS
