#!/usr/bin/env python3
"""GDBus, a second D-Bus implementation, talks to the daemon too."""

import harness
from harness import BUS_NAME, MANAGER_IFACE, OBJECT_PATH, SessionTestCase

COMMON = ["--session", "--dest", BUS_NAME, "--object-path", OBJECT_PATH]


class GDBus(SessionTestCase):
    def test_lookup_provider(self):
        r = self.s.gdbus("call", *COMMON, "--method", MANAGER_IFACE + ".LookupProvider", "jane@icloud.com")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("'imap-host': <'imap.mail.me.com'>", r.stdout)
        self.assertIn("'imap-port': <uint16 993>", r.stdout)
        self.assertIn("'smtp-port': <uint16 587>", r.stdout)
        self.assertIn("'imap-username-candidates': <['jane@icloud.com', 'jane']>", r.stdout)

    def test_error_names(self):
        r = self.s.gdbus("call", *COMMON, "--method", MANAGER_IFACE + ".LookupProvider", "jane@example.org")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("GDBus.Error:org.mailsetup.MailSetup1.Error.UnknownProvider", r.stderr)
        self.assertIn("example.org", r.stderr)

    def test_introspect(self):
        r = self.s.gdbus("introspect", *COMMON)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("interface " + MANAGER_IFACE, r.stdout)
        self.assertIn("LookupProvider(in  s address,", r.stdout)
        self.assertRegex(r.stdout, r"readonly s Version = '[^']+';")

    def test_property(self):
        r = self.s.gdbus(
            "call", *COMMON, "--method", "org.freedesktop.DBus.Properties.Get", MANAGER_IFACE, "Version"
        )
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), f"(<'{self.paths.version}'>,)")


if __name__ == "__main__":
    harness.main()
