/* password.h: the rules for the passwords people type, and wiping them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Longer than any real app-specific password; keeps hostile input small. */
#define MS_PASSWORD_MAX_LENGTH 1024

/* Fails with MS_ERROR_INVALID_PASSWORD, before anything touches the
 * network, for an empty password, one with control characters (CR, LF,
 * NUL, …), one that is not UTF-8, or one over MS_PASSWORD_MAX_LENGTH
 * bytes.  The message never repeats the password. */
gboolean ms_password_check (const char *password,
                            GError **error);

/* Whether @password has the form of Apple's app-specific passwords,
 * "xxxx-xxxx-xxxx-xxxx" in lower-case letters. */
gboolean ms_password_looks_app_specific (const char *password);

/* A copy of @password for as long as a request needs it.
 * Returns: (transfer full): free with ms_password_free() */
char *ms_password_dup (const char *password);

/* Overwrites @password with zeros, then frees it.  NULL is fine. */
void ms_password_free (char *password);

G_END_DECLS
