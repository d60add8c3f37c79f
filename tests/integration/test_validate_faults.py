#!/usr/bin/env python3
"""ValidateCredentials against scripted misbehaving servers
(tests/servers/faultserver.py), each paired with a good server (Dovecot)
for the other protocol: bad and oversized certificates, TLS
renegotiation, STARTTLS stripping and injection, unavailable services,
refused connections, silence, trickling, overlong lines and floods,
hang-ups and iCloud's quirks.  The user sees the error name and a message
that says what happened, and no credentials leave before TLS is verified.
Floods and overlong lines also leave the daemon's memory alone."""

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
    provider_xml,
    sanitized,
    validate,
    validate_error,
    wait_for,
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

    def test_certificate_over_100_kib(self):
        # OpenSSL takes at most 100 KiB of certificates from a peer.  A
        # valid leaf with a 120 KiB comment, and the good leaf with 300
        # filler certificates (more than the 10 the daemon accepts, but
        # the size limit comes first): the handshake stops there.
        for cert in ("hugecert", "hugechain"):
            with self.subTest(cert=cert):
                server = self.fault("imap-icloud", cert=cert)
                message, elapsed = self.expect_error("TlsFailed", server.port, self.good_smtp())
                self.assertIn(str(server.port), message)
                self.assertIn("excessive message size", message)
                self.assertEqual(server.recorded(), "")
                self.assertLess(elapsed, 5)

    def test_certificate_over_100_kib_smtp(self):
        starttls = self.fault("smtp-starttls-ok", cert="hugecert")
        implicit = self.fault("smtps-ok", cert="hugechain")
        message, _ = self.expect_error("TlsFailed", self.good_imap(), [starttls.port, implicit.port])
        self.assertIn("excessive message size", message)
        self.assertNoCredentials(starttls)
        self.assertEqual(implicit.recorded(), "")

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

    # -- renegotiation ----------------------------------------------------
    #
    # The daemon refuses renegotiation (SSL_OP_NO_RENEGOTIATION): it answers
    # the server's HelloRequest with a no_renegotiation warning alert and
    # keeps the verified session.  An OpenSSL server takes that refusal as
    # fatal (handshake_failure alert), so the check ends at once as a TLS
    # failure; the server's side proves the refusal.

    def assertRenegotiationRefused(self, server):
        wait_for(lambda: 0 < server.accepted <= len(server.endings), 5,
                 what=f"{server.scenario}: every connection ended")
        self.assertEqual(server.renegotiations, 0)
        for ending in server.endings:
            self.assertIn("no renegotiation", ending)

    def test_renegotiation_before_greeting(self):
        server = self.fault("tls-renegotiate")
        message, elapsed = self.expect_error("TlsFailed", server.port, self.good_smtp())
        self.assertIn(str(server.port), message)
        self.assertIn("handshake failure", message)
        self.assertLess(elapsed, 5)
        self.assertRenegotiationRefused(server)
        self.assertEqual(server.recorded(), "")

    def test_renegotiation_after_first_command(self):
        # The greeting has no capabilities, so CAPABILITY goes first; the
        # HelloRequest comes instead of its answer.  Nothing else is sent.
        server = self.fault("imap-renegotiate")
        message, elapsed = self.expect_error("TlsFailed", server.port, self.good_smtp())
        self.assertIn(str(server.port), message)
        self.assertIn("handshake failure", message)
        self.assertLess(elapsed, 5)
        self.assertRenegotiationRefused(server)
        lines = server.recorded().splitlines()
        self.assertEqual(len(lines), server.accepted, lines)
        for line in lines:
            self.assertEqual(line.split()[1:], ["CAPABILITY"])
        self.assertNoCredentials(server)

    def test_smtp_renegotiation(self):
        # After STARTTLS (587) and with implicit TLS (465): the HelloRequest
        # answers the EHLO, before any AUTH.
        starttls = self.fault("smtp-renegotiate")
        implicit = self.fault("smtp-renegotiate", tls="implicit")
        message, elapsed = self.expect_error("TlsFailed", self.good_imap(), [starttls.port, implicit.port])
        self.assertIn("handshake failure", message)
        self.assertIn("Also tried", message)
        self.assertLess(elapsed, 5)
        for server in (starttls, implicit):
            self.assertRenegotiationRefused(server)
            self.assertNoCredentials(server)
        self.assertEqual([l.split()[0] for l in starttls.recorded().splitlines()], ["EHLO", "STARTTLS", "EHLO"])
        self.assertEqual([l.split()[0] for l in implicit.recorded().splitlines()], ["EHLO"])

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

    def test_smtp_megabyte_greeting(self):
        starttls = self.fault("smtp-longline")
        implicit = self.fault("smtp-longline", tls="implicit")
        message, elapsed = self.expect_error("ProtocolError", self.good_imap(), [starttls.port, implicit.port])
        self.assertIn(str(starttls.port), message)
        self.assertIn("longer than 65536 bytes", message)
        self.assertLess(elapsed, 5)
        self.assertEqual(starttls.recorded(), "")
        self.assertEqual(implicit.recorded(), "")

    def test_smtp_endless_greeting(self):
        # "220-" continuation lines that never end.
        server = self.fault("smtp-flood")
        message, elapsed = self.expect_error("ProtocolError", self.good_imap(), [server.port, self.refused()])
        self.assertIn(str(server.port), message)
        self.assertIn("overlong reply", message)
        self.assertLess(elapsed, 5)
        self.assertEqual(server.recorded(), "")

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


# -- memory ---------------------------------------------------------------

WARMUP_ADDRESS = "john@warmup.example"

# How much the daemon's peak resident memory (VmHWM) and its resident
# memory afterwards (VmRSS) may grow while one check turns a flood or an
# overlong line away.  Its buffers are bounded (a line of 64 KiB, 1 MiB of
# untagged IMAP lines, 100 lines or 64 KiB of an SMTP reply): here that
# costs it tens of KiB, or up to about 8 MiB under ASan, whose quarantine
# keeps every freed line.  Keeping the lines of the 1 MiB IMAP flood costs
# some 5 MiB, reading a 16 MiB line before judging its length 17 MiB or
# more: both mistakes, tried on a copy of the daemon, fail these tests.
MEMORY_GROWTH_BOUND_KIB = (24 if sanitized() else 2) * 1024
LONG_LINE = 16 * 1024 * 1024


def memory_kib(pid):
    """{"VmHWM": peak resident KiB, "VmRSS": resident KiB} of @pid."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                fields[name] = int(value.split()[0])
    return fields


class ValidateFaultsMemory(SessionTestCase):
    """Floods and overlong lines, each on a fresh daemon that has just
    validated an account against Dovecot (warmup.example), so that its
    threads, TLS set-up and buffers have all been used once: how much its
    peak resident memory grows over the hostile check is what the hostile
    server cost it, and how much its resident memory grows is what it
    kept."""

    certs = TestCertificates()
    dovecot = DovecotServer()
    faults = FaultServers()
    override = ProviderOverride(dovecot=dovecot)
    components = [certs, dovecot, faults, override]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        p = cls.dovecot.ports
        cls.session.write_provider_override(
            "20-warmup-test.xml",
            provider_xml(p["imaps"], [p["submission"], p["submissions"]], domains=("warmup.example",)),
        )

    def tearDown(self):
        ensure_daemon_answers(self.s)

    def good_imap(self):
        return self.dovecot.ports["imaps"]

    def good_smtp(self):
        return [self.dovecot.ports["submission"], self.dovecot.ports["submissions"]]

    def assertBoundedMemory(self, name, imap, smtp):
        """Validates against @imap/@smtp on a warmed-up daemon; asserts the
        error @name, soon, and the bound on the growth of VmHWM and
        VmRSS."""
        self.override.write(self.s, imap=imap, smtp=smtp)  # a fresh daemon
        validate(self.s, WARMUP_ADDRESS, PASSWORD, timeout_ms=10000)
        pid = self.s.name_owner_pid()
        before = memory_kib(pid)
        started = time.monotonic()
        got, message = validate_error(self.s, ADDRESS, PASSWORD, timeout_ms=10000)
        elapsed = time.monotonic() - started
        after = memory_kib(pid)
        self.assertEqual(got, ERROR + name, message)
        self.assertEqual(self.s.name_owner_pid(), pid, "the daemon was replaced")
        growth = {k: after[k] - before[k] for k in after}
        print(f"{self.id()}: {elapsed:.2f} s, "
              + ", ".join(f"{k} {before[k]} -> {after[k]} KiB ({growth[k]:+d})" for k in sorted(after)))
        self.assertLess(elapsed, 5)
        self.assertLess(growth["VmHWM"], MEMORY_GROWTH_BOUND_KIB,
                        f"the daemon's peak memory grew by {growth['VmHWM']} KiB: {message}")
        self.assertLess(growth["VmRSS"], MEMORY_GROWTH_BOUND_KIB,
                        f"the daemon kept {growth['VmRSS']} KiB more memory: {message}")
        return message

    def test_imap_flood(self):
        server = self.faults.start_server("imap-flood")
        message = self.assertBoundedMemory("ProtocolError", server.port, self.good_smtp())
        self.assertIn("more than 1 MiB", message)

    def test_imap_long_line(self):
        server = self.faults.start_server("imap-longline", line_length=LONG_LINE)
        message = self.assertBoundedMemory("ProtocolError", server.port, self.good_smtp())
        self.assertIn("longer than 65536 bytes", message)

    def test_smtp_long_greeting(self):
        starttls = self.faults.start_server("smtp-longline", line_length=LONG_LINE)
        implicit = self.faults.start_server("smtp-longline", tls="implicit", line_length=LONG_LINE)
        message = self.assertBoundedMemory("ProtocolError", self.good_imap(), [starttls.port, implicit.port])
        self.assertIn("longer than 65536 bytes", message)

    def test_smtp_endless_ehlo_reply(self):
        server = self.faults.start_server("smtp-longreply")
        message = self.assertBoundedMemory("ProtocolError", self.good_imap(), [server.port, self.faults.refused_port()])
        self.assertIn("overlong reply", message)

    def test_smtp_endless_greeting(self):
        server = self.faults.start_server("smtp-flood")
        message = self.assertBoundedMemory("ProtocolError", self.good_imap(), [server.port, self.faults.refused_port()])
        self.assertIn("overlong reply", message)


if __name__ == "__main__":
    harness.main()
