#!/usr/bin/env python3
"""ValidateCredentials against a real Dovecot standing in for iCloud: the
report, wrong passwords, the SMTP fallback to implicit TLS and why the
report says it was used, what a failure's message says (the ports, the
advice for a blocked SMTP), user names, Progress signals, and the password
checks made before any network."""

import hashlib
import json
import ssl
import threading
import time

import harness
from components import (
    ERROR,
    PASSWORD,
    DovecotServer,
    FaultServers,
    ProviderOverride,
    SignalMonitor,
    TestCertificates,
    ensure_daemon_answers,
    validate,
    validate_error,
)
from harness import SessionTestCase

OK = "ok"
AUTH_FAILED = ERROR + "AuthenticationFailed"
INVALID_PASSWORD = ERROR + "InvalidPassword"
CONNECTION_FAILED = ERROR + "ConnectionFailed"
TIMEOUT = ERROR + "Timeout"
CANCELLED = ERROR + "Cancelled"
# RFC 6761: never resolves, whatever the name server.
UNRESOLVABLE = "no-such-host.invalid"
# The advice of Apple's help when sending fails.
SMTP_ADVICE = r"(?i)internet providers? block outgoing mail.*port 465"
PROGRESS_MATCH = "type='signal',interface='org.mailsetup.MailSetup1.Manager',member='Progress'"
STAGES = {"connecting", "tls", "greeting", "authenticating", "done"}


def sha256_fingerprint(pem_path):
    with open(pem_path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


class ValidateDovecot(SessionTestCase):
    certs = TestCertificates()
    dovecot = DovecotServer()
    faults = FaultServers()
    override = ProviderOverride(dovecot=dovecot)
    components = [certs, dovecot, faults, override]

    def setUp(self):
        # Every test starts from iCloud = Dovecot (a no-op when unchanged).
        p = self.dovecot.ports
        self.override.write(self.s, imap=p["imaps"], smtp=[p["submission"], p["submissions"]])

    def tearDown(self):
        # A stuck daemon fails the test that got it stuck, not the next one.
        ensure_daemon_answers(self.s)

    def assertAttempts(self, attempts, expected):
        """@expected: [(port, outcome, username or None for any)], in order."""
        got = [(a["port"], a["outcome"], a["username"]) for a in attempts]
        want = [(port, outcome, user if user is not None else (got[i][2] if i < len(got) else None))
                for i, (port, outcome, user) in enumerate(expected)]
        self.assertEqual(got, want, json.dumps(attempts, indent=1))

    # -- success --------------------------------------------------------------

    def test_success_full_report(self):
        p = self.dovecot.ports
        report = validate(self.s, "jane@icloud.com", PASSWORD, timeout_ms=15000, operation_id="op-full-report")
        text = json.dumps(report)
        self.assertNotIn(PASSWORD, text)

        # The settings that worked, at the top level.
        self.assertEqual(report["operation"], "op-full-report")
        self.assertEqual(report["address"], "jane@icloud.com")
        self.assertEqual(report["provider"], "icloud.com")
        self.assertEqual(report["imap-host"], "127.0.0.1")
        self.assertEqual(report["imap-port"], p["imaps"])
        self.assertEqual(report["imap-security"], "tls")
        self.assertEqual(report["imap-username"], "jane@icloud.com")
        self.assertEqual(report["smtp-host"], "127.0.0.1")
        self.assertEqual(report["smtp-port"], p["submission"])
        self.assertEqual(report["smtp-security"], "starttls")
        self.assertEqual(report["smtp-username"], "jane@icloud.com")
        self.assertEqual(report["smtp-max-message-size"], 20971520)
        self.assertEqual(report["password-kind"], "app-specific")
        self.assertIsInstance(report["elapsed-ms"], int)
        self.assertLess(report["elapsed-ms"], 15000)

        fingerprint = sha256_fingerprint(self.certs.paths["good"])
        for protocol, port, security in (
            ("imap", p["imaps"], "tls"),
            ("smtp", p["submission"], "starttls"),
        ):
            with self.subTest(protocol=protocol):
                r = report[protocol]
                self.assertEqual(r["host"], "127.0.0.1")
                self.assertEqual(r["port"], port)
                self.assertEqual(r["security"], security)
                self.assertEqual(r["username"], "jane@icloud.com")
                self.assertIn(r["mechanism"], ("LOGIN", "PLAIN"))
                self.assertIn(r["tls-version"], ("TLSv1.2", "TLSv1.3"))
                self.assertTrue(r["tls-cipher"])
                self.assertEqual(r["certificate-subject"], "CN=localhost")
                self.assertEqual(r["certificate-issuer"], "CN=mailsetup test CA")
                self.assertEqual(r["certificate-sha256"], fingerprint)
                self.assertGreater(r["certificate-expires"], time.time())
                self.assertIsInstance(r["elapsed-ms"], int)
                self.assertEqual(len(r["attempts"]), 1, r["attempts"])
                attempt = r["attempts"][0]
                self.assertEqual(attempt["outcome"], OK)
                self.assertEqual((attempt["host"], attempt["port"], attempt["username"]),
                                 ("127.0.0.1", port, "jane@icloud.com"))

    def test_user_known_by_full_address(self):
        report = validate(self.s, "jane@icloud.com", PASSWORD)
        self.assertEqual(report["imap-username"], "jane@icloud.com")
        self.assertEqual(report["smtp-username"], "jane@icloud.com")
        self.assertAttempts(report["imap"]["attempts"], [(self.dovecot.ports["imaps"], OK, "jane@icloud.com")])

    def test_user_known_by_local_part(self):
        # Dovecot knows "john" only: the full address fails first, then the
        # local part works on a fresh connection; SMTP follows IMAP's name.
        p = self.dovecot.ports
        report = validate(self.s, "john@icloud.com", PASSWORD)
        self.assertEqual(report["imap-username"], "john")
        self.assertEqual(report["imap"]["username"], "john")
        self.assertEqual(report["smtp-username"], "john")
        self.assertAttempts(
            report["imap"]["attempts"],
            [(p["imaps"], AUTH_FAILED, "john@icloud.com"), (p["imaps"], OK, "john")],
        )
        self.assertEqual(report["smtp"]["attempts"][-1]["outcome"], OK)
        self.assertEqual(report["smtp"]["attempts"][-1]["username"], "john")

    def test_user_known_by_local_part_with_slow_servers(self):
        # The same with slow greetings: 587 greets after 0.4 s (so 465 joins
        # after the 300 ms head start), IMAP after 0.6 s.  Both SMTP ports
        # refuse the full address before IMAP has tried its second user
        # name; that must not use up the failed-login allowance so that the
        # right user name is never tried and a good password is reported
        # as wrong.
        p = self.dovecot.ports
        imap = self.faults.delay_proxy(p["imaps"], 0.6)
        smtp = self.faults.delay_proxy(p["submission"], 0.4)
        self.override.write(self.s, imap=imap.port, smtp=[smtp.port, p["submissions"]])
        report = validate(self.s, "john@icloud.com", PASSWORD)
        self.assertEqual(report["imap-username"], "john")
        self.assertEqual(report["smtp-username"], "john")

    def test_many_validations_at_once(self):
        results = {}

        def one(i):
            address = "jane@icloud.com" if i % 2 else "john@icloud.com"
            try:
                results[i] = validate(self.s, address, PASSWORD, operation_id=f"op-many-{i}")
            except Exception as e:  # reported below
                results[i] = e

        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for i in range(6):
            with self.subTest(i=i):
                self.assertIsInstance(results.get(i), dict, results.get(i))
                self.assertEqual(results[i]["operation"], f"op-many-{i}")
                self.assertEqual(results[i]["imap-username"], "jane@icloud.com" if i % 2 else "john")

    # -- wrong passwords ------------------------------------------------------

    def test_wrong_password(self):
        # Not of the xxxx-xxxx-xxxx-xxxx form: says so, and what to do.
        name, message = validate_error(self.s, "jane@icloud.com", "my-apple-id-password")
        self.assertEqual(name, AUTH_FAILED, message)
        self.assertIn("app-specific password", message)
        self.assertIn("since 2017", message)
        self.assertIn("two-factor authentication", message)
        self.assertIn("account.apple.com", message)
        self.assertIn("xxxx-xxxx-xxxx-xxxx", message)
        self.assertIn("Also tried", message)
        self.assertNotIn("my-apple-id-password", message)

    def test_wrong_app_specific_password(self):
        # Of the right form but wrong: still names the app-specific password.
        name, message = validate_error(self.s, "jane@icloud.com", "wxyz-wxyz-wxyz-wxyz")
        self.assertEqual(name, AUTH_FAILED, message)
        self.assertIn("app-specific password", message)
        self.assertIn("jane@icloud.com", message)
        self.assertNotIn("wxyz-wxyz-wxyz-wxyz", message)

    # -- SMTP fallback --------------------------------------------------------

    def test_starttls_listener_closed(self):
        # Nothing listens on the 587-style port: 465-style implicit TLS wins.
        p = self.dovecot.ports
        closed = self.faults.refused_port()
        self.override.write(self.s, smtp=[closed, p["submissions"]])
        report = validate(self.s, "jane@icloud.com", PASSWORD)
        self.assertEqual(report["smtp-port"], p["submissions"])
        self.assertEqual(report["smtp-security"], "tls")
        self.assertEqual(report["smtp"]["port"], p["submissions"])
        self.assertEqual(report["smtp"]["security"], "tls")
        self.assertEqual(report["smtp-max-message-size"], 20971520)
        attempts = report["smtp"]["attempts"]
        self.assertAttempts(attempts, [(closed, CONNECTION_FAILED, None), (p["submissions"], OK, None)])
        self.assertIn(str(closed), attempts[0]["message"])
        self.assertEqual(report["imap"]["attempts"][0]["outcome"], OK)
        # Why 465 was used: 587 failed.
        self.assertEqual([a["started-because"] for a in attempts], ["first", "previous-failed"])
        self.assertEqual(report["smtp"]["started-because"], "previous-failed")
        self.assertIn(f"port {closed} failed", report["smtp"]["reason"])
        self.assertIn(f"port {p['submissions']} was tried", report["smtp"]["reason"])
        self.assertEqual(report["imap"]["started-because"], "first")
        self.assertNotIn("reason", report["imap"])

    def test_silent_starttls_port_gives_way_to_465(self):
        # The 587-style port accepts but never greets: after the head start
        # (300 ms) the 465-style port is tried alongside, and wins long
        # before the deadline.
        p = self.dovecot.ports
        silent = self.faults.start_server("smtp-silent")
        self.override.write(self.s, smtp=[silent.port, p["submissions"]])
        started = time.monotonic()
        report = validate(self.s, "jane@icloud.com", PASSWORD, timeout_ms=8000)
        elapsed = time.monotonic() - started
        smtp = report["smtp"]
        self.assertEqual(report["smtp-port"], p["submissions"], json.dumps(smtp, indent=1))
        self.assertLess(elapsed, 5, "465 was not tried until 587 timed out")
        # The report says why 465 was used: 587 had not answered within
        # the head start; 587 itself was dropped once 465 signed in.
        self.assertEqual(smtp["started-because"], "head-start-over", json.dumps(smtp, indent=1))
        self.assertIn(f"port {silent.port} had not answered within 300 ms", smtp["reason"])
        self.assertIn(f"port {p['submissions']} was tried alongside it", smtp["reason"])
        attempts = smtp["attempts"]
        self.assertAttempts(attempts, [(silent.port, CANCELLED, None), (p["submissions"], OK, None)])
        self.assertEqual([a["started-because"] for a in attempts], ["first", "head-start-over"])
        self.assertNotIn("reason", attempts[0])
        self.assertEqual(attempts[1]["reason"], smtp["reason"])

    # -- what every failure says -------------------------------------------------

    def test_connection_refused_everywhere(self):
        # IMAP's refusal comes first among errors of equal rank, yet SMTP
        # never got through either: the ISP-block advice must still be there.
        imap, smtp, smtps = (self.faults.refused_port() for _ in range(3))
        self.override.write(self.s, imap=imap, smtp=[smtp, smtps])
        name, message = validate_error(self.s, "jane@icloud.com", PASSWORD, timeout_ms=5000)
        self.assertEqual(name, CONNECTION_FAILED, message)
        for port in (imap, smtp, smtps):
            self.assertIn(f"port {port}", message)
        self.assertRegex(message, SMTP_ADVICE)
        # After the list that names the SMTP ports, not inside IMAP's part.
        self.assertGreater(message.index("Internet providers"), message.index(f"port {smtps}"))

    def test_wrong_password_with_smtp_blocked(self):
        # The refused password is the error, and the advice for a blocked
        # SMTP comes with it.
        smtp, smtps = self.faults.refused_port(), self.faults.refused_port()
        self.override.write(self.s, smtp=[smtp, smtps])
        name, message = validate_error(self.s, "jane@icloud.com", "wxyz-wxyz-wxyz-wxyz", timeout_ms=5000)
        self.assertEqual(name, AUTH_FAILED, message)
        self.assertIn("app-specific password", message)
        self.assertRegex(message, SMTP_ADVICE)

    def test_smtp_works_no_smtp_advice(self):
        # IMAP refused, SMTP fine: no word about blocked SMTP.
        self.override.write(self.s, imap=self.faults.refused_port())
        name, message = validate_error(self.s, "jane@icloud.com", PASSWORD, timeout_ms=5000)
        self.assertEqual(name, CONNECTION_FAILED, message)
        self.assertNotRegex(message, SMTP_ADVICE)

    def test_unresolvable_smtp_host_names_each_port(self):
        # Both SMTP endpoints on a name that never resolves: each line says
        # which port it was about, so the two do not read the same.
        self.override.write(self.s, smtp=[(UNRESOLVABLE, 1587), (UNRESOLVABLE, 1465)])
        name, message = validate_error(self.s, "jane@icloud.com", PASSWORD, timeout_ms=5000)
        # Without a name server that answers, the lookup may time out.
        self.assertIn(name, (CONNECTION_FAILED, TIMEOUT), message)
        smtp_parts = [message.split("\n", 1)[0]] + [
            line for line in message.splitlines() if line.startswith("• SMTP:")
        ]
        self.assertEqual(len(smtp_parts), 2, message)
        for part, port in zip(smtp_parts, (1587, 1465)):
            self.assertIn(UNRESOLVABLE, part, message)
            self.assertIn(f"port {port}", part, message)
        self.assertRegex(message, SMTP_ADVICE)

    # -- Progress -------------------------------------------------------------

    def progress_of(self, monitor, operation, count_done=2, timeout=10):
        """The (protocol, stage) pairs of @operation, once both protocols
        said "done"."""

        def pairs():
            return [(a[1], a[2]) for _, _, a in monitor.signals("Progress") if a[0] == operation]

        deadline = time.monotonic() + timeout
        while sum(1 for _, stage in pairs() if stage == "done") < count_done:
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        return pairs()

    def test_progress_signals(self):
        self.s.activate()
        monitor = SignalMonitor(self.s, PROGRESS_MATCH)
        try:
            validate(self.s, "jane@icloud.com", PASSWORD, operation_id="op-progress")
            signals = self.progress_of(monitor, "op-progress")
            for sig in monitor.signals("Progress"):
                self.assertEqual(sig[1], harness.OBJECT_PATH)
                self.assertEqual(len(sig[2]), 3, sig)
                self.assertNotIn(PASSWORD, " ".join(sig[2]))
        finally:
            monitor.stop()
        for protocol in ("imap", "smtp"):
            with self.subTest(protocol=protocol):
                stages = [stage for proto, stage in signals if proto == protocol]
                self.assertTrue(set(stages) <= STAGES, stages)
                self.assertEqual(stages[0], "connecting", stages)
                self.assertEqual(stages[-1], "done", stages)
                for stage in ("tls", "greeting", "authenticating"):
                    self.assertIn(stage, stages)
                self.assertLess(stages.index("authenticating"), stages.index("done"))
                self.assertLess(stages.index("tls"), stages.index("authenticating"))

    def test_progress_without_operation_id(self):
        self.s.activate()
        monitor = SignalMonitor(self.s, PROGRESS_MATCH)
        try:
            report = validate(self.s, "jane@icloud.com", PASSWORD)
            operation = report["operation"]
            self.assertTrue(operation)
            signals = self.progress_of(monitor, operation)
        finally:
            monitor.stop()
        self.assertIn(("imap", "done"), signals)
        self.assertIn(("smtp", "done"), signals)

    # -- password checks before any network ------------------------------------

    def test_invalid_password_before_network(self):
        imap = self.faults.start_server("imap-icloud")
        smtp = self.faults.start_server("smtp-starttls-ok")
        smtps = self.faults.start_server("smtps-ok")
        self.override.write(self.s, imap=imap.port, smtp=[smtp.port, smtps.port])
        for label, password in (
            ("empty", ""),
            ("newline inside", "abcd-efgh\nijkl-mnop"),
            ("trailing newline", PASSWORD + "\n"),
            ("carriage return", PASSWORD + "\r"),
            ("tab", "abcd\tefgh"),
            ("escape", "abcd\x1befgh"),
            ("delete", "abcd\x7fefgh"),
            ("1025 bytes", "a" * 1025),
            ("1026 bytes in 513 characters", "\u00e9" * 513),
        ):
            with self.subTest(label):
                name, message = validate_error(self.s, "jane@icloud.com", password)
                self.assertEqual(name, INVALID_PASSWORD, message)
                self.assertTrue(message.strip())
        for fs in (imap, smtp, smtps):
            self.assertEqual(fs.accepted, 0, f"{fs.scenario} was contacted: {fs.recorded()!r}")

        # 1024 bytes is allowed, and goes to the servers (which refuse it).
        name, message = validate_error(self.s, "jane@icloud.com", "a" * 1024)
        self.assertEqual(name, AUTH_FAILED, message)
        self.assertGreater(imap.accepted, 0)


if __name__ == "__main__":
    harness.main()
