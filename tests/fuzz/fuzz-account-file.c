/* fuzz-account-file.c: accounts.conf text through ms_account_file_parse_data()
 *
 * The file is the person's to edit (or to damage).  Whatever it holds,
 * loading either fails with an error or gives accounts that survive being
 * written back: serialising them and reading the result gives the same
 * accounts.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "fuzz.h"

#include <string.h>

#include "accounts/account-file.h"
#include "address.h"

static void
assert_same_endpoint (const MsEndpoint *a,
                      const MsEndpoint *b)
{
  g_assert_cmpstr (a->hostname, ==, b->hostname);
  g_assert_cmpuint (a->port, ==, b->port);
  g_assert_cmpint (a->security, ==, b->security);
  g_assert_cmpstr (a->username_template, ==, b->username_template);
}

static void
assert_same_account (const MsAccountData *a,
                     const MsAccountData *b)
{
  g_assert_cmpstr (a->id, ==, b->id);
  g_assert_cmpstr (a->address, ==, b->address);
  g_assert_cmpstr (a->provider, ==, b->provider);
  g_assert_cmpstr (a->display_name, ==, b->display_name);
  assert_same_endpoint (a->imap, b->imap);
  assert_same_endpoint (a->smtp, b->smtp);
  g_assert_cmpuint (a->smtp_max_message_size, ==, b->smtp_max_message_size);
  g_assert_cmpint (a->last_checked, ==, b->last_checked);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t size)
{
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  fuzz_setup ();

  accounts = ms_account_file_parse_data ((const char *) data, size, &error);
  if (accounts == NULL)
    {
      g_assert_nonnull (error);
      return 0;
    }
  g_assert_null (error);

  for (guint i = 0; i < accounts->len; i++)
    {
      const MsAccountData *account = accounts->pdata[i];
      g_autofree char *normalized = ms_address_normalize (account->address, NULL);

      g_assert_cmpstr (normalized, ==, account->address);
      g_assert_cmpuint (account->imap->port, >, 0);
      g_assert_cmpuint (account->smtp->port, >, 0);
    }

  text = ms_account_file_serialize (accounts);
  again = ms_account_file_parse_data (text, strlen (text), &error);
  if (again == NULL)
    g_error ("accounts read from a file cannot be read back after saving: %s\n%s",
             error->message, text);

  g_assert_cmpuint (again->len, ==, accounts->len);
  for (guint i = 0; i < accounts->len; i++)
    assert_same_account (accounts->pdata[i], again->pdata[i]);

  return 0;
}
