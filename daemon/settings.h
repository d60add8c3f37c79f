/* settings.h: the settings dictionary that clients receive
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "providers/provider.h"

G_BEGIN_DECLS

/* The a{sv} of DESIGN §3 ("provider", "imap-host", "smtp-port", …) for the
 * normalised @address at @provider; user names are made from @login, or
 * from @address when @login is NULL.  @imap_username and @smtp say what a
 * login found to work; NULL means what the provider file prefers (the
 * first user name candidate, the first SMTP endpoint).  The other SMTP
 * endpoints are listed under "smtp-alternatives".
 * Returns: (transfer floating) */
GVariant *ms_settings_build (MsProvider *provider,
                             const char *address,
                             const char *login,
                             const char *imap_username,
                             const MsEndpoint *smtp);

G_END_DECLS
