/* provider.c: what mailsetup knows about one mail provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "provider.h"

#include <string.h>

const char *
ms_security_to_string (MsSecurity security)
{
  switch (security)
    {
    case MS_SECURITY_TLS:
      return "tls";
    case MS_SECURITY_STARTTLS:
      return "starttls";
    }

  g_return_val_if_reached (NULL);
}

gboolean
ms_security_from_string (const char *string,
                         MsSecurity *out_security)
{
  g_return_val_if_fail (string != NULL, FALSE);
  g_return_val_if_fail (out_security != NULL, FALSE);

  if (strcmp (string, "tls") == 0)
    *out_security = MS_SECURITY_TLS;
  else if (strcmp (string, "starttls") == 0)
    *out_security = MS_SECURITY_STARTTLS;
  else
    return FALSE;

  return TRUE;
}

MsEndpoint *
ms_endpoint_new (const char *hostname,
                 guint16 port,
                 MsSecurity security,
                 const char *username_template)
{
  MsEndpoint *endpoint;

  g_return_val_if_fail (hostname != NULL, NULL);
  g_return_val_if_fail (username_template != NULL, NULL);

  endpoint = g_new0 (MsEndpoint, 1);
  endpoint->hostname = g_strdup (hostname);
  endpoint->port = port;
  endpoint->security = security;
  endpoint->username_template = g_strdup (username_template);

  return endpoint;
}

void
ms_endpoint_free (MsEndpoint *endpoint)
{
  if (endpoint == NULL)
    return;

  g_free (endpoint->hostname);
  g_free (endpoint->username_template);
  g_free (endpoint);
}

MsProvider *
ms_provider_new (void)
{
  MsProvider *provider = g_new0 (MsProvider, 1);

  g_atomic_ref_count_init (&provider->ref_count);
  provider->domains = g_ptr_array_new_with_free_func (g_free);
  provider->imap =
    g_ptr_array_new_with_free_func ((GDestroyNotify) ms_endpoint_free);
  provider->smtp =
    g_ptr_array_new_with_free_func ((GDestroyNotify) ms_endpoint_free);
  provider->imap_username_candidates =
    g_ptr_array_new_with_free_func (g_free);
  provider->mx_domains = g_ptr_array_new_with_free_func (g_free);

  return provider;
}

MsProvider *
ms_provider_ref (MsProvider *provider)
{
  g_return_val_if_fail (provider != NULL, NULL);

  g_atomic_ref_count_inc (&provider->ref_count);
  return provider;
}

void
ms_provider_unref (MsProvider *provider)
{
  g_return_if_fail (provider != NULL);

  if (!g_atomic_ref_count_dec (&provider->ref_count))
    return;

  g_free (provider->id);
  g_free (provider->display_name);
  g_free (provider->short_name);
  g_ptr_array_unref (provider->domains);
  g_ptr_array_unref (provider->imap);
  g_ptr_array_unref (provider->smtp);
  g_ptr_array_unref (provider->imap_username_candidates);
  g_free (provider->password_kind);
  g_free (provider->password_hint);
  g_free (provider->password_url);
  g_free (provider->documentation_url);
  g_free (provider->status_url);
  g_ptr_array_unref (provider->mx_domains);
  g_free (provider->source_file);
  g_free (provider);
}

char *
ms_provider_expand (const char *template,
                    const char *address)
{
  GString *out;
  const char *at;
  gsize local_length;
  const char *domain;

  g_return_val_if_fail (template != NULL, NULL);
  g_return_val_if_fail (address != NULL, NULL);

  /* A normalised address has exactly one '@'; without one, treat it all
   * as the local part rather than crash on a caller's mistake. */
  at = strrchr (address, '@');
  local_length = at != NULL ? (gsize) (at - address) : strlen (address);
  domain = at != NULL ? at + 1 : "";

  out = g_string_sized_new (strlen (template) + strlen (address));

  for (const char *p = template; *p != '\0';)
    {
      if (g_str_has_prefix (p, "%EMAILADDRESS%"))
        {
          g_string_append (out, address);
          p += strlen ("%EMAILADDRESS%");
        }
      else if (g_str_has_prefix (p, "%EMAILLOCALPART%"))
        {
          g_string_append_len (out, address, local_length);
          p += strlen ("%EMAILLOCALPART%");
        }
      else if (g_str_has_prefix (p, "%EMAILDOMAIN%"))
        {
          g_string_append (out, domain);
          p += strlen ("%EMAILDOMAIN%");
        }
      else
        {
          /* Other ISPDB placeholders (%REALNAME%, …) never name a login,
           * so they are kept as written. */
          g_string_append_c (out, *p);
          p++;
        }
    }

  return g_string_free (out, FALSE);
}

gboolean
ms_provider_handles_mx (MsProvider *provider,
                        const char *mx_host)
{
  g_autofree char *host = g_ascii_strdown (mx_host, -1);
  gsize len = strlen (host);

  if (len > 0 && host[len - 1] == '.')
    host[--len] = '\0';

  for (guint i = 0; i < provider->mx_domains->len; i++)
    {
      const char *domain = provider->mx_domains->pdata[i];
      gsize domain_len = strlen (domain);

      if (g_str_equal (host, domain) ||
          (len > domain_len && g_str_has_suffix (host, domain) &&
           host[len - domain_len - 1] == '.'))
        return TRUE;
    }

  return FALSE;
}
