/* settings.h: the settings dictionary that clients receive
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "providers/provider.h"

G_BEGIN_DECLS

/* The a{sv} of DESIGN §3 ("provider", "imap-host", "smtp-port", …) for the
 * normalised @address at @provider, as the provider file describes it.
 * Returns: (transfer floating) */
GVariant *ms_settings_from_provider (MsProvider *provider,
                                     const char *address);

G_END_DECLS
