/* settings.c: the settings dictionary that clients receive
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "settings.h"

static void
add_string (GVariantBuilder *builder,
            const char *key,
            const char *value)
{
  if (value != NULL)
    g_variant_builder_add (builder, "{sv}", key, g_variant_new_string (value));
}

/* host, port, security and username of one endpoint, under @prefix
 * ("imap-", "smtp-", or "" inside smtp-alternatives). */
static void
add_endpoint (GVariantBuilder *builder,
              const char *prefix,
              const MsEndpoint *endpoint,
              const char *username)
{
  g_autofree char *host = g_strconcat (prefix, "host", NULL);
  g_autofree char *port = g_strconcat (prefix, "port", NULL);
  g_autofree char *security = g_strconcat (prefix, "security", NULL);
  g_autofree char *user = g_strconcat (prefix, "username", NULL);

  add_string (builder, host, endpoint->hostname);
  g_variant_builder_add (builder, "{sv}", port, g_variant_new_uint16 (endpoint->port));
  add_string (builder, security, ms_security_to_string (endpoint->security));
  add_string (builder, user, username);
}

static gboolean
same_endpoint (const MsEndpoint *a,
               const MsEndpoint *b)
{
  return a->port == b->port && a->security == b->security &&
         g_ascii_strcasecmp (a->hostname, b->hostname) == 0;
}

GVariant *
ms_settings_build (MsProvider *provider,
                   const char *address,
                   const char *login,
                   const char *imap_username,
                   const MsEndpoint *smtp)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_auto(GVariantBuilder) candidates = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_STRING_ARRAY);
  g_auto(GVariantBuilder) alternatives = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));
  const MsEndpoint *imap = provider->imap->pdata[0];
  g_autofree char *first_candidate = NULL;
  g_autofree char *smtp_username = NULL;

  if (smtp == NULL)
    smtp = provider->smtp->pdata[0];
  if (login == NULL)
    login = address;

  add_string (&builder, "provider", provider->id);
  add_string (&builder, "display-name", provider->display_name);
  add_string (&builder, "address", address);

  for (guint i = 0; i < provider->imap_username_candidates->len; i++)
    {
      g_autofree char *candidate =
        ms_provider_expand (provider->imap_username_candidates->pdata[i], login);

      g_variant_builder_add (&candidates, "s", candidate);
      if (first_candidate == NULL)
        first_candidate = g_steal_pointer (&candidate);
    }

  add_endpoint (&builder, "imap-", imap, imap_username ? imap_username : first_candidate);
  g_variant_builder_add (&builder, "{sv}", "imap-username-candidates",
                         g_variant_builder_end (&candidates));

  smtp_username = ms_provider_expand (smtp->username_template, login);
  add_endpoint (&builder, "smtp-", smtp, smtp_username);

  for (guint i = 0; i < provider->smtp->len; i++)
    {
      const MsEndpoint *alternative = provider->smtp->pdata[i];
      g_autofree char *username = NULL;

      if (same_endpoint (alternative, smtp))
        continue;

      username = ms_provider_expand (alternative->username_template, login);
      g_variant_builder_open (&alternatives, G_VARIANT_TYPE_VARDICT);
      add_endpoint (&alternatives, "", alternative, username);
      g_variant_builder_close (&alternatives);
    }
  g_variant_builder_add (&builder, "{sv}", "smtp-alternatives",
                         g_variant_builder_end (&alternatives));

  add_string (&builder, "password-kind", provider->password_kind);
  add_string (&builder, "password-hint", provider->password_hint);
  add_string (&builder, "password-url", provider->password_url);
  add_string (&builder, "documentation-url", provider->documentation_url);

  return g_variant_builder_end (&builder);
}
