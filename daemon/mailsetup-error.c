/* mailsetup-error.c: the errors mailsetup reports, and their D-Bus names
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mailsetup-error.h"

#include <gio/gio.h>
#include <string.h>

#define ERROR_PREFIX "org.mailsetup.MailSetup1.Error."

static const GDBusErrorEntry error_entries[] = {
  { MS_ERROR_INVALID_ADDRESS, ERROR_PREFIX "InvalidAddress" },
  { MS_ERROR_INVALID_PASSWORD, ERROR_PREFIX "InvalidPassword" },
  { MS_ERROR_UNKNOWN_PROVIDER, ERROR_PREFIX "UnknownProvider" },
  { MS_ERROR_AUTHENTICATION_FAILED, ERROR_PREFIX "AuthenticationFailed" },
  { MS_ERROR_CERTIFICATE_INVALID, ERROR_PREFIX "CertificateInvalid" },
  { MS_ERROR_TLS_FAILED, ERROR_PREFIX "TlsFailed" },
  { MS_ERROR_STARTTLS_UNAVAILABLE, ERROR_PREFIX "StartTlsUnavailable" },
  { MS_ERROR_CONNECTION_FAILED, ERROR_PREFIX "ConnectionFailed" },
  { MS_ERROR_TIMEOUT, ERROR_PREFIX "Timeout" },
  { MS_ERROR_SERVICE_UNAVAILABLE, ERROR_PREFIX "ServiceUnavailable" },
  { MS_ERROR_PROTOCOL_ERROR, ERROR_PREFIX "ProtocolError" },
  { MS_ERROR_ACCOUNT_EXISTS, ERROR_PREFIX "AccountExists" },
  { MS_ERROR_NO_SUCH_ACCOUNT, ERROR_PREFIX "NoSuchAccount" },
  { MS_ERROR_SECRET_STORE_UNAVAILABLE, ERROR_PREFIX "SecretStoreUnavailable" },
  { MS_ERROR_CANCELLED, ERROR_PREFIX "Cancelled" },
  { MS_ERROR_ACCESS_DENIED, ERROR_PREFIX "AccessDenied" },
  { MS_ERROR_ACCOUNT_FILE_UNWRITABLE, ERROR_PREFIX "AccountFileUnwritable" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (error_entries) == MS_ERROR_N_CODES);

/* Registering the domain with GIO lets the bus layer turn any of our
 * GErrors into its D-Bus name without knowing about mail. */
GQuark
ms_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("mailsetup-error-quark", &quark,
                                      error_entries,
                                      G_N_ELEMENTS (error_entries));
  return (GQuark) quark;
}

const char *
ms_error_dbus_name (MsError code)
{
  g_return_val_if_fail (code >= 0 && code < MS_ERROR_N_CODES, NULL);

  return error_entries[code].dbus_error_name;
}

int
ms_error_from_dbus_name (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (error_entries); i++)
    if (strcmp (error_entries[i].dbus_error_name, name) == 0)
      return error_entries[i].error_code;

  return -1;
}
