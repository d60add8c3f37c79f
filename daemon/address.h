/* address.h: checking and normalising the mail addresses people type
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest address SMTP can carry (RFC 5321 path limit less the <>). */
#define MS_ADDRESS_MAX_LENGTH 254

/* Trims surrounding white space and lower-cases the domain.  Rejects, with
 * MS_ERROR_INVALID_ADDRESS and a message naming the problem, anything that
 * is not valid UTF-8, has not exactly one '@', has an empty local part or
 * domain, holds white space or control characters, a malformed domain, or is
 * longer than MS_ADDRESS_MAX_LENGTH bytes.
 * Returns: (transfer full): the normalised address, or NULL. */
char *ms_address_normalize (const char *address, GError **error);

/* For a normalised address: the part after the '@' (transfer none). */
const char *ms_address_get_domain (const char *address);

/* For a normalised address: the part before the '@' (transfer full). */
char *ms_address_dup_local_part (const char *address);

G_END_DECLS
