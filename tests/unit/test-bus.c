/* test-bus.c: the generic pieces of the bus layer that need no bus
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib.h>

#include "bus-service.h"
#include "bus-variant.h"

/* Clients compute account paths themselves, so the escaping must match
 * systemd's sd_bus_path_encode() byte for byte. */
static void
test_path_escape (void)
{
  static const struct {
    const char *text;
    const char *escaped;
  } cases[] = {
    { "jane@icloud.com", "jane_40icloud_2ecom" },
    { "Jane.Doe@me.com", "Jane_2eDoe_40me_2ecom" },
    { "", "_" },
    { "1st@mac.com", "_31st_40mac_2ecom" },
    { "a1", "a1" },
    { "_", "_5f" },
    { "é", "_c3_a9" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *escaped = bus_path_escape (cases[i].text);

      g_autofree char *path = g_strconcat ("/x/", escaped, NULL);

      g_assert_cmpstr (escaped, ==, cases[i].escaped);
      g_assert_true (g_variant_is_object_path (path));
    }
}

static void
round_trip (const char *text)
{
  g_autoptr(GVariant) value = g_variant_ref_sink (g_variant_new_parsed (text));
  g_autoptr(GVariant) back = NULL;
  g_autoptr(GError) error = NULL;
  DBusMessage *message = dbus_message_new_method_call ("org.example", "/", "org.example", "M");

  g_assert_true (bus_message_append_body (message, value));
  back = bus_message_get_body (message, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (value, back));
  dbus_message_unref (message);
}

static void
test_variant_round_trip (void)
{
  round_trip ("@() ()");
  round_trip ("('jane@icloud.com',)");
  round_trip ("(byte 0x7f, true, int16 -3, uint16 993, -5, uint32 7, int64 -9, uint64 9, 2.5)");
  round_trip ("(objectpath '/org/mailsetup/MailSetup1', signature 'a{sv}')");
  round_trip ("({'imap-port': <uint16 993>, 'names': <['a', 'b']>, 'nested': <<'x'>>},)");
  round_trip ("(@aa{sv} [{'host': <'smtp.mail.me.com'>, 'port': <uint16 465>}], @as [])");
  round_trip ("(@a{oa{sa{sv}}} {'/a': {'org.x': {'P': <1>}}},)");
  round_trip ("((1, ('deep', [1, 2, 3])), @ay [0x00, 0xff])");
}

int
main (int argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/bus/path-escape", test_path_escape);
  g_test_add_func ("/bus/variant-round-trip", test_variant_round_trip);

  return g_test_run ();
}
