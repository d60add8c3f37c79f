#!/usr/bin/env python3
"""Manager.Diagnose against a real Dovecot, scripted fault servers and the
real keyring: the checklist passes where everything works; a blocked or
silent submission port gets the ISP advice while 465 passes and tells the
size limit; when no SMTP port gets through, the failed login also says to
send iCloud mail only through iCloud; a server that refuses service gets
the system status page; a host name that does not resolve fails its DNS
step; an expired or not yet valid certificate gets the clock advice; a
wrong stored password gets the app-specific password advice; an unknown
domain is a failed first step and nothing else; the checklist ends within
its timeout."""

import json
import socket
import threading
import time

import harness
from components import DEADLINE_SLACK, ERROR, PASSWORD, ensure_daemon_answers, provider_xml, restart_daemon
from handoff_support import (
    add_account,
    describe,
    diagnose,
    diagnose_error,
    handoff_case,
    secret_attributes,
    steps_by_id,
)

ADDRESS = "jane@icloud.com"
STATUSES = {"pass", "fail", "warn", "skipped"}
CLOCK_ADVICE = "date and time"
ISP_ADVICE = "Internet provider"
FROM_ADVICE = "iCloud From address"
DNS_ADVICE = "name server (DNS)"
SIZE_LIMIT = r"20\.0\sMiB"
STATUS_PAGE = "https://www.apple.com/support/systemstatus/"
# RFC 6761: never resolves, whatever the name server.
UNRESOLVABLE = "no-such-host.invalid"


def unresolvable_fails_fast(host=UNRESOLVABLE, timeout=3):
    """Whether this machine's resolver says at once that @host does not
    exist (it needs a name server that answers; a sandbox may have none)."""
    outcome = []

    def look_up():
        try:
            socket.getaddrinfo(host, 993)
            outcome.append("resolved")
        except socket.gaierror:
            outcome.append("not found")

    thread = threading.Thread(target=look_up, daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome == ["not found"]


class Diagnose(handoff_case(faults=True)):
    def setUp(self):
        self.use_dovecot()

    def tearDown(self):
        ensure_daemon_answers(self.s)

    def diagnose(self, address=ADDRESS, timeout_ms=5000, **kw):
        """The steps as {id: step}, after checking their form and that they
        came within the deadline."""
        started = time.monotonic()
        steps = diagnose(self.s, address, timeout_ms=timeout_ms, **kw)
        took = time.monotonic() - started
        self.assertLess(took, timeout_ms / 1000 + DEADLINE_SLACK, describe(steps))
        for step in steps:
            self.assertEqual(set(step), {"id", "title", "status", "detail", "advice"}, step)
            self.assertIn(step["status"], STATUSES, step)
            self.assertTrue(step["title"], step)
            if step["status"] in ("fail", "warn"):
                self.assertTrue(step["detail"], step)
                self.assertTrue(step["advice"], step)
            self.assertNotIn(PASSWORD, json.dumps(step))
        by_id = steps_by_id(steps)
        self.assertEqual(len(by_id), len(steps), "step ids repeat:\n" + describe(steps))
        self.text = describe(steps)
        return by_id

    def assertStatus(self, steps, expected):
        self.assertEqual({k: steps[k]["status"] for k in expected}, expected, self.text)

    def assertSizeFrom(self, steps, port):
        """The size step tells the limit, as 127.0.0.1 port @port said it."""
        size = steps["size"]
        self.assertEqual(size["status"], "pass", self.text)
        self.assertRegex(size["detail"], SIZE_LIMIT, self.text)
        self.assertIn(f"127.0.0.1 port {port} ", size["detail"], self.text)
        self.assertIn("Mail Drop", size["advice"], self.text)

    def use_status_page(self, imap, smtp):
        """The test provider file, naming the system status page as the
        shipped iCloud file does."""
        restart_daemon(self.s)
        text = provider_xml(imap, smtp).replace(
            "  </emailProvider>", f"    <ms:statusPage>{STATUS_PAGE}</ms:statusPage>\n  </emailProvider>"
        )
        self.s.write_provider_override(self.override.filename, text)

    # -- everything works ---------------------------------------------------

    def test_all_pass_with_password(self):
        p = self.dovecot.ports
        steps = self.diagnose(password=PASSWORD)
        self.assertEqual(list(steps), [
            "provider", "dns-imap",
            f"connect-imap-{p['imaps']}", f"tls-imap-{p['imaps']}",
            f"connect-smtp-{p['submission']}", f"tls-smtp-{p['submission']}",
            f"connect-smtp-{p['submissions']}", f"tls-smtp-{p['submissions']}",
            "login-imap", "login-smtp", "size",
        ], self.text)
        self.assertEqual({s["status"] for s in steps.values()}, {"pass"}, self.text)
        self.assertIn(ADDRESS, steps["login-imap"]["detail"])
        # From the preferred submission port; Apple's advice on large
        # attachments.
        self.assertSizeFrom(steps, p["submission"])

    def test_without_password(self):
        # No account for the address and no password: no login to try.
        steps = self.diagnose("nobody@mac.com")
        self.assertStatus(steps, {"login-imap": "skipped", "login-smtp": "skipped", "provider": "pass"})
        others = {s["status"] for k, s in steps.items() if not k.startswith("login-")}
        self.assertEqual(others, {"pass"}, self.text)

    def test_stored_password(self):
        # The account's password, from the keyring.
        path = add_account(self.s, ADDRESS)
        try:
            steps = self.diagnose(ADDRESS)
            self.assertStatus(steps, {"login-imap": "pass", "login-smtp": "pass"})
        finally:
            self.s.call("Remove", path=path, interface="org.mailsetup.MailSetup1.Account")

    # -- outgoing mail blocked --------------------------------------------------

    def test_submission_port_refused(self):
        p = self.dovecot.ports
        closed = self.faults.refused_port()
        self.override.write(self.s, smtp=[closed, p["submissions"]])
        steps = self.diagnose(password=PASSWORD)
        self.assertStatus(steps, {
            f"connect-smtp-{closed}": "fail",
            f"tls-smtp-{closed}": "skipped",
            f"connect-smtp-{p['submissions']}": "pass",
            f"tls-smtp-{p['submissions']}": "pass",
            "login-smtp": "pass",
            "login-imap": "pass",
        })
        advice = steps[f"connect-smtp-{closed}"]["advice"]
        self.assertIn(ISP_ADVICE, advice)
        self.assertIn("465", advice)
        # The limit is still known: 465 tells it.
        self.assertSizeFrom(steps, p["submissions"])

    def test_submission_port_silent(self):
        # The port takes the connection and then says nothing, as some
        # blocking middleboxes do: the step that fails says what an ISP
        # block looks like and points at 465, which works.
        p = self.dovecot.ports
        silent = self.faults.start_server("smtp-silent")
        self.override.write(self.s, smtp=[silent.port, p["submissions"]])
        steps = self.diagnose(password=PASSWORD, timeout_ms=2000)
        self.assertStatus(steps, {
            f"connect-smtp-{silent.port}": "pass",
            f"tls-smtp-{silent.port}": "fail",
            f"connect-smtp-{p['submissions']}": "pass",
            f"tls-smtp-{p['submissions']}": "pass",
            "login-smtp": "pass",
        })
        advice = steps[f"tls-smtp-{silent.port}"]["advice"]
        self.assertIn(ISP_ADVICE, advice, self.text)
        self.assertIn("465", advice, self.text)
        self.assertSizeFrom(steps, p["submissions"])

    def test_sending_blocked(self):
        # Neither SMTP port gets through: the failed login says what an
        # ISP block looks like, and that iCloud mail must not go out
        # through another provider's server instead; nothing tells the
        # size limit.
        first = self.faults.refused_port()
        second = self.faults.refused_port()
        while second == first:
            second = self.faults.refused_port()
        self.override.write(self.s, smtp=[first, second])
        steps = self.diagnose(password=PASSWORD)
        self.assertStatus(steps, {
            f"connect-smtp-{first}": "fail",
            f"connect-smtp-{second}": "fail",
            "login-imap": "pass",
            "login-smtp": "fail",
            "size": "skipped",
        })
        advice = steps["login-smtp"]["advice"]
        self.assertIn(ISP_ADVICE, advice, self.text)
        self.assertIn(FROM_ADVICE, advice, self.text)
        self.assertIn("could not be asked", steps["size"]["detail"], self.text)

    # -- the service is down --------------------------------------------------------

    def test_service_unavailable(self):
        # IMAP says BYE, 587 says 421: the servers refuse service, which is
        # no ISP block; the steps point at the provider's system status
        # page.  465 still works and tells the size limit.
        p = self.dovecot.ports
        bye = self.faults.start_server("imap-bye")
        unavailable = self.faults.start_server("smtp-421")
        self.use_status_page(imap=bye.port, smtp=[unavailable.port, p["submissions"]])
        steps = self.diagnose(password=PASSWORD)
        self.assertStatus(steps, {
            f"connect-imap-{bye.port}": "pass",
            f"tls-imap-{bye.port}": "fail",
            f"connect-smtp-{unavailable.port}": "pass",
            f"tls-smtp-{unavailable.port}": "fail",
            f"tls-smtp-{p['submissions']}": "pass",
            "login-imap": "fail",
            "login-smtp": "pass",
        })
        for step_id in (f"tls-imap-{bye.port}", f"tls-smtp-{unavailable.port}", "login-imap"):
            advice = steps[step_id]["advice"]
            self.assertIn(f"system status page: {STATUS_PAGE}", advice, self.text)
            self.assertNotIn(ISP_ADVICE, advice, self.text)
        self.assertIn("421", steps[f"tls-smtp-{unavailable.port}"]["detail"], self.text)
        self.assertIn("Service temporarily unavailable", steps[f"tls-imap-{bye.port}"]["detail"], self.text)
        self.assertSizeFrom(steps, p["submissions"])

    # -- name lookups ---------------------------------------------------------------

    def test_host_not_found(self):
        # The IMAP host's name does not resolve: its DNS step fails with the
        # DNS advice; the SMTP host is still found.
        if not unresolvable_fails_fast():
            self.skipTest(f"this machine's resolver does not answer for {UNRESOLVABLE} at once")
        p = self.dovecot.ports
        self.override.write(self.s, imap=(UNRESOLVABLE, p["imaps"]))
        steps = self.diagnose(timeout_ms=5000)
        self.assertStatus(steps, {
            "dns-imap": "fail",
            "dns-smtp": "pass",
            f"connect-imap-{p['imaps']}": "fail",
            f"tls-imap-{p['imaps']}": "skipped",
            f"tls-smtp-{p['submission']}": "pass",
        })
        dns = steps["dns-imap"]
        self.assertEqual(dns["title"], f"Finding {UNRESOLVABLE}", self.text)
        self.assertIn(f"{UNRESOLVABLE} cannot be found", dns["detail"], self.text)
        self.assertIn(DNS_ADVICE, dns["advice"], self.text)

    # -- certificates -------------------------------------------------------------

    def test_expired_certificates(self):
        p = self.dovecot.ports
        imap = self.faults.start_server("imap-icloud", cert="expired")
        smtps = self.faults.start_server("smtps-ok", cert="expired")
        self.override.write(self.s, imap=imap.port, smtp=[p["submission"], smtps.port])
        steps = self.diagnose(password=PASSWORD)
        self.assertStatus(steps, {
            f"connect-imap-{imap.port}": "pass",
            f"tls-imap-{imap.port}": "fail",
            f"tls-smtp-{smtps.port}": "fail",
            f"tls-smtp-{p['submission']}": "pass",
            "login-imap": "fail",
            "login-smtp": "pass",
        })
        for step_id in (f"tls-imap-{imap.port}", f"tls-smtp-{smtps.port}"):
            self.assertIn(CLOCK_ADVICE, steps[step_id]["advice"], self.text)
            self.assertIn("expired", steps[step_id]["detail"], self.text)

    def test_certificate_not_yet_valid(self):
        imap = self.faults.start_server("imap-icloud", cert="notyet")
        self.override.write(self.s, imap=imap.port)
        steps = self.diagnose()
        self.assertStatus(steps, {f"tls-imap-{imap.port}": "fail"})
        self.assertIn(CLOCK_ADVICE, steps[f"tls-imap-{imap.port}"]["advice"], self.text)

    # -- passwords ------------------------------------------------------------

    def test_wrong_stored_password(self):
        address = "john@me.com"
        path = add_account(self.s, address)
        try:
            self.keyring.store(self.s, "replaced", "my-apple-account-password", **secret_attributes(self.s, path))
            steps = self.diagnose(address)
            self.assertStatus(steps, {"login-imap": "fail", "login-smtp": "fail"})
            for step_id in ("login-imap", "login-smtp"):
                advice = steps[step_id]["advice"]
                self.assertIn("app-specific password", advice, self.text)
                self.assertIn("xxxx-xxxx-xxxx-xxxx", advice, self.text)
            self.assertNotIn("my-apple-account-password", self.text)
        finally:
            self.s.call("Remove", path=path, interface="org.mailsetup.MailSetup1.Account")

    def test_login_option(self):
        # An address that signs in as another (as iCloud+ custom domains
        # do): the logins use the login, not the address.
        steps = self.diagnose("alias@me.com", password=PASSWORD, login=ADDRESS)
        self.assertStatus(steps, {"login-imap": "pass", "login-smtp": "pass"})
        self.assertIn(ADDRESS, steps["login-imap"]["detail"])

    def test_account_with_login(self):
        # The same for an account set up that way, with its stored password.
        path = add_account(self.s, "alias@mac.com", login=ADDRESS)
        try:
            steps = self.diagnose("alias@mac.com")
            self.assertStatus(steps, {"login-imap": "pass", "login-smtp": "pass"})
        finally:
            self.s.call("Remove", path=path, interface="org.mailsetup.MailSetup1.Account")

    # -- what cannot be checked -------------------------------------------------

    def test_unknown_domain(self):
        steps = self.diagnose("jane@example.org")
        self.assertEqual(list(steps), ["provider"], self.text)
        self.assertEqual(steps["provider"]["status"], "fail")
        self.assertIn("example.org", steps["provider"]["detail"])

    def test_invalid_arguments(self):
        name, message = diagnose_error(self.s, "no-at-sign")
        self.assertEqual(name, ERROR + "InvalidAddress", message)
        name, message = diagnose_error(self.s, ADDRESS, password="")
        self.assertEqual(name, ERROR + "InvalidPassword", message)

    def test_deadline(self):
        # Nothing answers past TCP: every check waits, and the checklist
        # still comes back at its deadline, each step with an outcome.
        imap = self.faults.start_server("tls-silent")
        smtp = self.faults.start_server("smtp-silent")
        smtps = self.faults.start_server("tls-silent")
        self.override.write(self.s, imap=imap.port, smtp=[smtp.port, smtps.port])
        started = time.monotonic()
        steps = self.diagnose(password=PASSWORD, timeout_ms=1500)
        self.assertGreater(time.monotonic() - started, 1.0, self.text)
        self.assertStatus(steps, {
            f"connect-imap-{imap.port}": "pass",
            f"tls-imap-{imap.port}": "fail",
            f"tls-smtp-{smtp.port}": "fail",
            f"tls-smtp-{smtps.port}": "fail",
            "login-imap": "fail",
            "login-smtp": "fail",
        })


if __name__ == "__main__":
    harness.main()
