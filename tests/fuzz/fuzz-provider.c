/* fuzz-provider.c: clientConfig XML through ms_provider_parse()
 *
 * A provider file is read from folders the person or an admin controls;
 * a bad one must be refused with an error, never crash the daemon.  A
 * provider the parser accepts must keep the promises provider.h makes
 * and must turn into settings (LookupProvider's answer) without a
 * GVariant complaint.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"

#include <string.h>

#include "address.h"
#include "provider-parser.h"
#include "settings.h"

static void
check_endpoints (GPtrArray *endpoints)
{
  g_assert_nonnull (endpoints);
  g_assert_cmpuint (endpoints->len, >, 0);

  for (guint i = 0; i < endpoints->len; i++)
    {
      const MsEndpoint *endpoint = endpoints->pdata[i];

      g_assert_nonnull (endpoint->hostname);
      g_assert_nonnull (endpoint->username_template);
      g_assert_true (endpoint->security == MS_SECURITY_TLS ||
                     endpoint->security == MS_SECURITY_STARTTLS);
      g_assert_cmpint (endpoint->port, >, 0);
    }
}

static void
check_settings (MsProvider *provider,
                const char *address)
{
  g_autoptr(GVariant) settings = NULL;
  g_autofree char *normalized = ms_address_normalize (address, NULL);

  if (normalized == NULL)
    return;

  settings = g_variant_ref_sink (ms_settings_build (provider, normalized, NULL,
                                                    NULL, NULL));
  g_assert_true (g_variant_is_of_type (settings, G_VARIANT_TYPE_VARDICT));

  for (guint i = 0; i < provider->smtp->len; i++)
    {
      g_autoptr(GVariant) with_fallback =
        g_variant_ref_sink (ms_settings_build (provider, normalized, normalized,
                                               "someone", provider->smtp->pdata[i]));

      g_assert_true (g_variant_is_of_type (with_fallback, G_VARIANT_TYPE_VARDICT));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t size)
{
  g_autoptr(MsProvider) provider = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_setup ();

  /* Empty input would make GMarkup read up to a NUL. */
  if (size == 0)
    return 0;

  provider = ms_provider_parse ((const char *) data, size, "fuzz.xml", &error);
  if (provider == NULL)
    {
      /* Not checked: that the message is UTF-8.  GMarkup quotes the
       * invalid bytes it refuses, and the message only goes to the log. */
      g_assert_nonnull (error);
      return 0;
    }
  g_assert_null (error);

  g_assert_nonnull (provider->id);
  g_assert_cmpuint (provider->domains->len, >, 0);
  check_endpoints (provider->imap);
  check_endpoints (provider->smtp);
  g_assert_cmpuint (provider->imap_username_candidates->len, >, 0);
  g_assert_cmpstr (provider->source_file, ==, "fuzz.xml");

  check_settings (provider, "johnsmith@icloud.com");
  for (guint i = 0; i < provider->domains->len; i++)
    {
      g_autofree char *address = g_strconcat ("someone@", (char *) provider->domains->pdata[i],
                                              NULL);

      check_settings (provider, address);
    }

  for (guint i = 0; i < provider->mx_domains->len; i++)
    {
      const char *mx = provider->mx_domains->pdata[i];
      g_autofree char *host = g_strconcat ("mx01.", mx, NULL);
      gboolean handled = ms_provider_handles_mx (provider, host);

      if (*mx != '\0' && !g_str_has_suffix (mx, "."))
        g_assert_true (handled);
    }
  ms_provider_handles_mx (provider, "mx01.mail.icloud.com");

  return 0;
}
