/* export-private.h: what the format writers share
 *
 * The writers get an account that ms_export_render() has checked: it has
 * an id, an address with one '@', both endpoints with a host name and a
 * user name, and no control characters anywhere, so no value can break a
 * line of the file it goes into.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "accounts/account-data.h"
#include "providers/provider.h"

G_BEGIN_DECLS

/* One writer per format.  Returns: (transfer full) */
char *ms_export_thunderbird (const MsAccountData *account, MsProvider *provider);
char *ms_export_msmtp (const MsAccountData *account, MsProvider *provider);
char *ms_export_mbsync (const MsAccountData *account, MsProvider *provider);
char *ms_export_neomutt (const MsAccountData *account, MsProvider *provider);
char *ms_export_aerc (const MsAccountData *account, MsProvider *provider);

/* @word as one word of a POSIX shell command line: unchanged when it
 * holds only characters no shell treats specially, otherwise quoted with
 * g_shell_quote().  Returns: (transfer full) */
char *ms_export_shell_word (const char *word);

/* "scheme://user@host:port" with the user name percent-encoded (RFC 3986
 * userinfo: "@" becomes "%40") and an IPv6 address in brackets.
 * Returns: (transfer full) */
char *ms_export_url (const char *scheme,
                     const char *user,
                     const char *host,
                     guint16 port);

/* An RFC 5322 mailbox: "Name <local@domain>", or just the address when
 * @name is NULL or empty.  The name is a quoted string unless it is plain
 * words; so is the local part unless it is a dot-atom.
 * Returns: (transfer full) */
char *ms_export_mailbox (const char *name,
                         const char *address);

/* The person's name for From lines, or NULL when the account has none
 * (transfer none). */
const char *ms_export_real_name (const MsAccountData *account);

/* The IMAP folder for sent mail.  Provider files do not name folders, but
 * iCloud's is known to be "Sent Messages"; elsewhere "Sent" is the common
 * name (transfer none). */
const char *ms_export_sent_folder (const MsAccountData *account,
                                   MsProvider *provider);

/* @name with every ASCII character that is not a letter, a digit or one
 * of "@.+-_'" replaced by "_": a name for accounts, channels and mail
 * folders that holds no separator of any format (":", ",", "/", blanks,
 * quotes).  An ordinary address stays as it is.
 * Returns: (transfer full) */
char *ms_export_safe_name (const char *name);

G_END_DECLS
