#!/usr/bin/env python3
"""mailsetupd while validations run: the main loop keeps answering while
many of them hang, a caller that leaves the bus cancels its validation,
and the password never shows in the daemon's output, even with
G_MESSAGES_DEBUG=all."""

import signal
import subprocess
import time

import harness
from components import (
    DEADLINE_SLACK,
    ERROR,
    PASSWORD,
    DovecotServer,
    FaultServers,
    ProviderOverride,
    SignalMonitor,
    TestCertificates,
    ensure_daemon_answers,
    password_forms,
    sanitized,
    validate,
    validate_argv,
    validate_error,
    wait_for,
)
from harness import SessionTestCase

# A blocked main loop would take seconds; a busy machine takes a little.
QUICK = 1.0 if sanitized() else 0.5


class DaemonUnderLoad(SessionTestCase):
    certs = TestCertificates()
    dovecot = DovecotServer()
    faults = FaultServers()
    override = ProviderOverride(dovecot=dovecot)
    components = [certs, dovecot, faults, override]
    session_env = {"G_MESSAGES_DEBUG": "all"}

    def tearDown(self):
        # A stuck daemon fails the test that got it stuck, not the next one.
        ensure_daemon_answers(self.s)

    def silent_servers(self):
        imap = self.faults.start_server("imap-silent")
        smtp = self.faults.start_server("smtp-silent")
        smtps = self.faults.start_server("smtp-silent")
        self.override.write(self.s, imap=imap.port, smtp=[smtp.port, smtps.port])
        return imap, smtp, smtps

    def background_validation(self, timeout_ms, operation_id):
        return self.s.spawn(
            validate_argv("jane@icloud.com", PASSWORD, timeout_ms=timeout_ms, operation_id=operation_id),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def timed(self, method, *args, **kw):
        started = time.monotonic()
        reply = self.s.call(method, *args, **kw)
        return time.monotonic() - started, reply

    def test_lookup_answers_while_validations_hang(self):
        imap, smtp, _ = self.silent_servers()
        self.s.activate()
        pid = self.s.name_owner_pid()
        n = 10
        started = time.monotonic()
        calls = [self.background_validation(5000, f"op-hang-{i}") for i in range(n)]
        try:
            # Every validation is in progress: connected and waiting.
            imap.wait_connections(n)
            smtp.wait_connections(n)
            self.assertLess(time.monotonic() - started, 4, "the validations were slow to start")
            times = []
            for _ in range(5):
                t, reply = self.timed("LookupProvider", "s", "jane@icloud.com")
                times.append(t)
                self.assertEqual(harness.plain(reply)[0]["imap-port"], imap.port)
            t, _ = self.timed(
                "Get", "ss", harness.MANAGER_IFACE, "Version", interface="org.freedesktop.DBus.Properties"
            )
            times.append(t)
            # The answers came while all of them still ran.
            if time.monotonic() - started < 4.5:
                self.assertTrue(all(c.poll() is None for c in calls))
            self.assertLess(max(times), QUICK, f"LookupProvider/Get took {times}")
            print(f"answers while {n} validations hang: "
                  + ", ".join(f"{t * 1000:.0f}" for t in times) + " ms")

            for i, c in enumerate(calls):
                out, err = c.communicate(timeout=30)
                self.s.forget(c)
                with self.subTest(call=i):
                    self.assertNotEqual(c.returncode, 0, out)
                    self.assertIn("did not answer within 5 seconds", err)
            self.assertLess(time.monotonic() - started, 5 + DEADLINE_SLACK + 1)
        finally:
            for c in calls:
                if c.returncode is None:
                    c.kill()
                    c.communicate()
                    self.s.forget(c)
        self.assertEqual(self.s.name_owner_pid(), pid)

    def test_caller_leaving_cancels_its_validation(self):
        imap, smtp, smtps = self.silent_servers()
        self.s.activate()
        pid = self.s.name_owner_pid()
        call = self.background_validation(20000, "op-leaving")
        imap.wait_connections(1)
        smtp.wait_connections(1)
        call.send_signal(signal.SIGKILL)
        call.wait(timeout=10)
        self.s.forget(call)
        left = time.monotonic()
        wait_for(lambda: "left the bus" in self.s.log(), 5, what="the daemon's log says the caller left")
        # The daemon lives on and answers.
        ensure_daemon_answers(self.s)
        self.assertEqual(self.s.name_owner_pid(), pid)
        # The workers are cancelled: the servers see their connections close
        # long before the 20 s deadline.
        for server in (imap, smtp, smtps):
            server.wait_idle(timeout=5)
        self.assertLess(time.monotonic() - left, 5)
        reply = self.s.call("LookupProvider", "s", "jane@icloud.com")
        self.assertEqual(harness.plain(reply)[0]["imap-port"], imap.port)
        name, _ = validate_error(self.s, "jane@icloud.com", PASSWORD, timeout_ms=1000)
        self.assertEqual(name, ERROR + "Timeout")

    def test_password_never_in_output(self):
        p = self.dovecot.ports
        self.override.write(self.s, imap=p["imaps"], smtp=[p["submission"], p["submissions"]])
        self.s.activate()
        monitor = SignalMonitor(self.s, "type='signal',sender='org.mailsetup.MailSetup1'")
        wrong = ["wxyz-wxyz-wxyz-wxyz", 'Tr0ub4dor&3 "quoted" \\ back', "p\u00e4ssw\u00f6rd-\u00fcml\u00e4\u00fct"]
        try:
            report = validate(self.s, "jane@icloud.com", PASSWORD, operation_id="op-secret-ok")
            self.assertEqual(report["imap-username"], "jane@icloud.com")
            report = validate(self.s, "john@icloud.com", PASSWORD, operation_id="op-secret-john")
            self.assertEqual(report["imap-username"], "john")
            for i, password in enumerate(wrong):
                name, message = validate_error(self.s, "jane@icloud.com", password, operation_id=f"op-secret-{i}")
                self.assertEqual(name, ERROR + "AuthenticationFailed", message)
                self.assertNotIn(password, message)
            # A server that hangs up after each failed login.
            hangup = self.faults.start_server("imap-hangup-first", user="nobody")
            self.override.write(self.s, imap=hangup.port)
            name, message = validate_error(self.s, "jane@icloud.com", wrong[0])
            self.assertEqual(name, ERROR + "AuthenticationFailed", message)
            signals = monitor.text()
        finally:
            monitor.stop()

        output = self.s.log()
        # The check means something only if the daemon talked.
        self.assertIn("mailsetupd-DEBUG", output)
        self.assertRegex(output, r"C: \S+ LOGIN|C: AUTH")
        for password in [PASSWORD] + wrong:
            forms = set()
            for user in ("jane@icloud.com", "jane", "john@icloud.com", "john"):
                forms |= password_forms(user, password)
            # IMAP quoted-string form.
            forms.add(password.replace("\\", "\\\\").replace('"', '\\"'))
            for form in forms:
                with self.subTest(password=password, form=form):
                    self.assertNotIn(form, output)
                    self.assertNotIn(form, signals)


if __name__ == "__main__":
    harness.main()
