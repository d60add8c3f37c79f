/* test-address.c: checking and normalising mail addresses
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "address.h"
#include "mailsetup-error.h"

static void
assert_normalizes (const char *input,
                   const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *result = ms_address_normalize (input, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (result, ==, expected);
}

/* Checks that @input is rejected and that the message says why. */
static void
assert_rejects (const char *input,
                const char *expected_in_message)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *result = ms_address_normalize (input, &error);

  g_assert_null (result);
  g_assert_error (error, MS_ERROR, MS_ERROR_INVALID_ADDRESS);
  if (strstr (error->message, expected_in_message) == NULL)
    g_error ("message “%s” lacks “%s”", error->message, expected_in_message);
}

static void
test_valid (void)
{
  assert_normalizes ("jane@icloud.com", "jane@icloud.com");
  assert_normalizes ("jane.doe+mail@me.com", "jane.doe+mail@me.com");
  assert_normalizes ("j@mac.com", "j@mac.com");
  assert_normalizes ("jane@mail-1.example.org", "jane@mail-1.example.org");
  assert_normalizes ("jane@localhost", "jane@localhost");
  assert_normalizes ("josé@bücher.example", "josé@bücher.example");
}

static void
test_domain_lowered (void)
{
  assert_normalizes ("jane@ICLOUD.COM", "jane@icloud.com");
  assert_normalizes ("jane@iCloud.Com", "jane@icloud.com");
  assert_normalizes ("jane@BÜCHER.example", "jane@bücher.example");
}

static void
test_local_case_kept (void)
{
  assert_normalizes ("Jane.Doe@iCloud.com", "Jane.Doe@icloud.com");
}

static void
test_trimmed (void)
{
  assert_normalizes ("  jane@icloud.com", "jane@icloud.com");
  assert_normalizes ("jane@icloud.com  ", "jane@icloud.com");
  assert_normalizes ("\t jane@icloud.com\r\n", "jane@icloud.com");
}

static void
test_at_count (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *result = ms_address_normalize ("jane@@icloud.com", &error);

  g_assert_null (result);
  g_assert_error (error, MS_ERROR, MS_ERROR_INVALID_ADDRESS);
  g_assert_cmpstr (error->message, ==,
                   "“jane@@icloud.com” is not a mail address: "
                   "it has more than one “@”.");

  assert_rejects ("jane@icloud.com@me.com", "more than one “@”");
  assert_rejects ("jane.icloud.com", "no “@”");
}

static void
test_empty_parts (void)
{
  assert_rejects ("", "No mail address");
  assert_rejects ("   ", "No mail address");
  assert_rejects ("@icloud.com", "nothing before the “@”");
  assert_rejects ("jane@", "nothing after the “@”");
  assert_rejects ("@", "nothing before the “@”");
}

static void
test_spaces (void)
{
  assert_rejects ("jane doe@icloud.com", "space");
  assert_rejects ("jane@icloud .com", "space");
  /* U+00A0 NO-BREAK SPACE, as pasted from a web page */
  assert_rejects ("jane\xc2\xa0@icloud.com", "space");
}

static void
test_control_characters (void)
{
  assert_rejects ("jane\n@icloud.com", "control character");
  assert_rejects ("jane@icloud.com\nRCPT TO:<x@y.z>", "control character");
  assert_rejects ("jane\t@icloud.com", "control character");
  assert_rejects ("ja\x01ne@icloud.com", "control character");
  assert_rejects ("jane@icloud\x7f.com", "control character");
  /* U+0085, a C1 control */
  assert_rejects ("jane\xc2\x85@icloud.com", "control character");
  /* The message shows the character escaped, not a raw line break. */
  assert_rejects ("jane\n@icloud.com", "“jane\\n@icloud.com”");
}

static void
test_length (void)
{
  /* 254 bytes: a 244-byte local part, "@", "icloud.com" */
  g_autofree char *local_254 = g_strnfill (254 - 11, 'a');
  g_autofree char *local_255 = g_strnfill (255 - 11, 'a');
  g_autofree char *ok = g_strconcat (local_254, "@icloud.com", NULL);
  g_autofree char *too_long = g_strconcat (local_255, "@icloud.com", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *result = NULL;

  g_assert_cmpuint (strlen (ok), ==, 254);
  g_assert_cmpuint (strlen (too_long), ==, 255);

  assert_normalizes (ok, ok);

  result = ms_address_normalize (too_long, &error);
  g_assert_null (result);
  g_assert_error (error, MS_ERROR, MS_ERROR_INVALID_ADDRESS);
  g_assert_nonnull (strstr (error->message, "longer than 254 bytes"));
  /* The quoted address is cut short. */
  g_assert_nonnull (strstr (error->message, "…"));
  g_assert_cmpuint (strlen (error->message), <, 200);
}

static void
test_bad_domains (void)
{
  assert_rejects ("jane@.icloud.com", "starts with a dot");
  assert_rejects ("jane@icloud.com.", "ends with a dot");
  assert_rejects ("jane@icloud..com", "two dots in a row");
  assert_rejects ("jane@-icloud.com", "starts or ends with a hyphen");
  assert_rejects ("jane@icloud-.com", "“icloud-” starts or ends");
  assert_rejects ("jane@icloud.com-", "starts or ends with a hyphen");
  assert_rejects ("jane@icl_oud.com", "“_”");
  assert_rejects ("jane@icloud!.com", "“!”");
  assert_rejects ("jane@[192.0.2.1]", "“[”");
  assert_rejects ("jane@.", "starts with a dot");
}

static void
test_long_label (void)
{
  g_autofree char *label_63 = g_strnfill (63, 'a');
  g_autofree char *label_64 = g_strnfill (64, 'a');
  g_autofree char *ok = g_strconcat ("jane@", label_63, ".com", NULL);
  g_autofree char *bad = g_strconcat ("jane@", label_64, ".com", NULL);

  assert_normalizes (ok, ok);
  assert_rejects (bad, "longer than 63 characters");
}

static void
test_invalid_utf8 (void)
{
  assert_rejects ("jane\xff@icloud.com", "not valid UTF-8");
  assert_rejects ("jane@icloud.com\xc3", "not valid UTF-8");
}

static void
test_parts (void)
{
  g_autofree char *local = ms_address_dup_local_part ("Jane@icloud.com");

  g_assert_cmpstr (local, ==, "Jane");
  g_assert_cmpstr (ms_address_get_domain ("Jane@icloud.com"), ==,
                   "icloud.com");
}

int
main (int argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/address/valid", test_valid);
  g_test_add_func ("/address/domain-lowered", test_domain_lowered);
  g_test_add_func ("/address/local-case-kept", test_local_case_kept);
  g_test_add_func ("/address/trimmed", test_trimmed);
  g_test_add_func ("/address/at-count", test_at_count);
  g_test_add_func ("/address/empty-parts", test_empty_parts);
  g_test_add_func ("/address/spaces", test_spaces);
  g_test_add_func ("/address/control-characters", test_control_characters);
  g_test_add_func ("/address/length", test_length);
  g_test_add_func ("/address/bad-domains", test_bad_domains);
  g_test_add_func ("/address/long-label", test_long_label);
  g_test_add_func ("/address/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/address/parts", test_parts);

  return g_test_run ();
}
