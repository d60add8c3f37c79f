#!/usr/bin/env python3
"""Bad calls get named errors, and the daemon survives all of them."""

import harness
from harness import ERROR_PREFIX, OBJECT_PATH, SessionTestCase

INVALID_ADDRESS = ERROR_PREFIX + "InvalidAddress"
UNKNOWN_PROVIDER = ERROR_PREFIX + "UnknownProvider"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
PROPERTIES = "org.freedesktop.DBus.Properties"

# Test method names sort so that the Ping check runs last.


class Errors(SessionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.daemon_pid = cls.session.activate()

    def test_a_invalid_addresses(self):
        long_address = "a" * (255 - len("@icloud.com")) + "@icloud.com"
        self.assertEqual(len(long_address.encode()), 255)
        for address in (
            "",
            "no-at-sign",
            "a@@b",
            "a@b@icloud.com",
            "a b@icloud.com",
            "jane\n@icloud.com",
            "jane@icloud.com\nx",
            "jane\t@icloud.com",
            "@icloud.com",
            "jane@",
            "jane@icloud.com.",
            long_address,
        ):
            with self.subTest(address=address):
                message = self.assertDBusError(INVALID_ADDRESS, "LookupProvider", "string:" + address)
                self.assertTrue(message.strip())

    def test_a_longest_address(self):
        address = "a" * (254 - len("@icloud.com")) + "@icloud.com"
        reply = self.s.call("LookupProvider", "s", address)
        self.assertEqual(reply["data"][0]["address"]["data"], address)

    def test_a_unknown_provider(self):
        message = self.assertDBusError(UNKNOWN_PROVIDER, "LookupProvider", "string:jane@example.org")
        self.assertIn("example.org", message)
        message = self.assertDBusError(UNKNOWN_PROVIDER, "LookupProvider", "string:jane@Example.ORG")
        self.assertIn("example.org", message)

    def test_b_wrong_signatures(self):
        for args in (
            ["int32:5"],
            ["string:jane@icloud.com", "string:jane@icloud.com"],
            [],
            ["array:string:jane@icloud.com"],
            ["objpath:/jane"],
        ):
            with self.subTest(args=args):
                self.assertDBusError(INVALID_ARGS, "LookupProvider", *args)

    def test_b_busctl_wrong_signature(self):
        with self.assertRaises(harness.DBusCallError):
            self.s.call("LookupProvider", "i", "5")

    def test_c_unknown_method_interface_object(self):
        self.assertDBusError("org.freedesktop.DBus.Error.UnknownMethod", "NoSuchMethod")
        self.assertDBusError(
            "org.freedesktop.DBus.Error.UnknownInterface",
            "LookupProvider", "string:jane@icloud.com", interface="org.example.Nope",
        )
        self.assertDBusError(
            "org.freedesktop.DBus.Error.UnknownObject",
            "LookupProvider", "string:jane@icloud.com", path=OBJECT_PATH + "/nope",
        )

    def test_d_properties_errors(self):
        manager = "string:" + harness.MANAGER_IFACE
        self.assertDBusError(
            "org.freedesktop.DBus.Error.UnknownProperty",
            "Get", manager, "string:NoSuchProperty", interface=PROPERTIES,
        )
        self.assertDBusError(
            "org.freedesktop.DBus.Error.UnknownProperty",
            "Set", manager, "string:NoSuchProperty", "variant:string:x", interface=PROPERTIES,
        )
        self.assertDBusError(
            "org.freedesktop.DBus.Error.PropertyReadOnly",
            "Set", manager, "string:Version", "variant:string:9.9",
            interface=PROPERTIES,
        )
        self.assertDBusError(
            "org.freedesktop.DBus.Error.UnknownInterface",
            "Get", "string:org.example.Nope", "string:Version", interface=PROPERTIES,
        )
        self.assertDBusError(INVALID_ARGS, "Get", "int32:1", interface=PROPERTIES)
        self.assertDBusError(INVALID_ARGS, "GetAll", interface=PROPERTIES)

    def test_z_still_answers_and_same_process(self):
        reply = self.s.call("Ping", interface="org.freedesktop.DBus.Peer")
        self.assertIsNone(reply)
        self.assertEqual(self.s.name_owner_pid(), self.daemon_pid, "the daemon was restarted")
        self.s.call("LookupProvider", "s", "jane@icloud.com")


if __name__ == "__main__":
    harness.main()
