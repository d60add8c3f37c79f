/* imap-probe.h: one IMAP login attempt on a fresh connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "probe.h"

G_BEGIN_DECLS

/* Connects to @req's endpoint, sets up TLS (implicit, or STARTTLS which
 * must be advertised), logs in with LOGIN (AUTHENTICATE PLAIN only when the
 * server advertises LOGINDISABLED), then logs out.  Credentials are sent
 * only over verified TLS and never logged.  Blocks the calling worker
 * thread until @req->deadline at most; cancelling @cancellable ends it at
 * once.
 *
 * @result must be zeroed; it is filled in on success and, as far as the
 * probe got, on failure (elapsed_us always; tls once TLS was up).
 * Errors (MS_ERROR): AUTHENTICATION_FAILED (any NO to the login),
 * SERVICE_UNAVAILABLE (BYE greeting or hang-up after BYE, NO [UNAVAILABLE]),
 * STARTTLS_UNAVAILABLE, CERTIFICATE_INVALID, TLS_FAILED, PROTOCOL_ERROR,
 * CONNECTION_FAILED, TIMEOUT, CANCELLED, and INVALID_ADDRESS /
 * INVALID_PASSWORD for credentials holding line breaks. */
gboolean ms_imap_probe_run (const MsProbeRequest *req,
                            MsProbeResult *result,
                            GCancellable *cancellable,
                            GError **error);

G_END_DECLS
