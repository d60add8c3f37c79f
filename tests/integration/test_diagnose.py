#!/usr/bin/env python3
"""Manager.Diagnose against a real Dovecot, scripted fault servers and the
real keyring: the checklist passes where everything works; a blocked or
silent submission port gets the ISP advice while 465 passes; an expired
or not yet valid certificate gets the clock advice; a wrong stored
password gets the app-specific password advice; an unknown domain is a
failed first step and nothing else; the checklist ends within its
timeout."""

import json
import time

import harness
from components import DEADLINE_SLACK, ERROR, PASSWORD, ensure_daemon_answers
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
        self.assertRegex(steps["size"]["detail"], r"20\.0\sMiB")
        # Apple's advice on large attachments.
        self.assertIn("Mail Drop", steps["size"]["advice"])

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
