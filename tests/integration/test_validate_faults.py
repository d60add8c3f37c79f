#!/usr/bin/env python3
"""ValidateCredentials against scripted misbehaving servers
(tests/servers/faultserver.py), each paired with a good server (Dovecot)
for the other protocol: bad certificates, STARTTLS stripping and
injection, unavailable services, refused connections, silence, trickling,
overlong lines, hang-ups and iCloud's quirks.  The user sees the error
name and a message that says what happened, and no credentials leave
before TLS is verified."""

import time

import harness
from components import (
    DEADLINE_SLACK,
    ERROR,
    PASSWORD,
    DovecotServer,
    FaultServers,
    ProviderOverride,
    TestCertificates,
    ensure_daemon_answers,
    password_forms,
    validate,
    validate_error,
)
from harness import SessionTestCase

OK = "ok"
ADDRESS = "jane@icloud.com"



class ValidateFaults(SessionTestCase):
    certs = TestCertificates()
    dovecot = DovecotServer()
    faults = FaultServers()
    override = ProviderOverride(dovecot=dovecot)
    components = [certs, dovecot, faults, override]

    def tearDown(self):
        # A stuck daemon fails the test that got it stuck, not the next one.
        ensure_daemon_answers(self.s)

    # -- helpers ----------------------------------------------------------

    def good_imap(self):
        return self.dovecot.ports["imaps"]

    def good_smtp(self):
        return [self.dovecot.ports["submission"], self.dovecot.ports["submissions"]]

    def fault(self, scenario, **kw):
        return self.faults.start_server(scenario, **kw)

    def refused(self):
        return self.faults.refused_port()

    def expect_error(self, name, imap, smtp, address=ADDRESS, password=PASSWORD, timeout_ms=10000):
        """Points iCloud at @imap/@smtp, validates; asserts the error
        @name.  Returns (message, seconds taken)."""
        self.override.write(self.s, imap=imap, smtp=smtp)
        started = time.monotonic()
        got, message = validate_error(self.s, address, password, timeout_ms=timeout_ms)
        elapsed = time.monotonic() - started
        self.assertEqual(got, ERROR + name, message)
        return message, elapsed

    def expect_success(self, imap, smtp, address=ADDRESS, timeout_ms=10000):
        self.override.write(self.s, imap=imap, smtp=smtp)
        return validate(self.s, address, PASSWORD, timeout_ms=timeout_ms)

    def assertNoCredentials(self, server, user=ADDRESS):
        text = server.recorded()
        for form in password_forms(user, PASSWORD):
            self.assertNotIn(form, text, f"{server.scenario} saw credentials")
        for line in text.splitlines():
            words = line.upper().split()
            self.assertFalse(words[:1] == ["AUTH"] or "LOGIN" in words[1:2] or "AUTHENTICATE" in words[1:2],
                             f"{server.scenario} got a login: {line!r}")

    # -- certificates -----------------------------------------------------

    def imap_certificate(self, cert):
        server = self.fault("imap-icloud", cert=cert)
        message, _ = self.expect_error("CertificateInvalid", server.port, self.good_smtp())
        self.assertEqual(server.recorded(), "", "the client sent something over an unverified connection")
        self.assertNoCredentials(server)
        self.assertIn(str(server.port), message)
        self.assertIn("password was not sent", message)
        return message

    def test_certificate_self_signed(self):
        message = self.imap_certificate("selfsigned")
        self.assertRegex(message, r"(?i)self-signed|not trusted|trust")

    def test_certificate_expired(self):
        message = self.imap_certificate("expired")
        self.assertRegex(message, r"(?i)expired")
        self.assertRegex(message, r"(?i)date|clock")

    def test_certificate_not_yet_valid(self):
        message = self.imap_certificate("notyet")
        self.assertRegex(message, r"(?i)date|clock")

    def test_certificate_wrong_host(self):
        message = self.imap_certificate("wronghost")
        self.assertIn("wrong.example", message)
        self.assertIn("127.0.0.1", message)

    def test_certificate_smtp_after_starttls(self):
        # The same check after STARTTLS, on both SMTP endpoints.
        starttls = self.fault("smtp-starttls-ok", cert="expired")
        implicit = self.fault("smtps-ok", cert="selfsigned")
        message, _ = self.expect_error("CertificateInvalid", self.good_imap(), [starttls.port, implicit.port])
        self.assertNoCredentials(starttls)
        self.assertNoCredentials(implicit)
        self.assertEqual(implicit.recorded(), "")
        self.assertIn("Also tried", message)

    # -- STARTTLS ---------------------------------------------------------

    def test_starttls_not_offered(self):
        stripped = self.fault("smtp-no-starttls")
        message, _ = self.expect_error("StartTlsUnavailable", self.good_imap(), [stripped.port, self.refused()])
        self.assertIn("STARTTLS", message)
        self.assertIn(str(stripped.port), message)
        self.assertNoCredentials(stripped)
        self.assertIn("Also tried", message)

    def test_starttls_not_offered_but_465_works(self):
        stripped = self.fault("smtp-no-starttls")
        report = self.expect_success(self.good_imap(), [stripped.port, self.dovecot.ports["submissions"]])
        self.assertEqual(report["smtp-port"], self.dovecot.ports["submissions"])
        outcomes = {a["port"]: a["outcome"] for a in report["smtp"]["attempts"]}
        self.assertEqual(outcomes[stripped.port], ERROR + "StartTlsUnavailable")
        self.assertNoCredentials(stripped)

    def test_plaintext_injected_after_starttls(self):
        injector = self.fault("smtp-starttls-inject")
        message, _ = self.expect_error("ProtocolError", self.good_imap(), [injector.port, self.refused()])
        self.assertIn(str(injector.port), message)
        self.assertNoCredentials(injector)

    def test_starttls_refused_454(self):
        server = self.fault("smtp-454")
        message, _ = self.expect_error("TlsFailed", self.good_imap(), [server.port, self.refused()])
        self.assertIn("454", message)
        self.assertNoCredentials(server)

    # -- services that are down ------------------------------------------

    def test_imap_bye_greeting(self):
        server = self.fault("imap-bye")
        message, _ = self.expect_error("ServiceUnavailable", server.port, self.good_smtp())
        self.assertIn("Service temporarily unavailable", message)
        self.assertRegex(message, r"(?i)status")

    def test_smtp_421(self):
        starttls = self.fault("smtp-421")
        implicit = self.fault("smtp-421", tls="implicit")
        message, _ = self.expect_error("ServiceUnavailable", self.good_imap(), [starttls.port, implicit.port])
        self.assertIn("421", message)
        self.assertNoCredentials(starttls)
        self.assertNoCredentials(implicit)

    def test_connection_refused_everywhere(self):
        imap, smtp, smtps = self.refused(), self.refused(), self.refused()
        message, elapsed = self.expect_error("ConnectionFailed", imap, [smtp, smtps])
        for port in (imap, smtp, smtps):
            self.assertIn(str(port), message)
        self.assertLess(elapsed, 5)

    def test_smtp_connection_refused(self):
        # IMAP works; both SMTP ports are closed: the ISP-block advice.
        smtp, smtps = self.refused(), self.refused()
        message, _ = self.expect_error("ConnectionFailed", self.good_imap(), [smtp, smtps])
        self.assertIn(str(smtp), message)
        self.assertIn(str(smtps), message)
        self.assertIn("465", message)
        self.assertRegex(message, r"(?i)internet provider|ISP")

    # -- silence and slowness --------------------------------------------

    def test_silent_servers_time_out(self):
        imap = self.fault("imap-silent")
        smtp = self.fault("smtp-silent")
        smtps = self.fault("smtp-silent")
        message, elapsed = self.expect_error("Timeout", imap.port, [smtp.port, smtps.port], timeout_ms=2000)
        self.assertLess(elapsed, 2.0 + DEADLINE_SLACK)
        self.assertGreater(elapsed, 1.5)
        self.assertIn(str(imap.port), message)
        # Every endpoint was really tried: no attempt is blamed on a name
        # lookup of an IP address for want of time.
        for port in (smtp.port, smtps.port):
            self.assertIn(str(port), message)
        self.assertNotIn("Looking up", message)
        # Every attempt's connection is closed when the answer comes.
        for server in (imap, smtp):
            server.wait_idle(timeout=5)

    def test_silent_after_tls_handshake(self):
        server = self.fault("tls-silent")
        message, elapsed = self.expect_error("Timeout", server.port, self.good_smtp(), timeout_ms=2000)
        self.assertLess(elapsed, 2.0 + DEADLINE_SLACK)
        self.assertIn(str(server.port), message)
        self.assertIn("Also tried", message)

    def test_trickle(self):
        # A byte a second keeps the connection busy but never finishes the
        # greeting: the overall deadline still holds.
        server = self.fault("imap-trickle")
        message, elapsed = self.expect_error("Timeout", server.port, self.good_smtp(), timeout_ms=3000)
        self.assertLess(elapsed, 3.0 + DEADLINE_SLACK)
        self.assertGreater(elapsed, 2.5)
        self.assertIn(str(server.port), message)

    # -- too much of it ---------------------------------------------------

    def test_megabyte_line(self):
        server = self.fault("imap-longline")
        message, elapsed = self.expect_error("ProtocolError", server.port, self.good_smtp())
        self.assertIn(str(server.port), message)
        self.assertLess(elapsed, 5)

    def test_endless_untagged_replies(self):
        server = self.fault("imap-flood")
        message, elapsed = self.expect_error("ProtocolError", server.port, self.good_smtp())
        self.assertIn(str(server.port), message)
        self.assertLess(elapsed, 5)

    def test_garbage(self):
        server = self.fault("imap-garbage")
        message, _ = self.expect_error("ProtocolError", server.port, self.good_smtp())
        self.assertIn(str(server.port), message)

    def test_smtp_endless_ehlo_reply(self):
        server = self.fault("smtp-longreply")
        message, _ = self.expect_error("ProtocolError", self.good_imap(), [server.port, self.refused()])
        self.assertIn(str(server.port), message)
        self.assertNoCredentials(server)

    # -- logins -----------------------------------------------------------

    def test_smtp_authentication_failed(self):
        server = self.fault("smtp-authfail")
        message, _ = self.expect_error("AuthenticationFailed", self.good_imap(), [server.port, self.refused()])
        self.assertIn("535", message)
        self.assertIn("app-specific password", message)

    def test_hangup_after_failed_login(self):
        # Only "john" works, and the server hangs up after a failed login:
        # the second user name is tried on a fresh connection.
        server = self.fault("imap-hangup-first", user="john")
        report = self.expect_success(server.port, self.good_smtp(), address="john@icloud.com")
        self.assertEqual(report["imap-username"], "john")
        attempts = report["imap"]["attempts"]
        self.assertEqual([(a["username"], a["outcome"]) for a in attempts],
                         [("john@icloud.com", ERROR + "AuthenticationFailed"), ("john", OK)])
        self.assertEqual(server.accepted, 2)

    def test_icloud_quirks(self):
        # AUTH=PLAIN advertised (no AUTH=LOGIN), AUTHENTICATE PLAIN always
        # fails, LOGIN works, tagged "OK !!", trailing space in CAPABILITY.
        server = self.fault("imap-icloud")
        report = self.expect_success(server.port, self.good_smtp())
        self.assertEqual(report["imap-username"], ADDRESS)
        self.assertEqual(report["imap"]["mechanism"], "LOGIN")
        self.assertEqual(report["imap"]["attempts"][-1]["outcome"], OK)
        # The probe logs out politely, after the verdict is already in.
        server.wait_recorded("LOGOUT")

    def test_icloud_quirks_with_hangup_after_authenticate(self):
        server = self.fault("imap-icloud-auth-hangup")
        report = self.expect_success(server.port, self.good_smtp())
        self.assertEqual(report["imap-username"], ADDRESS)
        self.assertEqual(report["imap"]["attempts"][-1]["outcome"], OK)

    def test_wrong_password_at_icloud(self):
        # iCloud's wording ("Authentication Failed") and hang-up: both user
        # names fail, each on its own connection.
        server = self.fault("imap-icloud")
        smtp = self.fault("smtp-authfail")
        message, _ = self.expect_error(
            "AuthenticationFailed", server.port, [smtp.port, self.refused()], password="wxyz-wxyz-wxyz-wxyz"
        )
        self.assertIn("app-specific password", message)
        self.assertIn("Also tried", message)
        self.assertEqual(server.accepted, 2)

    def test_fault_smtp_servers_work(self):
        # The scripted good SMTP servers, for completeness: STARTTLS and
        # implicit TLS, with the size limit.
        starttls = self.fault("smtp-starttls-ok")
        implicit = self.fault("smtps-ok")
        report = self.expect_success(self.good_imap(), [starttls.port, implicit.port])
        self.assertEqual(report["smtp-port"], starttls.port)
        self.assertEqual(report["smtp-max-message-size"], 20971520)
        self.assertEqual(report["smtp"]["security"], "starttls")


if __name__ == "__main__":
    harness.main()
