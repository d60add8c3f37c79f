/* provider.h: what mailsetup knows about one mail provider
 *
 * A provider comes from a Mozilla ISPDB clientConfig file (see
 * provider-parser.h); this is the parsed, read-only form.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MS_SECURITY_TLS,      /* implicit TLS from the first byte (ISPDB "SSL") */
  MS_SECURITY_STARTTLS, /* plain greeting, then STARTTLS (ISPDB "STARTTLS") */
} MsSecurity;

/* "tls" or "starttls", as on the bus (transfer none). */
const char *ms_security_to_string (MsSecurity security);

/* The reverse of ms_security_to_string(), for values read back from the
 * account file.  Returns FALSE for anything else. */
gboolean ms_security_from_string (const char *string,
                                  MsSecurity *out_security);

typedef struct {
  char *hostname;
  guint16 port;
  MsSecurity security;
  /* ISPDB template, e.g. "%EMAILADDRESS%" or "%EMAILLOCALPART%" */
  char *username_template;
} MsEndpoint;

/* Returns: (transfer full) */
MsEndpoint *ms_endpoint_new (const char *hostname,
                             guint16 port,
                             MsSecurity security,
                             const char *username_template);
void ms_endpoint_free (MsEndpoint *endpoint);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsEndpoint, ms_endpoint_free)

typedef struct {
  gatomicrefcount ref_count;

  char *id;                /* emailProvider id, e.g. "icloud.com" */
  char *display_name;      /* "iCloud Mail" */
  char *short_name;        /* "iCloud" */
  GPtrArray *domains;      /* of char*, lower-case */

  GPtrArray *imap;         /* of MsEndpoint*, preferred first; never empty */
  GPtrArray *smtp;         /* of MsEndpoint*, preferred first, the rest are
                            * fallbacks; never empty */

  /* IMAP user name templates to try in order, each on a fresh connection.
   * Never empty: without mailsetup's own element it holds the first IMAP
   * endpoint's username template. */
  GPtrArray *imap_username_candidates;

  char *password_kind;     /* e.g. "app-specific", or NULL */
  char *password_hint;     /* a sentence for people, or NULL */
  char *password_url;      /* where to make such a password, or NULL */
  char *documentation_url; /* or NULL */
  char *status_url;        /* the provider's system status page, or NULL */
  /* Mail for a domain whose MX hosts lie under one of these (lower-case)
   * is handled by this provider: custom domains (iCloud+) log in with
   * the person's address at the provider. */
  GPtrArray *mx_domains;

  char *source_file;       /* the file it was read from, for messages */
} MsProvider;

/* An empty provider whose arrays exist and own their elements; the parser
 * fills it in, and tests may build one by hand.
 * Returns: (transfer full) */
MsProvider *ms_provider_new (void);

MsProvider *ms_provider_ref (MsProvider *provider);
void ms_provider_unref (MsProvider *provider);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsProvider, ms_provider_unref)

/* Whether @mx_host (a DNS name, maybe with a trailing dot) lies under one
 * of @provider's mx_domains. */
gboolean ms_provider_handles_mx (MsProvider *provider,
                                 const char *mx_host);

/* Expands the ISPDB placeholders %EMAILADDRESS%, %EMAILLOCALPART% and
 * %EMAILDOMAIN% in @template for the normalised @address.
 * Returns: (transfer full) */
char *ms_provider_expand (const char *template, const char *address);

G_END_DECLS
