/* address-resolver.h: from the address a person typed to the provider
 * that serves it, custom domains included
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "provider-registry.h"

G_BEGIN_DECLS

typedef struct {
  char *address;        /* normalised */
  char *login;          /* normalised address to sign in with; NULL: @address */
  MsProvider *provider;
  gboolean custom_domain; /* found through the domain's MX records */
} MsResolvedAddress;

void ms_resolved_address_free (MsResolvedAddress *resolved);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsResolvedAddress, ms_resolved_address_free)

/* Normalises @raw_address and finds its provider: by domain in the
 * provider files, else (a custom domain) by its MX records, which may take
 * @timeout_ms at most.  @raw_login, when given, is the address to sign in
 * with; it must belong to the same provider.  With @login_required, a
 * custom domain without a login fails.
 * Errors: MS_ERROR_INVALID_ADDRESS (the address or the login),
 * MS_ERROR_UNKNOWN_PROVIDER naming the domain, MS_ERROR_TIMEOUT (DNS did
 * not answer in time), G_IO_ERROR_CANCELLED. */
void ms_address_resolve_async (MsProviderRegistry *registry,
                               const char *raw_address,
                               const char *raw_login,
                               gboolean login_required,
                               guint timeout_ms,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);

/* Returns: (transfer full) */
MsResolvedAddress *ms_address_resolve_finish (GAsyncResult *result,
                                              GError **error);

G_END_DECLS
