/* export-thunderbird.c: an ISPDB clientConfig v1.1 document for the account
 *
 * The format Thunderbird's account setup reads from the isp/ folder of its
 * installation and from autoconfig servers
 * (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat),
 * and the one mailsetup's own provider files use: ms_provider_parse()
 * reads it back to the same endpoints.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "export-private.h"

#include <string.h>

#include "address.h"

/* A user name as an ISPDB template when one gives exactly that name for
 * this address: the file then also suits the other addresses of the
 * domain, as files in the isp/ folder and on autoconfig servers are
 * meant to.  Any other name (such as the primary iCloud address of a
 * custom domain) is written as it is. */
static char *
username_element (const char *username,
                  const char *address)
{
  g_autofree char *local_part = ms_address_dup_local_part (address);

  if (strcmp (username, address) == 0)
    return g_strdup ("%EMAILADDRESS%");
  if (strcmp (username, local_part) == 0)
    return g_strdup ("%EMAILLOCALPART%");

  return g_strdup (username);
}

static void
append_server (GString *out,
               const char *element,
               const char *type,
               const MsEndpoint *endpoint,
               const char *address)
{
  g_autofree char *username = username_element (endpoint->username_template, address);
  g_autofree char *text = NULL;

  text = g_markup_printf_escaped ("    <%s type=\"%s\">\n"
                                  "      <hostname>%s</hostname>\n"
                                  "      <port>%u</port>\n"
                                  "      <socketType>%s</socketType>\n"
                                  "      <username>%s</username>\n"
                                  "      <authentication>password-cleartext</authentication>\n"
                                  "    </%s>\n",
                                  element, type,
                                  endpoint->hostname,
                                  endpoint->port,
                                  endpoint->security == MS_SECURITY_TLS ? "SSL" : "STARTTLS",
                                  username,
                                  element);
  g_string_append (out, text);
}

char *
ms_export_thunderbird (const MsAccountData *account,
                       MsProvider *provider)
{
  GString *out = g_string_new (NULL);
  const char *domain = ms_address_get_domain (account->address);
  const char *display_name = domain;
  const char *short_name = NULL;
  g_autofree char *text = NULL;

  if (provider != NULL && provider->display_name != NULL)
    display_name = provider->display_name;
  if (provider != NULL && provider->short_name != NULL)
    short_name = provider->short_name;

  g_string_append (out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");

  /* A comment may not hold "--", which Punycode domains ("xn--") do. */
  if (strstr (domain, "--") == NULL)
    g_string_append_printf (out,
                            "<!--\n"
                            "  Mail settings for the domain %s, written by mailsetup in\n"
                            "  Mozilla's ISPDB format.  Thunderbird uses them when an account is\n"
                            "  set up for an address of that domain if this file is saved as\n"
                            "  %s.xml in the isp/ folder of Thunderbird's installation (for\n"
                            "  example /usr/lib/thunderbird/isp/), or served by the domain's\n"
                            "  autoconfig server as\n"
                            "  https://autoconfig.%s/mail/config-v1.1.xml.\n"
                            "  It holds no password.\n"
                            "-->\n",
                            domain, domain, domain);
  else
    g_string_append (out,
                     "<!--\n"
                     "  Mail settings for the domain below, written by mailsetup in\n"
                     "  Mozilla's ISPDB format.  Thunderbird uses them when an account is\n"
                     "  set up for an address of that domain if this file is saved, named\n"
                     "  after the domain with \".xml\" appended, in the isp/ folder of\n"
                     "  Thunderbird's installation (for example /usr/lib/thunderbird/isp/),\n"
                     "  or served by the domain's autoconfig server as\n"
                     "  https://autoconfig.DOMAIN/mail/config-v1.1.xml.\n"
                     "  It holds no password.\n"
                     "-->\n");

  text = g_markup_printf_escaped ("<clientConfig version=\"1.1\">\n"
                                  "  <emailProvider id=\"%s\">\n"
                                  "    <domain>%s</domain>\n"
                                  "    <displayName>%s</displayName>\n",
                                  domain, domain, display_name);
  g_string_append (out, text);
  g_clear_pointer (&text, g_free);

  if (short_name != NULL)
    {
      text = g_markup_printf_escaped ("    <displayShortName>%s</displayShortName>\n",
                                      short_name);
      g_string_append (out, text);
      g_clear_pointer (&text, g_free);
    }

  append_server (out, "incomingServer", "imap", account->imap, account->address);
  append_server (out, "outgoingServer", "smtp", account->smtp, account->address);

  if (provider != NULL && provider->documentation_url != NULL)
    {
      text = g_markup_printf_escaped ("    <documentation url=\"%s\"/>\n",
                                      provider->documentation_url);
      g_string_append (out, text);
      g_clear_pointer (&text, g_free);
    }

  g_string_append (out,
                   "  </emailProvider>\n"
                   "</clientConfig>\n");

  return g_string_free (out, FALSE);
}
