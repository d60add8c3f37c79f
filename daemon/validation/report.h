/* report.h: what a validation found, as a dictionary for clients
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "validator.h"

G_BEGIN_DECLS

/* The settings of DESIGN §3 as they worked (the user name and SMTP
 * endpoint that signed in, the message size limit), plus "operation",
 * "elapsed-ms" and per protocol ("imap", "smtp") a dictionary with the
 * endpoint, user name, mechanism, TLS version and cipher, certificate
 * subject, issuer and SHA-256 fingerprint, time taken, why it was tried
 * ("started-because", and "reason" for a fallback endpoint) and "attempts":
 * every attempt with its outcome ("ok" or an error name) and message.
 * Returns: (transfer floating) */
GVariant *ms_report_from_validation (MsValidation *validation,
                                     const char *operation_id);

G_END_DECLS
