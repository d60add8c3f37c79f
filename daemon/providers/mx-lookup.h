/* mx-lookup.h: recognising a provider behind a custom mail domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "provider-registry.h"

G_BEGIN_DECLS

/* How long an MX lookup may take: a small share of the 20 s a validation
 * has, so that the servers still get most of it. */
#define MS_MX_LOOKUP_TIMEOUT_MS 5000

/* Looks up @domain's MX records with the default GResolver and returns the
 * provider that one of them belongs to (iCloud+ custom domains point at
 * *.mail.icloud.com).  No MX record, or none a provider claims, is not an
 * error: the result is NULL, as it is at once when the environment has
 * MAILSETUP_OFFLINE set (no DNS query at all).  Gives up after
 * MS_MX_LOOKUP_TIMEOUT_MS.  Errors: G_RESOLVER_ERROR other than
 * NOT_FOUND, MS_ERROR_TIMEOUT (see ms_mx_lookup_timeout_error()),
 * G_IO_ERROR_CANCELLED. */
void ms_mx_lookup_async (MsProviderRegistry *registry,
                         const char *domain,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data);

/* The same, giving up after @timeout_ms: the query is cancelled and the
 * result is MS_ERROR_TIMEOUT at once, whether or not the resolver has
 * stopped yet. */
void ms_mx_lookup_with_timeout_async (MsProviderRegistry *registry,
                                      const char *domain,
                                      guint timeout_ms,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);

/* Returns: (transfer full) (nullable) */
MsProvider *ms_mx_lookup_finish (GAsyncResult *result,
                                 GError **error);

/* MS_ERROR_TIMEOUT for an MX lookup of @domain that took longer than
 * @timeout_ms, with a message for people.
 * Returns: (transfer full) */
GError *ms_mx_lookup_timeout_error (const char *domain,
                                    guint timeout_ms);

G_END_DECLS
