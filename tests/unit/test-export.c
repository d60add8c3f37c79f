/* test-export.c: the text exports of Account.Export
 *
 * Each format for a sample iCloud account, for variants (SMTP on 465 with
 * TLS, an IMAP user name that is the local part, a custom domain that
 * logs in with another address) and for an address and a name full of
 * characters that every format quotes differently.  Then the programs
 * themselves read the exports, where they are installed (tools/install-deps
 * installs them; a missing one skips its test): msmtp --pretend, mbsync
 * with an unknown channel and with -l against a closed local port, neomutt
 * -Q, and aerc in a pseudo-terminal (it has no headless mode).  A fake
 * secret-tool early in PATH records what the programs ask it, so the
 * tests see the password command survive each format's quoting.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "export/exporter.h"
#include "providers/provider-parser.h"

#define SAMPLE_ID "0123456789abcdef0123456789abcdef"
#define SCHEMA "org.mailsetup.MailSetup1.Password"
#define FAKE_PASSWORD "fake-app-pass-wxyz"

/* Every character that some format treats specially: shell quotes and
 * expansions, NeoMutt's backticks and variables, go-ini's comment marks,
 * RFC 5322 specials. */
#define NASTY_ADDRESS "o'brien+x\"y\\z`$HOME$folder$(false)#;@icloud.com"
#define NASTY_NAME "Jane \"Q\" O'Brien; Jr. #1 `$HOME` \\o/"

typedef struct {
  const char *address;
  const char *display_name;
  const char *imap_host;
  guint16 imap_port;
  MsSecurity imap_security;
  const char *imap_user;
  const char *smtp_host;
  guint16 smtp_port;
  MsSecurity smtp_security;
  const char *smtp_user;
} Sample;

static const Sample sample = {
  "jane@icloud.com", "Jane Doe",
  "imap.mail.me.com", 993, MS_SECURITY_TLS, "jane@icloud.com",
  "smtp.mail.me.com", 587, MS_SECURITY_STARTTLS, "jane@icloud.com",
};

static const Sample sample_465 = {
  "jane@icloud.com", "Jane Doe",
  "imap.mail.me.com", 993, MS_SECURITY_TLS, "jane@icloud.com",
  "smtp.mail.me.com", 465, MS_SECURITY_TLS, "jane@icloud.com",
};

static const Sample sample_local_part = {
  "jane@icloud.com", NULL,
  "imap.mail.me.com", 993, MS_SECURITY_TLS, "jane",
  "smtp.mail.me.com", 587, MS_SECURITY_STARTTLS, "jane@icloud.com",
};

/* iCloud+: a custom domain that logs in with the primary address. */
static const Sample sample_custom_domain = {
  "jane@example.org", "Jane Doe",
  "imap.mail.me.com", 993, MS_SECURITY_TLS, "jane.doe@icloud.com",
  "smtp.mail.me.com", 587, MS_SECURITY_STARTTLS, "jane.doe@icloud.com",
};

static const Sample sample_starttls_imap = {
  "jane@example.org", "",
  "mail.example.org", 143, MS_SECURITY_STARTTLS, "jane",
  "mail.example.org", 465, MS_SECURITY_TLS, "jane",
};

static const Sample sample_nasty = {
  NASTY_ADDRESS, NASTY_NAME,
  "imap.mail.me.com", 993, MS_SECURITY_TLS, NASTY_ADDRESS,
  "smtp.mail.me.com", 587, MS_SECURITY_STARTTLS, NASTY_ADDRESS,
};

static const Sample *const all_samples[] = {
  &sample, &sample_465, &sample_local_part, &sample_custom_domain,
  &sample_starttls_imap, &sample_nasty,
};

static MsAccountData *
account_new (const Sample *s)
{
  MsAccountData *account = ms_account_data_new ();

  account->id = g_strdup (SAMPLE_ID);
  account->address = g_strdup (s->address);
  account->provider = g_strdup ("icloud.com");
  account->display_name = g_strdup (s->display_name);
  account->imap = ms_endpoint_new (s->imap_host, s->imap_port, s->imap_security,
                                   s->imap_user);
  account->smtp = ms_endpoint_new (s->smtp_host, s->smtp_port, s->smtp_security,
                                   s->smtp_user);
  return account;
}

static MsProvider *
icloud_provider (void)
{
  MsProvider *provider = ms_provider_new ();

  provider->id = g_strdup ("icloud.com");
  provider->display_name = g_strdup ("iCloud Mail");
  provider->short_name = g_strdup ("iCloud");
  g_ptr_array_add (provider->domains, g_strdup ("icloud.com"));
  provider->documentation_url = g_strdup ("https://support.apple.com/en-us/102525");
  return provider;
}

static char *
render (const char *format,
        const MsAccountData *account,
        MsProvider *provider)
{
  g_autoptr (GError) error = NULL;
  char *text = ms_export_render (format, account, provider, &error);

  g_assert_no_error (error);
  g_assert_nonnull (text);
  g_assert_true (g_utf8_validate (text, -1, NULL));
  return text;
}

static void
assert_contains (const char *text,
                 const char *needle)
{
  if (strstr (text, needle) == NULL)
    g_error ("“%s” is not in:\n%s", needle, text);
}

static void
assert_lacks (const char *text,
              const char *needle)
{
  if (strstr (text, needle) != NULL)
    g_error ("“%s” should not be in:\n%s", needle, text);
}

/* The formats and their order */

static void
test_formats (void)
{
  const char * const expected[] = { "thunderbird", "msmtp", "mbsync", "neomutt", "aerc", NULL };
  const char * const *formats = ms_export_text_formats ();

  g_assert_cmpstrv (formats, expected);
  for (guint i = 0; expected[i] != NULL; i++)
    g_assert_true (ms_export_is_text_format (expected[i]));
  g_assert_false (ms_export_is_text_format ("goa"));
  g_assert_false (ms_export_is_text_format ("Thunderbird"));
  g_assert_false (ms_export_is_text_format (""));
  g_assert_false (ms_export_is_text_format (NULL));
}

static void
test_unknown_format (void)
{
  g_autoptr (MsAccountData) account = account_new (&sample);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = ms_export_render ("mutt", account, NULL, &error);

  g_assert_null (text);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  assert_contains (error->message, "“mutt”");
  assert_contains (error->message, "thunderbird, msmtp, mbsync, neomutt, aerc");
}

static void
test_invalid_account (void)
{
  g_autoptr (MsAccountData) account = account_new (&sample);
  g_autoptr (GError) error = NULL;
  char *text;

  /* A line break would let a name write a line of its own, such as a
   * NeoMutt command in backticks. */
  g_free (account->display_name);
  account->display_name = g_strdup ("Jane\nset imap_pass = `evil`");
  text = ms_export_render ("neomutt", account, NULL, &error);
  g_assert_null (text);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  assert_contains (error->message, "jane@icloud.com");
  g_clear_error (&error);
  g_clear_pointer (&account->display_name, g_free);

  g_free (account->smtp->username_template);
  account->smtp->username_template = g_strdup ("jane\r\n");
  text = ms_export_render ("msmtp", account, NULL, &error);
  g_assert_null (text);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  assert_contains (error->message, "SMTP");
  g_clear_error (&error);

  g_clear_pointer (&account->smtp, ms_endpoint_free);
  text = ms_export_render ("aerc", account, NULL, &error);
  g_assert_null (text);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  account->smtp = ms_endpoint_new ("smtp.mail.me.com/x", 587, MS_SECURITY_STARTTLS,
                                   "jane@icloud.com");
  text = ms_export_render ("aerc", account, NULL, &error);
  g_assert_null (text);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
test_password_command (void)
{
  g_autoptr (MsAccountData) account = account_new (&sample);
  g_autoptr (MsAccountData) quoted = account_new (&sample_nasty);
  g_autofree char *command = ms_export_password_command (account);
  g_autofree char *quoted_command = ms_export_password_command (quoted);
  g_autofree char *quoted_address = g_shell_quote (NASTY_ADDRESS);
  g_autofree char *expected = NULL;
  g_auto (GStrv) argv = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (command, ==,
                   "secret-tool lookup xdg:schema " SCHEMA " address jane@icloud.com "
                   "account-id " SAMPLE_ID);

  expected = g_strdup_printf ("secret-tool lookup xdg:schema " SCHEMA " address %s "
                              "account-id " SAMPLE_ID, quoted_address);
  g_assert_cmpstr (quoted_command, ==, expected);
  g_shell_parse_argv (quoted_command, NULL, &argv, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (argv), ==, 8);
  g_assert_cmpstr (argv[5], ==, NASTY_ADDRESS);
}

/* The sample, each format in full */

static const char expected_thunderbird[] =
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
  "<!--\n"
  "  Mail settings for the domain icloud.com, written by mailsetup in\n"
  "  Mozilla's ISPDB format.  Thunderbird uses them when an account is\n"
  "  set up for an address of that domain if this file is saved as\n"
  "  icloud.com.xml in the isp/ folder of Thunderbird's installation (for\n"
  "  example /usr/lib/thunderbird/isp/), or served by the domain's\n"
  "  autoconfig server as\n"
  "  https://autoconfig.icloud.com/mail/config-v1.1.xml.\n"
  "  It holds no password.\n"
  "-->\n"
  "<clientConfig version=\"1.1\">\n"
  "  <emailProvider id=\"icloud.com\">\n"
  "    <domain>icloud.com</domain>\n"
  "    <displayName>iCloud Mail</displayName>\n"
  "    <displayShortName>iCloud</displayShortName>\n"
  "    <incomingServer type=\"imap\">\n"
  "      <hostname>imap.mail.me.com</hostname>\n"
  "      <port>993</port>\n"
  "      <socketType>SSL</socketType>\n"
  "      <username>%EMAILADDRESS%</username>\n"
  "      <authentication>password-cleartext</authentication>\n"
  "    </incomingServer>\n"
  "    <outgoingServer type=\"smtp\">\n"
  "      <hostname>smtp.mail.me.com</hostname>\n"
  "      <port>587</port>\n"
  "      <socketType>STARTTLS</socketType>\n"
  "      <username>%EMAILADDRESS%</username>\n"
  "      <authentication>password-cleartext</authentication>\n"
  "    </outgoingServer>\n"
  "    <documentation url=\"https://support.apple.com/en-us/102525\"/>\n"
  "  </emailProvider>\n"
  "</clientConfig>\n";

static const char expected_msmtp[] =
  "# msmtp account for jane@icloud.com, written by mailsetup.\n"
  "# Add it to ~/.msmtprc (or ~/.config/msmtp/config).  It holds no\n"
  "# password: msmtp asks the keyring for it with secret-tool.\n"
  "account jane@icloud.com\n"
  "host smtp.mail.me.com\n"
  "port 587\n"
  "tls on\n"
  "tls_starttls on\n"
  "auth on\n"
  "user jane@icloud.com\n"
  "from jane@icloud.com\n"
  "passwordeval secret-tool lookup xdg:schema " SCHEMA " address jane@icloud.com "
  "account-id " SAMPLE_ID "\n"
  "\n"
  "# The account msmtp uses when neither -a nor a matching from\n"
  "# address picks one; leave this out if your file has a default.\n"
  "account default : jane@icloud.com\n";

static const char expected_mbsync[] =
  "# mbsync (isync) settings for jane@icloud.com, written by mailsetup.\n"
  "# Add them to ~/.mbsyncrc and make the mail folder once:\n"
  "#     mkdir -p ~/Mail/jane@icloud.com\n"
  "# then fetch mail with: mbsync jane@icloud.com\n"
  "# They hold no password: mbsync asks the keyring for it with\n"
  "# secret-tool.  isync 1.5 calls SSLType TLSType, and reads both.\n"
  "\n"
  "IMAPAccount jane@icloud.com\n"
  "Host imap.mail.me.com\n"
  "Port 993\n"
  "User jane@icloud.com\n"
  "PassCmd \"secret-tool lookup xdg:schema " SCHEMA " address jane@icloud.com "
  "account-id " SAMPLE_ID "\"\n"
  "SSLType IMAPS\n"
  "AuthMechs LOGIN\n"
  "\n"
  "IMAPStore jane@icloud.com-remote\n"
  "Account jane@icloud.com\n"
  "\n"
  "MaildirStore jane@icloud.com-local\n"
  "Path ~/Mail/jane@icloud.com/\n"
  "Inbox ~/Mail/jane@icloud.com/INBOX\n"
  "SubFolders Verbatim\n"
  "\n"
  "Channel jane@icloud.com\n"
  "Far :jane@icloud.com-remote:\n"
  "Near :jane@icloud.com-local:\n"
  "Patterns *\n"
  "Create Near\n"
  "SyncState *\n";

static const char expected_neomutt[] =
  "# NeoMutt settings for jane@icloud.com, written by mailsetup.\n"
  "# Save them as ~/.config/neomutt/neomuttrc, or in a file of their\n"
  "# own that neomuttrc reads with \"source\".  They hold no password:\n"
  "# NeoMutt asks the keyring for it with secret-tool when it starts.\n"
  "set from = \"jane@icloud.com\"\n"
  "set real_name = \"Jane Doe\"\n"
  "set imap_user = \"jane@icloud.com\"\n"
  "set imap_pass = \"`secret-tool lookup xdg:schema " SCHEMA " address jane@icloud.com "
  "account-id " SAMPLE_ID "`\"\n"
  "set folder = \"imaps://jane%40icloud.com@imap.mail.me.com:993/\"\n"
  "set spool_file = \"+INBOX\"\n"
  "set record = \"+Sent Messages\"\n"
  "set smtp_url = \"smtp://jane%40icloud.com@smtp.mail.me.com:587/\"\n"
  "set smtp_pass = \"`secret-tool lookup xdg:schema " SCHEMA " address jane@icloud.com "
  "account-id " SAMPLE_ID "`\"\n"
  "set ssl_starttls = yes\n"
  "set ssl_force_tls = yes\n";

static const char expected_aerc[] =
  "# aerc account for jane@icloud.com, written by mailsetup.\n"
  "# Add it to ~/.config/aerc/accounts.conf, which aerc wants readable\n"
  "# by you alone (chmod 600 ~/.config/aerc/accounts.conf).  It holds\n"
  "# no password: aerc asks the keyring for it with secret-tool.\n"
  "[jane@icloud.com]\n"
  "source = imaps://jane%40icloud.com@imap.mail.me.com:993\n"
  "source-cred-cmd = secret-tool lookup xdg:schema " SCHEMA " address jane@icloud.com "
  "account-id " SAMPLE_ID "\n"
  "outgoing = smtp://jane%40icloud.com@smtp.mail.me.com:587\n"
  "outgoing-cred-cmd = secret-tool lookup xdg:schema " SCHEMA " address jane@icloud.com "
  "account-id " SAMPLE_ID "\n"
  "# STARTTLS: aerc 0.14 needs this line; later versions do it\n"
  "# anyway and say the line is obsolete.\n"
  "smtp-starttls = true\n"
  "default = INBOX\n"
  "from = Jane Doe <jane@icloud.com>\n"
  "copy-to = Sent Messages\n";

typedef struct {
  const char *format;
  const char *expected;
} Golden;

static const Golden goldens[] = {
  { "thunderbird", expected_thunderbird },
  { "msmtp", expected_msmtp },
  { "mbsync", expected_mbsync },
  { "neomutt", expected_neomutt },
  { "aerc", expected_aerc },
};

static void
test_sample (gconstpointer data)
{
  const Golden *golden = data;
  g_autoptr (MsAccountData) account = account_new (&sample);
  g_autoptr (MsProvider) provider = icloud_provider ();
  g_autofree char *text = render (golden->format, account, provider);

  g_assert_cmpstr (text, ==, golden->expected);
}

/* No format carries a password, whatever the account: only the command
 * that fetches one. */
static void
test_no_password (void)
{
  g_autoptr (MsProvider) provider = icloud_provider ();
  const char * const *formats = ms_export_text_formats ();

  for (gsize i = 0; i < G_N_ELEMENTS (all_samples); i++)
    {
      g_autoptr (MsAccountData) account = account_new (all_samples[i]);

      for (guint f = 0; formats[f] != NULL; f++)
        {
          g_autofree char *text = render (formats[f], account, provider);
          g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

          for (guint l = 0; lines[l] != NULL; l++)
            {
              const char *line = lines[l];

              if (line[0] == '#')
                continue;
              /* msmtp's "password", mbsync's "Pass", aerc's and
               * NeoMutt's passwords inside URLs, Thunderbird's
               * nothing at all. */
              g_assert_false (g_str_has_prefix (line, "password "));
              g_assert_false (g_str_has_prefix (line, "Pass "));
              g_assert_null (strstr (line, "<password"));
              if (g_str_has_prefix (line, "set imap_pass") || g_str_has_prefix (line, "set smtp_pass"))
                assert_contains (line, "= \"`secret-tool lookup ");
              if (g_str_has_prefix (line, "source =") || g_str_has_prefix (line, "outgoing ="))
                {
                  /* user:password@host would have a ":" before the "@". */
                  const char *userinfo = strstr (line, "://") + 3;
                  const char *at = strchr (userinfo, '@');

                  g_assert_nonnull (at);
                  g_assert_null (memchr (userinfo, ':', at - userinfo));
                }
            }

          if (strcmp (formats[f], "thunderbird") != 0)
            assert_contains (text, "secret-tool lookup xdg:schema " SCHEMA " address ");
        }
    }
}

/* Variants */

static void
test_smtp_465 (void)
{
  g_autoptr (MsAccountData) account = account_new (&sample_465);
  g_autofree char *msmtp = render ("msmtp", account, NULL);
  g_autofree char *neomutt = render ("neomutt", account, NULL);
  g_autofree char *aerc = render ("aerc", account, NULL);
  g_autofree char *thunderbird = render ("thunderbird", account, NULL);

  assert_contains (msmtp, "\nport 465\ntls on\ntls_starttls off\n");
  assert_contains (neomutt, "set smtp_url = \"smtps://jane%40icloud.com@smtp.mail.me.com:465/\"\n");
  assert_contains (aerc, "\noutgoing = smtps://jane%40icloud.com@smtp.mail.me.com:465\n");
  assert_lacks (aerc, "smtp-starttls");
  assert_contains (thunderbird, "<port>465</port>\n      <socketType>SSL</socketType>\n");
}

static void
test_local_part_user (void)
{
  g_autoptr (MsAccountData) account = account_new (&sample_local_part);
  g_autofree char *mbsync = render ("mbsync", account, NULL);
  g_autofree char *neomutt = render ("neomutt", account, NULL);
  g_autofree char *aerc = render ("aerc", account, NULL);
  g_autofree char *thunderbird = render ("thunderbird", account, NULL);

  assert_contains (mbsync, "\nUser jane\n");
  assert_contains (neomutt, "set imap_user = \"jane\"\n");
  assert_lacks (neomutt, "real_name");
  assert_contains (neomutt, "set folder = \"imaps://jane@imap.mail.me.com:993/\"\n");
  assert_contains (aerc, "\nsource = imaps://jane@imap.mail.me.com:993\n");
  assert_contains (aerc, "\noutgoing = smtp://jane%40icloud.com@smtp.mail.me.com:587\n");
  assert_contains (aerc, "\nfrom = jane@icloud.com\n");
  assert_contains (thunderbird, "<username>%EMAILLOCALPART%</username>");
  assert_contains (thunderbird, "<username>%EMAILADDRESS%</username>");
}

static void
test_starttls_imap (void)
{
  g_autoptr (MsAccountData) account = account_new (&sample_starttls_imap);
  g_autofree char *mbsync = NULL;
  g_autofree char *neomutt = NULL;
  g_autofree char *aerc = NULL;

  g_free (account->provider);
  account->provider = g_strdup ("example.org");
  mbsync = render ("mbsync", account, NULL);
  neomutt = render ("neomutt", account, NULL);
  aerc = render ("aerc", account, NULL);

  assert_contains (mbsync, "\nPort 143\n");
  assert_contains (mbsync, "\nSSLType STARTTLS\n");
  assert_contains (neomutt, "set folder = \"imap://jane@mail.example.org:143/\"\n");
  assert_contains (neomutt, "set record = \"+Sent\"\n");
  assert_contains (aerc, "\nsource = imap://jane@mail.example.org:143\n");
  assert_contains (aerc, "\ncopy-to = Sent\n");
}

/* Thunderbird's file read back by mailsetup's own parser */

static void
assert_round_trip (const Sample *s,
                   MsProvider *provider)
{
  g_autoptr (MsAccountData) account = account_new (s);
  g_autofree char *text = render ("thunderbird", account, provider);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsProvider) parsed = ms_provider_parse (text, -1, "export.xml", &error);
  const char *domain = strrchr (s->address, '@') + 1;
  const MsEndpoint *endpoints[2] = { NULL, NULL };
  const MsEndpoint *originals[2] = { account->imap, account->smtp };

  g_assert_no_error (error);
  g_assert_nonnull (parsed);
  g_assert_cmpstr (parsed->id, ==, domain);
  g_assert_cmpuint (parsed->domains->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (parsed->domains, 0), ==, domain);
  g_assert_cmpstr (parsed->display_name, ==, provider != NULL ? provider->display_name : domain);
  g_assert_cmpuint (parsed->imap->len, ==, 1);
  g_assert_cmpuint (parsed->smtp->len, ==, 1);

  endpoints[0] = g_ptr_array_index (parsed->imap, 0);
  endpoints[1] = g_ptr_array_index (parsed->smtp, 0);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *username = ms_provider_expand (endpoints[i]->username_template,
                                                      s->address);

      g_assert_cmpstr (endpoints[i]->hostname, ==, originals[i]->hostname);
      g_assert_cmpuint (endpoints[i]->port, ==, originals[i]->port);
      g_assert_cmpint (endpoints[i]->security, ==, originals[i]->security);
      g_assert_cmpstr (username, ==, originals[i]->username_template);
    }
}

static void
test_thunderbird_round_trip (void)
{
  g_autoptr (MsProvider) provider = icloud_provider ();
  g_autoptr (MsProvider) odd = icloud_provider ();

  for (gsize i = 0; i < G_N_ELEMENTS (all_samples); i++)
    {
      assert_round_trip (all_samples[i], provider);
      assert_round_trip (all_samples[i], NULL);
    }

  /* Markup in the provider's name is escaped. */
  g_free (odd->display_name);
  odd->display_name = g_strdup ("Mail & <More> \"quoted\" 'too'");
  assert_round_trip (&sample, odd);
}

static void
test_thunderbird_custom_domain (void)
{
  g_autoptr (MsAccountData) account = account_new (&sample_custom_domain);
  g_autoptr (MsProvider) provider = icloud_provider ();
  g_autofree char *text = render ("thunderbird", account, provider);

  /* The file is for the custom domain, and names the address to log in
   * with as it is. */
  assert_contains (text, "<emailProvider id=\"example.org\">\n    <domain>example.org</domain>\n");
  assert_contains (text, "<username>jane.doe@icloud.com</username>");
  assert_lacks (text, "%EMAIL");
}

static void
test_thunderbird_punycode (void)
{
  g_autoptr (MsAccountData) account = account_new (&sample);
  g_autofree char *text = NULL;
  const char *comment_start;
  const char *comment_end;

  g_free (account->address);
  account->address = g_strdup ("jane@xn--bcher-kva.example");
  text = render ("thunderbird", account, NULL);

  /* "--" may not appear inside an XML comment. */
  comment_start = strstr (text, "<!--");
  comment_end = strstr (text, "-->");
  g_assert_nonnull (comment_start);
  g_assert_nonnull (comment_end);
  g_assert_true (strstr (comment_start + strlen ("<!--"), "--") == comment_end);
  assert_contains (text, "<domain>xn--bcher-kva.example</domain>");
}

/* Quoting */

static void
test_quoting (void)
{
  g_autoptr (MsAccountData) account = account_new (&sample_nasty);
  g_autoptr (MsProvider) provider = icloud_provider ();
  g_autofree char *thunderbird = render ("thunderbird", account, provider);
  g_autofree char *msmtp = render ("msmtp", account, provider);
  g_autofree char *mbsync = render ("mbsync", account, provider);
  g_autofree char *neomutt = render ("neomutt", account, provider);
  g_autofree char *aerc = render ("aerc", account, provider);
  g_autofree char *command = ms_export_password_command (account);
  g_autofree char *line = NULL;

  /* XML: the user name is the whole address, so a placeholder. */
  assert_contains (thunderbird, "<username>%EMAILADDRESS%</username>");

  /* msmtp: everything literal; account names hold no ":" or ",". */
  assert_contains (msmtp, "\naccount o'brien+x_y_z__HOME_folder__false___@icloud.com\n");
  assert_contains (msmtp, "\nfrom " NASTY_ADDRESS "\n");
  line = g_strdup_printf ("\npasswordeval %s\n", command);
  assert_contains (msmtp, line);
  g_clear_pointer (&line, g_free);

  /* mbsync: double quotes, with \" and \\ inside. */
  assert_contains (mbsync, "\nUser \"o'brien+x\\\"y\\\\z`$HOME$folder$(false)#;@icloud.com\"\n");
  assert_contains (mbsync, "\nPassCmd \"secret-tool lookup xdg:schema " SCHEMA " address "
                   "'o'\\\\''brien+x\\\"y\\\\z`$HOME$folder$(false)#;@icloud.com' account-id "
                   SAMPLE_ID "\"\n");

  /* NeoMutt: \ before " \ ` $ in values, and before \ ` $ in commands. */
  assert_contains (neomutt, "\nset real_name = \"Jane \\\"Q\\\" O'Brien; Jr. #1 \\`\\$HOME\\` \\\\o/\"\n");
  assert_contains (neomutt, "\nset imap_user = \"o'brien+x\\\"y\\\\z\\`\\$HOME\\$folder\\$(false)#;@icloud.com\"\n");
  assert_contains (neomutt, "\nset imap_pass = \"`secret-tool lookup xdg:schema " SCHEMA
                   " address 'o'\\\\''brien+x\"y\\\\z\\`\\$HOME\\$folder\\$(false)#;@icloud.com' account-id "
                   SAMPLE_ID "`\"\n");
  /* The user name in URLs is percent-encoded. */
  assert_contains (neomutt, "imaps://o%27brien%2Bx%22y%5Cz%60%24HOME%24folder%24%28false%29%23%3B%40icloud.com@");

  /* aerc: values with "#" or ";" in triple quotes; From per RFC 5322. */
  line = g_strdup_printf ("\nsource-cred-cmd = \"\"\"%s\"\"\"\n", command);
  assert_contains (aerc, line);
  g_clear_pointer (&line, g_free);
  assert_contains (aerc, "\nfrom = \"\"\"\"Jane \\\"Q\\\" O'Brien; Jr. #1 `$HOME` \\\\o/\" "
                   "<\"o'brien+x\\\"y\\\\z`$HOME$folder$(false)#;\"@icloud.com>\"\"\"\n");
  assert_contains (aerc, "\n[" NASTY_ADDRESS "]\n");
}

static void
test_mailbox (void)
{
  g_autoptr (MsAccountData) account = account_new (&sample);
  g_autofree char *aerc = NULL;

  g_free (account->display_name);
  account->display_name = g_strdup ("Jane Q. Doe");
  aerc = render ("aerc", account, NULL);
  /* "." is not atext: the name is quoted. */
  assert_contains (aerc, "\nfrom = \"Jane Q. Doe\" <jane@icloud.com>\n");
  g_clear_pointer (&aerc, g_free);

  g_free (account->display_name);
  account->display_name = g_strdup ("Jöhn Dœ");
  aerc = render ("aerc", account, NULL);
  assert_contains (aerc, "\nfrom = \"Jöhn Dœ\" <jane@icloud.com>\n");
}

/* The programs themselves */

typedef struct {
  char *dir;
  char *log;
  GStrv env;
} ProgramFixture;

static void
write_file (const char *path,
            const char *contents,
            int mode)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_NONE, mode, &error);
  g_assert_no_error (error);
}

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

static void
program_setup (ProgramFixture *fixture,
               gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *bin = NULL;
  g_autofree char *secret_tool = NULL;
  g_autofree char *path = NULL;
  g_autofree char *config = NULL;

  fixture->dir = g_dir_make_tmp ("mailsetup-test-export-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->log = g_build_filename (fixture->dir, "secret-tool.log", NULL);

  /* Records its arguments, one a line, an empty line after each call. */
  bin = g_build_filename (fixture->dir, "bin", NULL);
  g_assert_cmpint (g_mkdir (bin, 0700), ==, 0);
  secret_tool = g_build_filename (bin, "secret-tool", NULL);
  write_file (secret_tool,
              "#!/bin/sh\n"
              "{ for arg in \"$@\"; do printf '%s\\n' \"$arg\"; done; echo; } \\\n"
              "  >> \"$FAKE_SECRET_TOOL_LOG\"\n"
              "echo " FAKE_PASSWORD "\n",
              0700);

  config = g_build_filename (fixture->dir, "config", NULL);
  path = g_strconcat (bin, ":", g_getenv ("PATH"), NULL);
  fixture->env = g_get_environ ();
  fixture->env = g_environ_setenv (fixture->env, "PATH", path, TRUE);
  fixture->env = g_environ_setenv (fixture->env, "HOME", fixture->dir, TRUE);
  fixture->env = g_environ_setenv (fixture->env, "XDG_CONFIG_HOME", config, TRUE);
  fixture->env = g_environ_setenv (fixture->env, "FAKE_SECRET_TOOL_LOG", fixture->log, TRUE);
  fixture->env = g_environ_setenv (fixture->env, "SHELL", "/bin/sh", TRUE);
  fixture->env = g_environ_setenv (fixture->env, "TERM", "xterm", TRUE);
  fixture->env = g_environ_unsetenv (fixture->env, "MAIL");
  fixture->env = g_environ_unsetenv (fixture->env, "EMAIL");
}

static void
program_teardown (ProgramFixture *fixture,
                  gconstpointer data)
{
  remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->log);
  g_strfreev (fixture->env);
}

/* Returns: (transfer full): the program's path, or NULL after skipping
 * the test. */
static char *
find_program (const char *name)
{
  char *path = g_find_program_in_path (name);

  if (path == NULL)
    {
      g_autofree char *message =
        g_strdup_printf ("%s is not installed (tools/install-deps installs it)", name);

      g_test_skip (message);
    }

  return path;
}

/* Runs @argv to its end; returns its exit status, or -1 if a signal
 * ended it.  What it printed goes to the test log, but for a terminal
 * program's screen (@log_stdout FALSE). */
static int
run (ProgramFixture *fixture,
     const char * const *argv,
     gboolean log_stdout,
     char **out,
     char **err)
{
  g_autoptr (GError) error = NULL;
  int wait_status = 0;

  g_spawn_sync (fixture->dir, (char **) argv, fixture->env, G_SPAWN_DEFAULT,
                NULL, NULL, out, err, &wait_status, &error);
  g_assert_no_error (error);
  g_test_message ("%s: wait status %d\nstdout:\n%s\nstderr:\n%s", argv[0], wait_status,
                  log_stdout ? *out : "(not shown)", *err);

  return WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}

/* What the fake secret-tool was asked, @n_calls times, each time for the
 * nasty account's password. */
static void
assert_secret_tool_calls (ProgramFixture *fixture,
                          guint n_calls)
{
  g_autofree char *log = NULL;
  g_autoptr (GString) expected = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < n_calls; i++)
    g_string_append (expected,
                     "lookup\nxdg:schema\n" SCHEMA "\naddress\n" NASTY_ADDRESS "\n"
                     "account-id\n" SAMPLE_ID "\n\n");

  g_file_get_contents (fixture->log, &log, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (log, ==, expected->str);
}

/* A local port where nothing listens, so that a program that gets as far
 * as connecting fails at once. */
static guint16
closed_port (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_no_error (error);
  g_socket_bind (socket, any_port, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* The nasty account at servers on this machine, so that no program ever
 * knocks on Apple's door with a made-up password. */
static MsAccountData *
local_nasty_account (guint16 port)
{
  MsAccountData *account = account_new (&sample_nasty);

  g_free (account->imap->hostname);
  account->imap->hostname = g_strdup ("127.0.0.1");
  account->imap->port = port;
  g_free (account->smtp->hostname);
  account->smtp->hostname = g_strdup ("127.0.0.1");
  account->smtp->port = port;
  return account;
}

static char *
write_export (ProgramFixture *fixture,
              const char *format,
              const MsAccountData *account,
              const char *name)
{
  g_autoptr (MsProvider) provider = icloud_provider ();
  g_autofree char *text = render (format, account, provider);
  char *path = g_build_filename (fixture->dir, name, NULL);

  write_file (path, text, 0600);
  return path;
}

static void
test_msmtp_program (ProgramFixture *fixture,
                    gconstpointer data)
{
  g_autofree char *msmtp = find_program ("msmtp");
  g_autoptr (MsAccountData) account = local_nasty_account (closed_port ());
  g_autofree char *file = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *command = ms_export_password_command (account);
  g_autofree char *line = NULL;

  if (msmtp == NULL)
    return;

  file = write_export (fixture, "msmtp", account, "msmtprc");
  {
    /* Without -a: the default account of the export.  --pretend reads
     * the file, runs passwordeval and prints the settings. */
    const char * const argv[] = { msmtp, "-C", file, "--pretend", NULL };

    g_assert_cmpint (run (fixture, argv, TRUE, &out, &err), ==, 0);
  }

  assert_contains (out, "using account default from ");
  assert_contains (out, "\nhost = 127.0.0.1\n");
  line = g_strdup_printf ("\nport = %u\n", account->smtp->port);
  assert_contains (out, line);
  g_clear_pointer (&line, g_free);
  assert_contains (out, "\nauth = choose\nuser = " NASTY_ADDRESS "\npassword = *\n");
  line = g_strdup_printf ("\npasswordeval = %s\n", command);
  assert_contains (out, line);
  assert_contains (out, "\ntls = on\ntls_starttls = on\n");
  assert_contains (out, "\nfrom = " NASTY_ADDRESS "\n");
  assert_secret_tool_calls (fixture, 1);
}

static void
test_mbsync_program (ProgramFixture *fixture,
                     gconstpointer data)
{
  g_autofree char *mbsync = find_program ("mbsync");
  g_autoptr (MsAccountData) account = local_nasty_account (closed_port ());
  g_autofree char *file = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *maildir = NULL;
  g_autofree char *refused = NULL;
  const char *channel = "o'brien+x_y_z__HOME_folder__false___@icloud.com";

  if (mbsync == NULL)
    return;

  file = write_export (fixture, "mbsync", account, "mbsyncrc");
  {
    /* mbsync reads the whole file before it looks for the channel: a
     * mistake in it would be reported first. */
    const char * const argv[] = { mbsync, "-c", file, "no-such-channel", NULL };

    g_assert_cmpint (run (fixture, argv, TRUE, &out, &err), ==, 1);
    g_assert_true (g_str_has_prefix (err, "No channel or group named 'no-such-channel' defined.\n"));
    /* Complaints about the file name it and the line. */
    assert_lacks (err, file);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  /* The channel, its stores and the account fit together: mbsync opens
   * the Maildir and connects to the IMAP host and port. */
  maildir = g_build_filename (fixture->dir, "Mail", channel, NULL);
  g_assert_cmpint (g_mkdir_with_parents (maildir, 0700), ==, 0);
  {
    const char * const argv[] = { mbsync, "-c", file, "--list", channel, NULL };

    g_assert_cmpint (run (fixture, argv, TRUE, &out, &err), ==, 1);
  }
  refused = g_strdup_printf ("Cannot connect to 127.0.0.1 (127.0.0.1:%u): Connection refused",
                             account->imap->port);
  assert_contains (err, refused);
}

/* neomutt -Q prints `set NAME = "VALUE"` with \ before " and \. */
static char *
neomutt_value (const char *out,
               const char *variable)
{
  g_autofree char *prefix = g_strdup_printf ("set %s = \"", variable);
  const char *start = strstr (out, prefix);
  GString *value = g_string_new (NULL);

  g_assert_nonnull (start);
  for (const char *p = start + strlen (prefix); *p != '"'; p++)
    {
      g_assert_cmpint (*p, !=, '\0');
      if (*p == '\\')
        p++;
      g_string_append_c (value, *p);
    }

  return g_string_free (value, FALSE);
}

static void
test_neomutt_program (ProgramFixture *fixture,
                      gconstpointer data)
{
  g_autofree char *neomutt = find_program ("neomutt");
  g_autoptr (MsAccountData) account = local_nasty_account (closed_port ());
  g_autofree char *file = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *value = NULL;

  if (neomutt == NULL)
    return;

  file = write_export (fixture, "neomutt", account, "neomuttrc");
  {
    /* -n: not the system's neomuttrc; -Q reads the file, backticks and
     * all, and prints a variable without opening the terminal. */
    const char * const argv[] = {
      neomutt, "-n", "-F", file,
      "-Q", "real_name", "-Q", "imap_user", "-Q", "imap_pass", "-Q", "smtp_pass",
      "-Q", "folder", "-Q", "smtp_url", "-Q", "record", "-Q", "ssl_force_tls",
      NULL
    };

    g_assert_cmpint (run (fixture, argv, TRUE, &out, &err), ==, 0);
  }

  g_assert_cmpstr (err, ==, "");
  value = neomutt_value (out, "real_name");
  g_assert_cmpstr (value, ==, NASTY_NAME);
  g_clear_pointer (&value, g_free);
  value = neomutt_value (out, "imap_user");
  g_assert_cmpstr (value, ==, NASTY_ADDRESS);
  g_clear_pointer (&value, g_free);
  value = neomutt_value (out, "imap_pass");
  g_assert_cmpstr (value, ==, FAKE_PASSWORD);
  g_clear_pointer (&value, g_free);
  value = neomutt_value (out, "smtp_pass");
  g_assert_cmpstr (value, ==, FAKE_PASSWORD);
  g_clear_pointer (&value, g_free);
  value = neomutt_value (out, "smtp_url");
  g_assert_true (g_str_has_prefix (value, "smtp://"));
  assert_contains (value, "@127.0.0.1:");
  assert_contains (out, "set ssl_force_tls = yes\n");
  assert_secret_tool_calls (fixture, 2);
}

static void
test_aerc_program (ProgramFixture *fixture,
                   gconstpointer data)
{
  g_autofree char *aerc = find_program ("aerc");
  g_autofree char *script = aerc != NULL ? find_program ("script") : NULL;
  g_autofree char *timeout = script != NULL ? find_program ("timeout") : NULL;
  g_autoptr (MsAccountData) account = local_nasty_account (closed_port ());
  g_autofree char *text = NULL;
  g_autofree char *aerc_dir = NULL;
  g_autofree char *file = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  if (timeout == NULL)
    return;

  /* aerc has no mode that only reads its configuration: it is run in a
   * pseudo-terminal (script), and still running after a second means it
   * took the account; a bad accounts.conf ends it within milliseconds
   * with "Failed to load config".  Reading the account runs
   * source-cred-cmd. */
  text = render ("aerc", account, NULL);
  aerc_dir = g_build_filename (fixture->dir, "config", "aerc", NULL);
  g_assert_cmpint (g_mkdir_with_parents (aerc_dir, 0700), ==, 0);
  file = g_build_filename (aerc_dir, "accounts.conf", NULL);
  write_file (file, text, 0600);
  {
    const char * const argv[] = { timeout, "1", script, "-qec", "aerc", "/dev/null", NULL };

    status = run (fixture, argv, FALSE, &out, &err);
  }

  if (status != 124 && strstr (out, "pseudo-terminal") != NULL)
    {
      g_test_skip ("no pseudo-terminal to run aerc in");
      return;
    }
  assert_lacks (out, "Failed to load config");
  g_assert_cmpint (status, ==, 124);
  assert_secret_tool_calls (fixture, 1);
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/export/formats", test_formats);
  g_test_add_func ("/export/unknown-format", test_unknown_format);
  g_test_add_func ("/export/invalid-account", test_invalid_account);
  g_test_add_func ("/export/password-command", test_password_command);
  for (gsize i = 0; i < G_N_ELEMENTS (goldens); i++)
    {
      g_autofree char *path = g_strdup_printf ("/export/sample/%s", goldens[i].format);

      g_test_add_data_func (path, &goldens[i], test_sample);
    }
  g_test_add_func ("/export/no-password", test_no_password);
  g_test_add_func ("/export/smtp-465", test_smtp_465);
  g_test_add_func ("/export/local-part-user", test_local_part_user);
  g_test_add_func ("/export/starttls-imap", test_starttls_imap);
  g_test_add_func ("/export/thunderbird/round-trip", test_thunderbird_round_trip);
  g_test_add_func ("/export/thunderbird/custom-domain", test_thunderbird_custom_domain);
  g_test_add_func ("/export/thunderbird/punycode", test_thunderbird_punycode);
  g_test_add_func ("/export/quoting", test_quoting);
  g_test_add_func ("/export/mailbox", test_mailbox);
  g_test_add ("/export/program/msmtp", ProgramFixture, NULL,
              program_setup, test_msmtp_program, program_teardown);
  g_test_add ("/export/program/mbsync", ProgramFixture, NULL,
              program_setup, test_mbsync_program, program_teardown);
  g_test_add ("/export/program/neomutt", ProgramFixture, NULL,
              program_setup, test_neomutt_program, program_teardown);
  g_test_add ("/export/program/aerc", ProgramFixture, NULL,
              program_setup, test_aerc_program, program_teardown);

  return g_test_run ();
}
