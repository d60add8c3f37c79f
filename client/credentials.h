/* credentials.h: the password a command hands to the daemon
 *
 * Gets it from the person (the terminal, without echo) or from a script
 * (a line of standard input, with --password-stdin), and puts it into a
 * method call straight from its buffer, wiping that on the way.  Also the
 * address to sign in with when it is not the account's own (--login: an
 * iCloud+ custom domain signs in with the person's iCloud address).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "ctl-client.h"

G_BEGIN_DECLS

/* Set by --password-stdin: where ctl_credentials_get() reads from. */
extern gboolean ctl_credentials_from_stdin;

/* The --password-stdin entry, for the option table of each command that
 * sends a password (its file includes <glib/gi18n.h>). */
#define CTL_PASSWORD_STDIN_OPTION                                         \
  { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &ctl_credentials_from_stdin, \
    N_("Read the password from the first line of standard input"), NULL }

/* Set by --login: the address to sign in with, as typed (see
 * ctl_argument_to_utf8()), or NULL. */
extern char *ctl_credentials_login;

/* The --login entry, for the option table of each command that signs in
 * as a new address: it becomes the "login" option of the call (its file
 * includes <glib/gi18n.h>). */
#define CTL_LOGIN_OPTION                                                  \
  { "login", 0, 0, G_OPTION_ARG_FILENAME, &ctl_credentials_login,         \
    N_("Sign in as LOGIN (your iCloud address, for a custom domain)"),    \
    /* Translators: as in "--login=LOGIN" in other messages. */          \
    N_("LOGIN") }

/* Reads --login into @login (transfer full), as UTF-8, or NULL when it
 * was not given.  Returns FALSE with @error set (a message for
 * ctl_usage_error()) when it is empty or not text in the locale's
 * encoding. */
gboolean ctl_credentials_get_login (char **login, GError **error);

/* Why the password cannot be had (translated, transfer none): standard
 * input is not a terminal, and there is no --password-stdin.  NULL when
 * it can. */
const char *ctl_credentials_problem (void);

/* Reads the password for @address: with --password-stdin the first line of
 * standard input, otherwise from the terminal, with a prompt naming the
 * kind of password the provider wants, and @login (the address signed in
 * with, or NULL for @address itself).  That asks LookupProvider first, so
 * that a mistyped address or an unknown provider is said before anyone
 * types a password in vain; so is, with @check_login, a missing login:
 * an address that signs in only with one (LookupProvider's
 * "login-required") and a NULL @login is InvalidAddress, saying to give
 * --login.
 * Returns: (transfer full): the password, to free with
 * ctl_password_free(), or NULL with @error set. */
char *ctl_credentials_get (CtlClient *client,
                           const char *address,
                           const char *login,
                           gboolean check_login,
                           DBusError *error);

/* Calls @method of @interface on @path with the arguments @address
 * (left out when NULL), @password and @options (an a{sv}, left out when
 * NULL), and waits up to @timeout_ms for a reply of @reply_type.
 * @password is consumed: wiped and freed as soon as the message holds it.
 * Returns: as ctl_client_send(). */
GVariant *ctl_credentials_call (CtlClient *client,
                                const char *path,
                                const char *interface,
                                const char *method,
                                const char *address,
                                char *password,
                                GVariant *options,
                                int timeout_ms,
                                const GVariantType *reply_type,
                                DBusError *error);

G_END_DECLS
