/* exporter.h: an account's settings as text for desktop mail programs
 *
 * Each format is a file, or a block to add to one, that the program reads
 * as it is: Thunderbird's ISPDB clientConfig, and configuration for msmtp,
 * mbsync (isync), NeoMutt and aerc.  None holds a password: the programs
 * ask the Secret Service for it with `secret-tool lookup`, using the
 * account's SecretAttributes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "accounts/account-data.h"
#include "providers/provider.h"

G_BEGIN_DECLS

/* The text formats Account.Export takes, in display order: "thunderbird",
 * "msmtp", "mbsync", "neomutt", "aerc".
 * Returns: (transfer none) (array zero-terminated=1) */
const char * const *ms_export_text_formats (void);

gboolean ms_export_is_text_format (const char *format);

/* The command that prints the password of @account from the Secret
 * Service, for a POSIX shell:
 *   secret-tool lookup xdg:schema org.mailsetup.MailSetup1.Password
 *     address ADDRESS account-id ID
 * with the values shell-quoted where they need it.
 * Returns: (transfer full) */
char *ms_export_password_command (const MsAccountData *account);

/* Renders @account in @format.  @provider, the account's provider, may be
 * NULL (its file may be gone); it only adds names and a documentation
 * link.  Errors: G_DBUS_ERROR_INVALID_ARGS for a format that is not one of
 * ms_export_text_formats() (the message lists those);
 * G_IO_ERROR_INVALID_DATA for an account that lacks an address, id or
 * endpoint, or holds control characters, which no format can carry
 * safely.
 * Returns: (transfer full): the text, or NULL */
char *ms_export_render (const char *format,
                        const MsAccountData *account,
                        MsProvider *provider,
                        GError **error);

G_END_DECLS
