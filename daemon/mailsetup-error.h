/* mailsetup-error.h: the errors mailsetup reports, and their D-Bus names
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MS_ERROR (ms_error_quark ())

/* Each code maps to org.mailsetup.MailSetup1.Error.<Name>; the names are
 * the contract with client programs and never change.  Keep the order in
 * step with the table in mailsetup-error.c. */
typedef enum {
  MS_ERROR_INVALID_ADDRESS,
  MS_ERROR_INVALID_PASSWORD,
  MS_ERROR_UNKNOWN_PROVIDER,
  MS_ERROR_AUTHENTICATION_FAILED,
  MS_ERROR_CERTIFICATE_INVALID,
  MS_ERROR_TLS_FAILED,
  MS_ERROR_STARTTLS_UNAVAILABLE,
  MS_ERROR_CONNECTION_FAILED,
  MS_ERROR_TIMEOUT,
  MS_ERROR_SERVICE_UNAVAILABLE,
  MS_ERROR_PROTOCOL_ERROR,
  MS_ERROR_ACCOUNT_EXISTS,
  MS_ERROR_NO_SUCH_ACCOUNT,
  MS_ERROR_SECRET_STORE_UNAVAILABLE,
  MS_ERROR_CANCELLED,
  MS_ERROR_ACCESS_DENIED,
  MS_ERROR_ACCOUNT_FILE_UNWRITABLE,
} MsError;

#define MS_ERROR_N_CODES (MS_ERROR_ACCOUNT_FILE_UNWRITABLE + 1)

GQuark ms_error_quark (void);

/* The D-Bus error name of @code, e.g. "org.mailsetup.MailSetup1.Error.Timeout"
 * (transfer none). */
const char *ms_error_dbus_name (MsError code);

/* The code whose D-Bus name is @name, or -1 if @name is not one of ours. */
int ms_error_from_dbus_name (const char *name);

G_END_DECLS
