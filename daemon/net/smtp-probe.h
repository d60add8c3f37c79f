/* smtp-probe.h: one SMTP submission login attempt on a fresh connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "probe.h"

G_BEGIN_DECLS

/* Connects to @req's endpoint, sets up TLS (implicit, or STARTTLS which
 * must be advertised), sends EHLO over TLS, logs in with AUTH PLAIN (initial
 * response) or else AUTH LOGIN, and QUITs.  Credentials are sent only over
 * verified TLS and never logged.  Blocks the calling worker thread until
 * @req->deadline at most; cancelling @cancellable ends it at once.
 *
 * @result must be zeroed; it is filled in on success and, as far as the
 * probe got, on failure.  max_message_size comes from EHLO SIZE.
 * Errors (MS_ERROR): AUTHENTICATION_FAILED (535, 534, 530), SERVICE_UNAVAILABLE
 * (421 or 554 greeting, 421 or 454 later), STARTTLS_UNAVAILABLE,
 * TLS_FAILED (STARTTLS refused, e.g. 454), CERTIFICATE_INVALID,
 * PROTOCOL_ERROR (including no usable AUTH mechanism), CONNECTION_FAILED,
 * TIMEOUT, CANCELLED, and INVALID_ADDRESS / INVALID_PASSWORD for
 * credentials holding line breaks. */
gboolean ms_smtp_probe_run (const MsProbeRequest *req,
                            MsProbeResult *result,
                            GCancellable *cancellable,
                            GError **error);

G_END_DECLS
