/* mx-lookup.h: recognising a provider behind a custom mail domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "provider-registry.h"

G_BEGIN_DECLS

/* Looks up @domain's MX records with the default GResolver and returns the
 * provider that one of them belongs to (iCloud+ custom domains point at
 * *.mail.icloud.com).  No MX record, or none a provider claims, is not an
 * error: the result is NULL, as it is at once when the environment has
 * MAILSETUP_OFFLINE set (no DNS query at all).  Errors: G_RESOLVER_ERROR other than
 * NOT_FOUND, G_IO_ERROR_CANCELLED. */
void ms_mx_lookup_async (MsProviderRegistry *registry,
                         const char *domain,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data);

/* Returns: (transfer full) (nullable) */
MsProvider *ms_mx_lookup_finish (GAsyncResult *result,
                                 GError **error);

G_END_DECLS
