/* diagnose.h: the troubleshooting checklist of Manager.Diagnose
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "providers/provider.h"

G_BEGIN_DECLS

/* Walks the steps of the provider's troubleshooting help for @address:
 * the provider, DNS for each server, a TCP connection and a TLS session
 * with certificate check on every endpoint, a login on IMAP and SMTP when
 * @password is given, and the server's message size limit.  Steps run at
 * the same time and all end within @timeout_ms.
 *
 * @login: (nullable): the address user names are made from, when not
 *   @address (custom domains).
 * @provider: (nullable): NULL when no provider is known for the domain;
 *   @unknown_reason then says why, and every other step is skipped. */
void ms_diagnose_async (MsProvider *provider,
                        const GError *unknown_reason,
                        const char *address,
                        const char *login,
                        const char *password,
                        guint timeout_ms,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data);

/* Returns: (transfer full): an aa{sv}, one dictionary per step with "id",
 * "title", "status" ("pass", "fail", "warn", "skipped"), "detail" and
 * "advice". */
GVariant *ms_diagnose_finish (GAsyncResult *result,
                              GError **error);

G_END_DECLS
