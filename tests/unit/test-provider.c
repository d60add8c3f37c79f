/* test-provider.c: reading provider files and finding them by domain
 *
 * The shipped files are found through MAILSETUP_DATADIR and the fixtures
 * through G_TEST_SRCDIR; tests/unit/meson.build sets both.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "provider.h"
#include "provider-parser.h"
#include "provider-registry.h"

/* A minimal valid file around @servers (the inside of emailProvider). */
#define PROVIDER_FILE(namespaces, servers) \
  "<?xml version=\"1.0\"?>\n" \
  "<clientConfig version=\"1.1\" " namespaces ">\n" \
  "  <emailProvider id=\"example.org\">\n" \
  "    <domain>example.org</domain>\n" \
  servers \
  "  </emailProvider>\n" \
  "</clientConfig>\n"

#define IMAP_TLS \
  "    <incomingServer type=\"imap\">\n" \
  "      <hostname>imap.example.org</hostname>\n" \
  "      <port>993</port>\n" \
  "      <socketType>SSL</socketType>\n" \
  "      <username>%EMAILLOCALPART%</username>\n" \
  "    </incomingServer>\n"

#define SMTP_STARTTLS \
  "    <outgoingServer type=\"smtp\">\n" \
  "      <hostname>smtp.example.org</hostname>\n" \
  "      <port>587</port>\n" \
  "      <socketType>STARTTLS</socketType>\n" \
  "      <username>%EMAILADDRESS%</username>\n" \
  "    </outgoingServer>\n"

static const char *
shipped_providers_dir (void)
{
  static char *dir = NULL;

  if (dir == NULL)
    {
      const char *datadir = g_getenv ("MAILSETUP_DATADIR");

      if (datadir == NULL)
        g_error ("Set MAILSETUP_DATADIR to the source tree's data/ folder "
                 "(meson test does)");
      dir = g_build_filename (datadir, "providers", NULL);
    }

  return dir;
}

static MsProvider *
parse_file (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;
  MsProvider *provider;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);

  provider = ms_provider_parse (contents, length, path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (provider);

  return provider;
}

static void
assert_endpoint (MsEndpoint *endpoint,
                 const char *hostname,
                 guint16 port,
                 MsSecurity security,
                 const char *username_template)
{
  g_assert_cmpstr (endpoint->hostname, ==, hostname);
  g_assert_cmpuint (endpoint->port, ==, port);
  g_assert_cmpint (endpoint->security, ==, security);
  g_assert_cmpstr (endpoint->username_template, ==, username_template);
}

/* Parses @text, expects failure, and checks the message holds @needle. */
static void
assert_parse_fails (const char *text,
                    const char *source_name,
                    const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsProvider) provider =
    ms_provider_parse (text, -1, source_name, &error);

  g_assert_null (provider);
  g_assert_nonnull (error);
  g_assert_cmpuint (error->domain, ==, G_MARKUP_ERROR);
  if (strstr (error->message, needle) == NULL)
    g_error ("message “%s” lacks “%s”", error->message, needle);
}

static void
test_shipped_icloud (void)
{
  g_autofree char *path =
    g_build_filename (shipped_providers_dir (), "icloud.xml", NULL);
  g_autoptr (MsProvider) provider = parse_file (path);

  g_assert_cmpstr (provider->id, ==, "icloud.com");
  g_assert_cmpstr (provider->display_name, ==, "iCloud Mail");
  g_assert_cmpstr (provider->short_name, ==, "iCloud");
  g_assert_cmpstr (provider->source_file, ==, path);

  g_assert_cmpuint (provider->domains->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (provider->domains, 0), ==, "icloud.com");
  g_assert_cmpstr (g_ptr_array_index (provider->domains, 1), ==, "me.com");
  g_assert_cmpstr (g_ptr_array_index (provider->domains, 2), ==, "mac.com");

  g_assert_cmpuint (provider->imap->len, ==, 1);
  assert_endpoint (g_ptr_array_index (provider->imap, 0),
                   "imap.mail.me.com", 993, MS_SECURITY_TLS, "%EMAILADDRESS%");

  g_assert_cmpuint (provider->smtp->len, ==, 2);
  assert_endpoint (g_ptr_array_index (provider->smtp, 0),
                   "smtp.mail.me.com", 587, MS_SECURITY_STARTTLS,
                   "%EMAILADDRESS%");
  assert_endpoint (g_ptr_array_index (provider->smtp, 1),
                   "smtp.mail.me.com", 465, MS_SECURITY_TLS,
                   "%EMAILADDRESS%");

  g_assert_cmpuint (provider->imap_username_candidates->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (provider->imap_username_candidates, 0),
                   ==, "%EMAILADDRESS%");
  g_assert_cmpstr (g_ptr_array_index (provider->imap_username_candidates, 1),
                   ==, "%EMAILLOCALPART%");

  g_assert_cmpstr (provider->password_kind, ==, "app-specific");
  /* The hint is wrapped in the file and comes out on one line. */
  g_assert_cmpstr (provider->password_hint, ==,
                   "iCloud Mail needs an app-specific password, not your "
                   "Apple Account password: since 2017, mail programs other "
                   "than Apple's own sign in with one, and making one needs "
                   "two-factor authentication on your Apple Account. Make "
                   "one at account.apple.com: Sign-In and Security, "
                   "App-Specific Passwords. It looks like xxxx-xxxx-xxxx-xxxx.");
  g_assert_cmpstr (provider->password_url, ==,
                   "https://support.apple.com/en-us/102654");
  g_assert_cmpstr (provider->documentation_url, ==,
                   "https://support.apple.com/en-us/102525");
}

static void
test_malformed (void)
{
  /* XML errors, found by GMarkup: line 4 closes the wrong element. */
  assert_parse_fails ("<?xml version=\"1.0\"?>\n"
                      "<clientConfig version=\"1.1\">\n"
                      "  <emailProvider id=\"example.org\">\n"
                      "    <domain>example.org</domian>\n"
                      "  </emailProvider>\n"
                      "</clientConfig>\n",
                      "broken.xml", "broken.xml: Error on line 4");
  assert_parse_fails ("<clientConfig>\n<emailProvider>\n",
                      "cut-short.xml", "cut-short.xml:");
  assert_parse_fails ("", "empty.xml", "empty.xml:");

  /* Content errors, found by the parser: line and file of the server. */
  assert_parse_fails (PROVIDER_FILE ("",
                                     IMAP_TLS
                                     "    <outgoingServer type=\"smtp\">\n"
                                     "      <hostname>smtp.example.org</hostname>\n"
                                     "      <port>65536</port>\n"
                                     "      <socketType>SSL</socketType>\n"
                                     "    </outgoingServer>\n"),
                      "bad-port.xml",
                      "bad-port.xml:11: the SMTP server’s port “65536”");
  assert_parse_fails (PROVIDER_FILE ("",
                                     IMAP_TLS
                                     "    <outgoingServer type=\"smtp\">\n"
                                     "      <hostname>smtp.example.org</hostname>\n"
                                     "      <port>0</port>\n"
                                     "      <socketType>SSL</socketType>\n"
                                     "    </outgoingServer>\n"),
                      "zero-port.xml", "port “0”");
  assert_parse_fails (PROVIDER_FILE ("",
                                     "    <incomingServer type=\"imap\">\n"
                                     "      <port>993</port>\n"
                                     "      <socketType>SSL</socketType>\n"
                                     "    </incomingServer>\n"
                                     SMTP_STARTTLS),
                      "no-host.xml", "no-host.xml:5: the IMAP server has no "
                      "valid <hostname>");
  assert_parse_fails (PROVIDER_FILE ("",
                                     "    <incomingServer type=\"imap\">\n"
                                     "      <hostname>imap.example.org</hostname>\n"
                                     "      <port>993</port>\n"
                                     "      <socketType>TLS1.3</socketType>\n"
                                     "    </incomingServer>\n"
                                     SMTP_STARTTLS),
                      "socket.xml", "socketType “TLS1.3”");
}

static void
test_missing_required (void)
{
  assert_parse_fails ("<?xml version=\"1.0\"?>\n"
                      "<clientConfig version=\"1.1\">\n"
                      "  <emailProvider id=\"example.org\">\n"
                      IMAP_TLS
                      SMTP_STARTTLS
                      "  </emailProvider>\n"
                      "</clientConfig>\n",
                      "no-domain.xml", "no-domain.xml:3: the provider has no "
                      "<domain>");
  assert_parse_fails (PROVIDER_FILE ("", IMAP_TLS), "no-smtp.xml",
                      "no-smtp.xml:3: the provider has no SMTP server");
  assert_parse_fails (PROVIDER_FILE ("", SMTP_STARTTLS), "no-imap.xml",
                      "no-imap.xml:3: the provider has no IMAP server");
  assert_parse_fails ("<clientConfig version=\"1.1\"></clientConfig>",
                      "no-provider.xml", "has no <emailProvider>");
  assert_parse_fails ("<html><body/></html>", "page.xml",
                      "page.xml:1: this is not an ISPDB clientConfig file");
}

static void
test_plain_dropped (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsProvider) provider = NULL;

  /* The only IMAP server is plain: nothing usable is left. */
  assert_parse_fails (PROVIDER_FILE ("",
                                     "    <incomingServer type=\"imap\">\n"
                                     "      <hostname>imap.example.org</hostname>\n"
                                     "      <port>143</port>\n"
                                     "      <socketType>plain</socketType>\n"
                                     "    </incomingServer>\n"
                                     SMTP_STARTTLS),
                      "plain.xml", "plain.xml:3: the provider has no IMAP "
                      "server that uses TLS");

  /* A plain SMTP fallback is dropped; the TLS ones stay in order. */
  provider = ms_provider_parse (
    PROVIDER_FILE ("",
                   IMAP_TLS
                   "    <outgoingServer type=\"smtp\">\n"
                   "      <hostname>smtp.example.org</hostname>\n"
                   "      <port>25</port>\n"
                   "      <socketType>plain</socketType>\n"
                   "    </outgoingServer>\n"
                   SMTP_STARTTLS),
    -1, "mixed.xml", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (provider->smtp->len, ==, 1);
  assert_endpoint (g_ptr_array_index (provider->smtp, 0),
                   "smtp.example.org", 587, MS_SECURITY_STARTTLS,
                   "%EMAILADDRESS%");
}

static void
test_defaults (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsProvider) provider = NULL;

  provider = ms_provider_parse (
    "<clientConfig version=\"1.1\">\n"
    "  <emailProvider>\n"
    "    <domain>Example.ORG</domain>\n"
    "    <domain>example.org</domain>\n"
    "    <incomingServer type=\"imap\">\n"
    "      <hostname> imap.example.org </hostname>\n"
    "      <port>\n993\n</port>\n"
    "      <socketType>SSL</socketType>\n"
    "    </incomingServer>\n"
    SMTP_STARTTLS
    "  </emailProvider>\n"
    "</clientConfig>\n",
    -1, "defaults.xml", &error);
  g_assert_no_error (error);

  /* Domains lower-cased and deduplicated; the id falls back to the first. */
  g_assert_cmpuint (provider->domains->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (provider->domains, 0), ==,
                   "example.org");
  g_assert_cmpstr (provider->id, ==, "example.org");
  g_assert_cmpstr (provider->display_name, ==, "example.org");
  g_assert_cmpstr (provider->short_name, ==, "example.org");

  /* Text is trimmed; a missing <username> means the whole address. */
  assert_endpoint (g_ptr_array_index (provider->imap, 0),
                   "imap.example.org", 993, MS_SECURITY_TLS, "%EMAILADDRESS%");

  /* Without mailsetup's element the IMAP user name is the only one. */
  g_assert_cmpuint (provider->imap_username_candidates->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (provider->imap_username_candidates, 0),
                   ==, "%EMAILADDRESS%");

  g_assert_null (provider->password_kind);
  g_assert_null (provider->password_hint);
  g_assert_null (provider->password_url);
  g_assert_null (provider->documentation_url);
}

static void
test_ignored_elements (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsProvider) provider = NULL;

  provider = ms_provider_parse (
    PROVIDER_FILE ("",
                   "    <incomingServer type=\"pop3\">\n"
                   "      <hostname>pop.example.org</hostname>\n"
                   "      <port>995</port>\n"
                   "      <socketType>SSL</socketType>\n"
                   "      <pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>\n"
                   "    </incomingServer>\n"
                   "    <incomingServer type=\"exchange\">\n"
                   "      <hostname>ews.example.org</hostname>\n"
                   "    </incomingServer>\n"
                   IMAP_TLS
                   /* Takes no password: useless to us. */
                   "    <incomingServer type=\"imap\">\n"
                   "      <hostname>oauth.example.org</hostname>\n"
                   "      <port>993</port>\n"
                   "      <socketType>SSL</socketType>\n"
                   "      <authentication>OAuth2</authentication>\n"
                   "    </incomingServer>\n"
                   SMTP_STARTTLS
                   "    <outgoingServer type=\"ews\">\n"
                   "      <hostname>ews.example.org</hostname>\n"
                   "    </outgoingServer>\n"
                   "    <enable visiturl=\"https://example.org/enable\">\n"
                   "      <instruction>Turn IMAP on</instruction>\n"
                   "    </enable>\n"
                   "    <webMail><loginPage url=\"https://example.org/\"/></webMail>\n"
                   "    <futureThing><hostname>nowhere</hostname></futureThing>\n"
                   "    <documentation url=\"https://example.org/help\">\n"
                   "      <descr lang=\"en\">Help</descr>\n"
                   "    </documentation>\n"
                   "    <documentation url=\"https://example.org/second\"/>\n"),
    -1, "ignored.xml", &error);
  g_assert_no_error (error);

  g_assert_cmpuint (provider->imap->len, ==, 1);
  assert_endpoint (g_ptr_array_index (provider->imap, 0),
                   "imap.example.org", 993, MS_SECURITY_TLS,
                   "%EMAILLOCALPART%");
  g_assert_cmpuint (provider->smtp->len, ==, 1);
  g_assert_cmpstr (provider->documentation_url, ==,
                   "https://example.org/help");
}

static void
test_namespaces (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsProvider) provider = NULL;

  /* Ours under the prefix "x"; "ms" is bound to someone else's
   * namespace and its elements must be left alone, even those with our
   * local names.  Inside <incomingServer>, "x" is rebound for a while. */
  provider = ms_provider_parse (
    PROVIDER_FILE ("xmlns:x=\"" MS_PROVIDER_NAMESPACE "\" "
                   "xmlns:ms=\"urn:example:not-mailsetup\"",
                   "    <incomingServer type=\"imap\">\n"
                   "      <hostname>imap.example.org</hostname>\n"
                   "      <port>993</port>\n"
                   "      <socketType>SSL</socketType>\n"
                   "      <username>%EMAILADDRESS%</username>\n"
                   "      <ms:usernameCandidate>%WRONG1%</ms:usernameCandidate>\n"
                   "      <x:usernameCandidate>%EMAILLOCALPART%</x:usernameCandidate>\n"
                   "      <wrap xmlns:x=\"urn:example:other\">\n"
                   "        <x:usernameCandidate>%WRONG2%</x:usernameCandidate>\n"
                   "      </wrap>\n"
                   "      <x:usernameCandidate xmlns:x=\"urn:example:other\">%WRONG3%</x:usernameCandidate>\n"
                   "      <x:usernameCandidate>%EMAILADDRESS%</x:usernameCandidate>\n"
                   "      <usernameCandidate xmlns=\"" MS_PROVIDER_NAMESPACE "\">%EMAILDOMAIN%</usernameCandidate>\n"
                   "    </incomingServer>\n"
                   SMTP_STARTTLS
                   "    <ms:password kind=\"wrong\"><ms:hint>wrong</ms:hint></ms:password>\n"
                   "    <x:password kind=\"app-specific\">\n"
                   "      <x:hint>Right.</x:hint>\n"
                   "      <ms:url>https://wrong.example/</ms:url>\n"
                   "      <x:url>https://example.org/app-passwords</x:url>\n"
                   "    </x:password>\n"
                   /* ISPDB elements are in no namespace. */
                   "    <domain xmlns=\"urn:example:other\">wrong.example</domain>\n"
                   "    <ms:domain>wrong2.example</ms:domain>\n"),
    -1, "namespaces.xml", &error);
  g_assert_no_error (error);

  g_assert_cmpuint (provider->imap_username_candidates->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (provider->imap_username_candidates, 0),
                   ==, "%EMAILLOCALPART%");
  g_assert_cmpstr (g_ptr_array_index (provider->imap_username_candidates, 1),
                   ==, "%EMAILADDRESS%");
  g_assert_cmpstr (g_ptr_array_index (provider->imap_username_candidates, 2),
                   ==, "%EMAILDOMAIN%");
  g_assert_cmpstr (provider->password_kind, ==, "app-specific");
  g_assert_cmpstr (provider->password_hint, ==, "Right.");
  g_assert_cmpstr (provider->password_url, ==,
                   "https://example.org/app-passwords");
  g_assert_cmpuint (provider->domains->len, ==, 1);

  /* A prefix nobody declared is an XML namespace error. */
  assert_parse_fails (PROVIDER_FILE ("",
                                     IMAP_TLS SMTP_STARTTLS
                                     "    <y:password kind=\"app-specific\"/>\n"),
                      "undeclared.xml",
                      "undeclared.xml:17: the prefix “y” of <y:password> is "
                      "not declared");
}

static void
test_expand (void)
{
  const char *address = "Jane.Doe@icloud.com";
  struct {
    const char *template;
    const char *expected;
  } cases[] = {
    { "%EMAILADDRESS%", "Jane.Doe@icloud.com" },
    { "%EMAILLOCALPART%", "Jane.Doe" },
    { "%EMAILDOMAIN%", "icloud.com" },
    { "%EMAILLOCALPART%+mail@%EMAILDOMAIN%", "Jane.Doe+mail@icloud.com" },
    { "static-user", "static-user" },
    { "%REALNAME%", "%REALNAME%" },
    { "100%", "100%" },
    { "%%EMAILLOCALPART%%", "%Jane.Doe%" },
    { "", "" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *result = ms_provider_expand (cases[i].template, address);

      g_assert_cmpstr (result, ==, cases[i].expected);
    }
}

static void
test_security_strings (void)
{
  MsSecurity security = MS_SECURITY_STARTTLS;

  g_assert_cmpstr (ms_security_to_string (MS_SECURITY_TLS), ==, "tls");
  g_assert_cmpstr (ms_security_to_string (MS_SECURITY_STARTTLS), ==,
                   "starttls");

  g_assert_true (ms_security_from_string ("tls", &security));
  g_assert_cmpint (security, ==, MS_SECURITY_TLS);
  g_assert_true (ms_security_from_string ("starttls", &security));
  g_assert_cmpint (security, ==, MS_SECURITY_STARTTLS);
  g_assert_false (ms_security_from_string ("SSL", &security));
  g_assert_false (ms_security_from_string ("plain", &security));
}

static void
test_ref (void)
{
  MsProvider *provider = ms_provider_new ();

  g_assert_true (ms_provider_ref (provider) == provider);
  ms_provider_unref (provider);
  ms_provider_unref (provider);
}

static void
test_registry_override (void)
{
  g_autofree char *override_dir = NULL;
  const char *dirs[4];
  g_autoptr (MsProviderRegistry) registry = NULL;
  MsProvider *icloud;
  MsProvider *me;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      /* Skipped with a warning naming the file and the line. */
      g_test_trap_assert_stderr ("*WARNING*a-broken.xml*line 6*");
      return;
    }

  /* The warning about a-broken.xml is expected here; the parent checks
   * it. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK);

  override_dir = g_test_build_filename (G_TEST_DIST, "data",
                                        "providers-override", NULL);
  dirs[0] = override_dir;
  dirs[1] = "/nonexistent/mailsetup/providers";
  dirs[2] = shipped_providers_dir ();
  dirs[3] = NULL;
  registry = ms_provider_registry_new (dirs);

  /* icloud.com comes from the override; in that folder the first file in
   * name order wins. */
  icloud = ms_provider_registry_lookup (registry, "icloud.com");
  g_assert_nonnull (icloud);
  g_assert_cmpstr (icloud->id, ==, "icloud-local");
  g_assert_true (g_str_has_suffix (icloud->source_file,
                                   "b-icloud-local.xml"));
  assert_endpoint (g_ptr_array_index (icloud->imap, 0),
                   "127.0.0.1", 10993, MS_SECURITY_TLS, "%EMAILLOCALPART%");
  g_assert_cmpstr (icloud->password_hint, ==, "Use the test password.");
  g_assert_true (ms_provider_registry_lookup (registry, "ICLOUD.COM")
                 == icloud);

  /* me.com and mac.com are only in the shipped file. */
  me = ms_provider_registry_lookup (registry, "me.com");
  g_assert_nonnull (me);
  g_assert_cmpstr (me->id, ==, "icloud.com");
  assert_endpoint (g_ptr_array_index (me->imap, 0),
                   "imap.mail.me.com", 993, MS_SECURITY_TLS,
                   "%EMAILADDRESS%");
  g_assert_true (ms_provider_registry_lookup (registry, "mac.com") == me);

  /* The shadowed file still provides the domain only it defines. */
  g_assert_cmpstr (ms_provider_registry_lookup (registry,
                                                "shadowed.example")->id,
                   ==, "shadowed.example");

  g_assert_null (ms_provider_registry_lookup (registry, "broken.example"));
  g_assert_null (ms_provider_registry_lookup (registry, "example.com"));

  g_assert_cmpstr (ms_provider_registry_get_dirs (registry)[0], ==,
                   override_dir);
}

static void
test_registry_missing_dirs (void)
{
  const char *dirs[] = {
    "/nonexistent/one",
    "/nonexistent/two",
    NULL,
  };
  g_autoptr (MsProviderRegistry) registry = ms_provider_registry_new (dirs);

  /* No warning (it would be fatal here), just nothing found. */
  g_assert_null (ms_provider_registry_lookup (registry, "icloud.com"));
}

static void
write_override (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "icloud.xml", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path,
                       "<clientConfig version=\"1.1\">\n"
                       "  <emailProvider id=\"user-icloud\">\n"
                       "    <domain>icloud.com</domain>\n"
                       IMAP_TLS
                       SMTP_STARTTLS
                       "  </emailProvider>\n"
                       "</clientConfig>\n",
                       -1, &error);
  g_assert_no_error (error);
}

static void
test_registry_default (void)
{
  g_autofree char *user_dir =
    g_build_filename (g_get_user_config_dir (), "mailsetup", "providers",
                      NULL);
  g_autofree char *shipped = g_strdup (shipped_providers_dir ());
  const char * const *system_dirs = g_get_system_config_dirs ();
  g_autoptr (MsProviderRegistry) registry = NULL;
  const char * const *dirs;
  guint n_system = g_strv_length ((char **) system_dirs);
  g_autofree char *first_system = NULL;
  g_autofree char *data_home = NULL;

  /* main () made the XDG folders private to this program. */
  write_override (user_dir);
  registry = ms_provider_registry_new_default ();

  dirs = ms_provider_registry_get_dirs (registry);
  g_assert_cmpuint (g_strv_length ((char **) dirs), ==, n_system + 3);
  g_assert_cmpstr (dirs[0], ==, user_dir);
  g_assert_cmpuint (n_system, >, 0);
  first_system = g_build_filename (system_dirs[0], "mailsetup", "providers",
                                   NULL);
  g_assert_cmpstr (dirs[1], ==, first_system);
  data_home = g_build_filename (g_get_user_data_dir (), "mailsetup",
                                "providers", NULL);
  g_assert_cmpstr (dirs[n_system + 1], ==, data_home);
  g_assert_cmpstr (dirs[n_system + 2], ==, shipped);

  g_assert_cmpstr (ms_provider_registry_lookup (registry, "icloud.com")->id,
                   ==, "user-icloud");
  g_assert_cmpstr (ms_provider_registry_lookup (registry, "me.com")->id,
                   ==, "icloud.com");
}

/* Removes what test_registry_default () wrote. */
static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      remove_tree (child);
    }

  g_remove (path);
}

int
main (int argc,
      char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autofree char *home = NULL;
  g_autofree char *config_home = NULL;
  g_autofree char *config_dirs = NULL;
  g_autofree char *data_home = NULL;
  int status;

  /* Private XDG folders, set before GLib first reads them.  (Not
   * G_TEST_OPTION_ISOLATE_DIRS: GLib 2.74 leaks there, which trips
   * sanitizer builds.) */
  home = g_dir_make_tmp ("mailsetup-test-provider-XXXXXX", &error);
  g_assert_no_error (error);
  config_home = g_build_filename (home, "config", NULL);
  config_dirs = g_strdup_printf ("%s/etc-1" G_SEARCHPATH_SEPARATOR_S
                                 "%s/etc-2", home, home);
  data_home = g_build_filename (home, "data", NULL);
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_setenv ("XDG_CONFIG_DIRS", config_dirs, TRUE);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/provider/shipped-icloud", test_shipped_icloud);
  g_test_add_func ("/provider/malformed", test_malformed);
  g_test_add_func ("/provider/missing-required", test_missing_required);
  g_test_add_func ("/provider/plain-dropped", test_plain_dropped);
  g_test_add_func ("/provider/defaults", test_defaults);
  g_test_add_func ("/provider/ignored-elements", test_ignored_elements);
  g_test_add_func ("/provider/namespaces", test_namespaces);
  g_test_add_func ("/provider/expand", test_expand);
  g_test_add_func ("/provider/security-strings", test_security_strings);
  g_test_add_func ("/provider/ref", test_ref);
  g_test_add_func ("/registry/override", test_registry_override);
  g_test_add_func ("/registry/missing-dirs", test_registry_missing_dirs);
  g_test_add_func ("/registry/default", test_registry_default);

  status = g_test_run ();
  remove_tree (home);

  return status;
}
