/* validator.h: checking an address and password against a provider's
 * IMAP and SMTP servers, for real
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "attempt.h"
#include "providers/provider.h"

G_BEGIN_DECLS

/* Under the 25 s that D-Bus callers wait by default. */
#define MS_VALIDATION_DEFAULT_TIMEOUT_MS 20000
/* How long the preferred SMTP endpoint may stay silent before the next
 * one is tried alongside it. */
#define MS_VALIDATION_HEAD_START_MS 300
/* Wrong user names per validation, at most (a name refused on several
 * endpoints counts once): iCloud locks out accounts that fail too often. */
#define MS_VALIDATION_MAX_FAILED_LOGINS 3

typedef struct {
  MsProvider *provider;
  char *address;
  char *login;                /* the address user names came from, or NULL */
  gint64 elapsed_us;
  /* Every attempt in the order it started; the successful ones are the
   * ones without error. */
  GPtrArray *imap_attempts;   /* of MsAttempt */
  GPtrArray *smtp_attempts;
  MsAttempt *imap;            /* (transfer none) the login that worked */
  MsAttempt *smtp;
} MsValidation;

void ms_validation_free (MsValidation *validation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsValidation, ms_validation_free)

/* Called in the caller's main context as the probes move on. */
typedef void (*MsValidationProgressFunc) (MsProtocol protocol,
                                          const char *stage,
                                          gpointer user_data);

/* Checks @password for @address on every server @provider names: IMAP
 * and SMTP at the same time, each IMAP user name candidate on a fresh
 * connection, the fallback SMTP endpoints after a head start.  Stores
 * nothing.  User names are made from @login when it is not NULL (a custom
 * domain's address signs in with the person's address at the provider).  The password is copied and the copies wiped after use.
 * @progress (may be NULL) is not called after @callback. */
void ms_validate_async (MsProvider *provider,
                        const char *address,
                        const char *login,
                        const char *password,
                        guint timeout_ms,
                        GCancellable *cancellable,
                        MsValidationProgressFunc progress,
                        gpointer progress_data,
                        GAsyncReadyCallback callback,
                        gpointer user_data);

/* Errors (MS_ERROR): the most telling failure of all attempts, with what
 * happened on the other endpoints appended to its message; CANCELLED.
 * Returns: (transfer full): the validation, or NULL */
MsValidation *ms_validate_finish (GAsyncResult *result,
                                  GError **error);

/* After ms_validate_finish() failed: every attempt that was made, with
 * imap and smtp set for the protocol that did sign in, if one did.
 * Returns: (transfer full) (nullable) */
MsValidation *ms_validate_steal_record (GAsyncResult *result);

G_END_DECLS
