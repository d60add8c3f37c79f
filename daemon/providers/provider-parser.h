/* provider-parser.h: reading ISPDB clientConfig v1.1 files with GMarkup
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "provider.h"

G_BEGIN_DECLS

/* The XML namespace of mailsetup's own elements inside a clientConfig file;
 * other readers (Thunderbird, Evolution) ignore them. */
#define MS_PROVIDER_NAMESPACE "https://mailsetup.org/ns/provider/1"

/* Parses one clientConfig document.  @source_name is used in messages and
 * stored as the provider's source_file.  On malformed XML or missing
 * required elements, fails with G_MARKUP_ERROR and a message that names
 * @source_name and the line.  Endpoints without TLS (socketType "plain")
 * are dropped: mailsetup never sends credentials in the clear; so are
 * endpoints whose <authentication> methods all need something other than
 * a password (OAuth2, …).  Elements of other namespaces, POP3 and
 * Exchange servers, and unknown elements are skipped.
 * Returns: (transfer full): the provider, or NULL. */
MsProvider *ms_provider_parse (const char *text,
                               gssize length,
                               const char *source_name,
                               GError **error);

G_END_DECLS
