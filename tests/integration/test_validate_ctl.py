#!/usr/bin/env python3
"""mailsetupctl validate against Dovecot and fault servers: what a person
and a script see, and the exit codes."""

import json
import time

import harness
from components import (
    DEADLINE_SLACK,
    PASSWORD,
    DovecotServer,
    FaultServers,
    ProviderOverride,
    TestCertificates,
)
from harness import SessionTestCase

EXIT_OK, EXIT_USAGE = 0, 2
EXIT_INVALID_PASSWORD = 11
EXIT_AUTHENTICATION_FAILED = 13
EXIT_CERTIFICATE_INVALID = 14
EXIT_CONNECTION_FAILED = 17
EXIT_TIMEOUT = 18



class ValidateCtl(SessionTestCase):
    certs = TestCertificates()
    dovecot = DovecotServer()
    faults = FaultServers()
    override = ProviderOverride(dovecot=dovecot)
    components = [certs, dovecot, faults, override]

    def setUp(self):
        p = self.dovecot.ports
        self.override.write(self.s, imap=p["imaps"], smtp=[p["submission"], p["submissions"]])

    def validate(self, address, password, *options, timeout=60):
        r = self.s.run(
            [self.paths.mailsetupctl, "validate", "--password-stdin", *options, address],
            input=password + "\n",
            timeout=timeout,
        )
        # The password is never shown back.
        if len(password) >= 4:
            self.assertNotIn(password, r.stdout + r.stderr)
        return r

    def test_success(self):
        p = self.dovecot.ports
        r = self.validate("jane@icloud.com", PASSWORD)
        self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
        for text in ("jane@icloud.com", str(p["imaps"]), str(p["submission"]), "IMAP", "SMTP", "CN=localhost"):
            self.assertIn(text, r.stdout)
        # The stages as they happened, on stderr.
        self.assertIn("IMAP", r.stderr)
        self.assertIn("SMTP", r.stderr)
        self.assertGreaterEqual(len(r.stderr.strip().splitlines()), 4, r.stderr)

    def test_success_local_part_user(self):
        r = self.validate("john@icloud.com", PASSWORD)
        self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"\bjohn\b(?!@)")

    def test_wrong_password(self):
        r = self.validate("jane@icloud.com", "wxyz-wxyz-wxyz-wxyz")
        self.assertEqual(r.returncode, EXIT_AUTHENTICATION_FAILED, r.stdout + r.stderr)
        self.assertIn("app-specific password", r.stderr)
        self.assertIn("Also tried", r.stderr)
        self.assertEqual(r.stdout.strip(), "")

    def test_json_success(self):
        p = self.dovecot.ports
        r = self.validate("jane@icloud.com", PASSWORD, "--json")
        self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
        report = json.loads(r.stdout)
        self.assertEqual(report["imap-username"], "jane@icloud.com")
        self.assertEqual(report["imap-port"], p["imaps"])
        self.assertEqual(report["smtp-port"], p["submission"])
        self.assertEqual(report["smtp-max-message-size"], 20971520)
        self.assertEqual(report["imap"]["attempts"][0]["outcome"], "ok")
        self.assertTrue(report["operation"])

    def test_json_wrong_password(self):
        r = self.validate("jane@icloud.com", "wxyz-wxyz-wxyz-wxyz", "--json")
        self.assertEqual(r.returncode, EXIT_AUTHENTICATION_FAILED, r.stdout + r.stderr)
        self.assertIn("app-specific password", r.stderr)
        if r.stdout.strip():
            error = json.loads(r.stdout)
            self.assertEqual(error["error"], harness.ERROR_PREFIX + "AuthenticationFailed")
            self.assertIn("Also tried", error["message"])

    def test_empty_password(self):
        server = self.faults.start_server("imap-icloud")
        self.override.write(self.s, imap=server.port)
        r = self.validate("jane@icloud.com", "")
        self.assertEqual(r.returncode, EXIT_INVALID_PASSWORD, r.stdout + r.stderr)
        self.assertTrue(r.stderr.strip())
        self.assertEqual(server.accepted, 0)

    def test_no_terminal_no_password_stdin(self):
        r = self.s.run([self.paths.mailsetupctl, "validate", "jane@icloud.com"], input="")
        self.assertEqual(r.returncode, EXIT_USAGE, r.stdout + r.stderr)
        self.assertIn("--password-stdin", r.stderr)

    def test_certificate_invalid(self):
        server = self.faults.start_server("imap-icloud", cert="expired")
        self.override.write(self.s, imap=server.port)
        r = self.validate("jane@icloud.com", PASSWORD)
        self.assertEqual(r.returncode, EXIT_CERTIFICATE_INVALID, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"(?i)date|clock")
        self.assertEqual(server.recorded(), "")

    def test_connection_refused(self):
        refused = [self.faults.refused_port() for _ in range(3)]
        self.override.write(self.s, imap=refused[0], smtp=refused[1:])
        r = self.validate("jane@icloud.com", PASSWORD)
        self.assertEqual(r.returncode, EXIT_CONNECTION_FAILED, r.stdout + r.stderr)
        self.assertIn(str(refused[0]), r.stderr)

    def test_timeout_option(self):
        imap = self.faults.start_server("imap-silent")
        smtp = self.faults.start_server("smtp-silent")
        smtps = self.faults.start_server("smtp-silent")
        self.override.write(self.s, imap=imap.port, smtp=[smtp.port, smtps.port])
        started = time.monotonic()
        r = self.validate("jane@icloud.com", PASSWORD, "--timeout", "2")
        elapsed = time.monotonic() - started
        self.assertEqual(r.returncode, EXIT_TIMEOUT, r.stdout + r.stderr)
        self.assertLess(elapsed, 2 + DEADLINE_SLACK)
        self.assertIn("2 seconds", r.stderr)


if __name__ == "__main__":
    harness.main()
