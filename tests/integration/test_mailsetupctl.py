#!/usr/bin/env python3
"""mailsetupctl: output for people and scripts, and its exit codes."""

import json
import os
import tempfile

import harness
from harness import SessionTestCase

EXIT_OK, EXIT_OTHER, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
EXIT_INVALID_ADDRESS, EXIT_UNKNOWN_PROVIDER = 10, 12


class Mailsetupctl(SessionTestCase):
    def ctl(self, *args, **kw):
        return self.s.run([self.paths.mailsetupctl] + list(args), **kw)

    def test_lookup_for_people(self):
        r = self.ctl("lookup", "jane@icloud.com")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        for text in ("imap.mail.me.com", "993", "smtp.mail.me.com", "587", "465",
                     "jane@icloud.com", "app-specific"):
            self.assertIn(text, r.stdout)
        self.assertEqual(r.stderr, "")

    def test_lookup_json(self):
        r = self.ctl("--json", "lookup", "  Jane@ICLOUD.com")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        settings = json.loads(r.stdout)
        self.assertEqual(settings["address"], "Jane@icloud.com")
        self.assertEqual(settings["imap-host"], "imap.mail.me.com")
        self.assertEqual(settings["imap-port"], 993)
        self.assertEqual(settings["imap-security"], "tls")
        self.assertEqual(settings["imap-username-candidates"], ["Jane@icloud.com", "Jane"])
        self.assertEqual(settings["smtp-host"], "smtp.mail.me.com")
        self.assertEqual(settings["smtp-port"], 587)
        self.assertEqual(settings["smtp-security"], "starttls")
        self.assertEqual(settings["smtp-alternatives"][0]["port"], 465)
        self.assertEqual(settings["password-kind"], "app-specific")
        for key in ("provider", "display-name", "imap-username", "smtp-username",
                    "password-hint", "documentation-url"):
            self.assertIn(key, settings)

    def test_invalid_address(self):
        r = self.ctl("lookup", "no-at-sign")
        self.assertEqual(r.returncode, EXIT_INVALID_ADDRESS, r.stdout + r.stderr)
        self.assertIn("no-at-sign", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_invalid_address_json(self):
        # Scripts get the error as JSON on stdout; people still see stderr.
        r = self.ctl("--json", "lookup", "a b@icloud.com")
        self.assertEqual(r.returncode, EXIT_INVALID_ADDRESS, r.stdout + r.stderr)
        self.assertTrue(r.stderr.strip())
        if r.stdout.strip():
            error = json.loads(r.stdout)
            self.assertEqual(error["error"], "org.mailsetup.MailSetup1.Error.InvalidAddress")
            self.assertTrue(error["message"])

    def test_unknown_provider(self):
        r = self.ctl("lookup", "jane@example.org")
        self.assertEqual(r.returncode, EXIT_UNKNOWN_PROVIDER, r.stdout + r.stderr)
        self.assertIn("example.org", r.stderr)

    def test_no_bus(self):
        with tempfile.TemporaryDirectory() as tmp:
            dead = "unix:path=" + os.path.join(tmp, "no-bus-here")
            r = self.ctl("lookup", "jane@icloud.com", env={"DBUS_SESSION_BUS_ADDRESS": dead})
        self.assertEqual(r.returncode, EXIT_UNREACHABLE, r.stdout + r.stderr)
        self.assertTrue(r.stderr.strip())

    def test_no_daemon_on_the_bus(self):
        with tempfile.TemporaryDirectory() as empty:
            paths = harness.Paths()
            paths.dbus_services_dir = empty
            s = self.new_session(paths=paths)
            r = s.run([self.paths.mailsetupctl, "lookup", "jane@icloud.com"])
        self.assertEqual(r.returncode, EXIT_UNREACHABLE, r.stdout + r.stderr)
        self.assertTrue(r.stderr.strip())

    def test_usage_errors(self):
        for args in ((), ("lookup",), ("lookup", "a@icloud.com", "extra"),
                     ("no-such-command",), ("--no-such-option", "lookup", "a@icloud.com")):
            with self.subTest(args=args):
                r = self.ctl(*args)
                self.assertEqual(r.returncode, EXIT_USAGE, r.stdout + r.stderr)
                self.assertTrue(r.stderr.strip())

    def test_login_option(self):
        # --login needs a value, and one that is not empty, before anything
        # is asked of the daemon or read from standard input.
        for args, says in ((("validate", "--login"), "--login"),
                           (("add", "--password-stdin", "a@icloud.com", "--login"), "--login"),
                           (("diagnose", "--login"), "--login"),
                           (("add", "--login=", "--password-stdin", "a@icloud.com"),
                            "--login takes the address to sign in with"),
                           (("validate", "--login", "", "--password-stdin", "a@icloud.com"),
                            "--login takes the address to sign in with"),
                           (("diagnose", "--login=", "a@icloud.com"),
                            "--login takes the address to sign in with"),
                           # Only the commands that sign in take it.
                           (("lookup", "--login=jane@icloud.com", "jane@example.org"), "--login"),
                           (("passwd", "--login=jane@icloud.com", "jane@example.org"), "--login")):
            with self.subTest(args=args):
                r = self.ctl(*args, input="not-read\n")
                self.assertEqual(r.returncode, EXIT_USAGE, r.stdout + r.stderr)
                self.assertIn(says, r.stderr)
                self.assertEqual(r.stdout, "")
        for command in ("validate", "add", "diagnose"):
            with self.subTest(command=command):
                r = self.ctl(command, "--help")
                self.assertEqual(r.returncode, EXIT_OK, r.stderr)
                self.assertRegex(r.stdout, r"--login=LOGIN\s+Sign in as LOGIN")

    def test_help(self):
        r = self.ctl("--help")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertIn("lookup", r.stdout)


if __name__ == "__main__":
    harness.main()
