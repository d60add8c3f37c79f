#!/usr/bin/env python3
"""mailsetupctl diagnose: the checklist with its marks, the detail and
advice under failed steps, ASCII marks outside UTF-8, colour on a
terminal only (and not with NO_COLOR), --json, --password-stdin,
--timeout, and the exit status: 0 when no step failed, 1 otherwise."""

import json
import subprocess
import time

import harness
from components import DEADLINE_SLACK, PASSWORD
from handoff_support import add_account, ctl, diagnose, handoff_case

ADDRESS = "jane@icloud.com"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INVALID_ADDRESS = 0, 1, 2, 10
MARKS = "✓✗!–"
ESCAPE = "\x1b["


class DiagnoseCtl(handoff_case(faults=True)):
    def setUp(self):
        self.use_dovecot()

    def diagnose(self, *args, password=None, env=None, timeout=60):
        argv = ["diagnose"] + (["--password-stdin"] if password is not None else []) + list(args)
        r = ctl(self.s, *argv, input=password + "\n" if password is not None else None, env=env, timeout=timeout)
        self.assertNotIn(PASSWORD, r.stdout + r.stderr)
        return r

    def step_lines(self, stdout):
        """The lines that start a step (a mark, a space, the title)."""
        return [line for line in stdout.splitlines() if line[:1] in MARKS and line[1:2] == " "]

    def test_all_pass(self):
        r = self.diagnose(ADDRESS, password=PASSWORD)
        self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
        steps = diagnose(self.s, ADDRESS, password=PASSWORD)
        lines = self.step_lines(r.stdout)
        self.assertEqual(lines, [f"✓ {s['title']}" for s in steps], r.stdout)
        self.assertIn("✓ Signing in to receive mail (IMAP)", lines)
        self.assertEqual(r.stdout.splitlines()[-1], "Every check passed.")
        self.assertNotIn(ESCAPE, r.stdout)
        self.assertIn(f"Diagnosing {ADDRESS}", r.stderr)

    def test_stored_password(self):
        path = add_account(self.s, "john@me.com")
        try:
            r = self.diagnose("john@me.com")
            self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
            self.assertIn("✓ Signing in to send mail (SMTP)", r.stdout)
        finally:
            self.s.call("Remove", path=path, interface="org.mailsetup.MailSetup1.Account")

    def test_failed_step(self):
        p = self.dovecot.ports
        closed = self.faults.refused_port()
        self.override.write(self.s, smtp=[closed, p["submissions"]])
        r = self.diagnose(ADDRESS, password=PASSWORD)
        self.assertEqual(r.returncode, EXIT_FAILED, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        failed = f"✗ Connecting to 127.0.0.1 (SMTP) on port {closed}"
        self.assertIn(failed, lines)
        # What was found and what to do, indented below it, up to the next
        # step.
        below = []
        for line in lines[lines.index(failed) + 1:]:
            if line[:1] in MARKS:
                break
            below.append(line)
        self.assertTrue(below and all(line.startswith("    ") for line in below), r.stdout)
        text = " ".join(line.strip() for line in below)
        self.assertIn("refused", text)
        self.assertIn("What to do:", text)
        self.assertIn("465", text)
        self.assertIn(f"– Secure connection and certificate on port {closed} (SMTP)", lines)
        self.assertIn(f"✓ Connecting to 127.0.0.1 (SMTP) on port {p['submissions']}", lines)
        # 465 answered, so the size limit is still known.
        self.assertIn("✓ Message size limit", lines)
        self.assertEqual(lines[-1], "1 check failed.")

    def below(self, lines, step):
        """The text under @step's line, up to the next step, in one line."""
        found = []
        for line in lines[lines.index(step) + 1:]:
            if line[:1] in MARKS:
                break
            found.append(line.strip())
        return " ".join(found)

    def test_sending_blocked(self):
        # Neither SMTP port gets through: under the failed SMTP login, the
        # ISP advice and not to send iCloud mail through another server.
        first = self.faults.refused_port()
        second = self.faults.refused_port()
        while second == first:
            second = self.faults.refused_port()
        self.override.write(self.s, smtp=[first, second])
        r = self.diagnose(ADDRESS, password=PASSWORD)
        self.assertEqual(r.returncode, EXIT_FAILED, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn("✓ Signing in to receive mail (IMAP)", lines)
        text = self.below(lines, "✗ Signing in to send mail (SMTP)")
        self.assertIn("What to do:", text)
        self.assertIn("Internet provider", text)
        self.assertIn("iCloud From address", text)
        self.assertIn("– Message size limit", lines)

    def test_skipped_logins(self):
        # No account and no password: the logins are skipped, and say why;
        # skipped is not failed.
        r = self.diagnose("nobody@mac.com")
        self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        i = lines.index("– Signing in to receive mail (IMAP)")
        self.assertIn("No password", lines[i + 1])

    def test_unknown_domain(self):
        r = self.diagnose("jane@example.org")
        self.assertEqual(r.returncode, EXIT_FAILED, r.stdout + r.stderr)
        self.assertEqual(self.step_lines(r.stdout), ["✗ Mail provider"])
        self.assertIn("example.org", r.stdout)
        self.assertIn("What to do:", r.stdout)

    def test_ascii(self):
        closed = self.faults.refused_port()
        self.override.write(self.s, smtp=[closed, self.dovecot.ports["submissions"]])
        r = self.diagnose(ADDRESS, env={"LC_ALL": "C"})
        self.assertEqual(r.returncode, EXIT_FAILED, r.stdout + r.stderr)
        self.assertTrue(r.stdout.isascii(), r.stdout)
        self.assertIn("[ok]   Mail provider", r.stdout)
        self.assertIn(f"[FAIL] Connecting to 127.0.0.1 (SMTP) on port {closed}", r.stdout)
        self.assertIn("[skip] Signing in to receive mail (IMAP)", r.stdout)

    def test_json(self):
        closed = self.faults.refused_port()
        self.override.write(self.s, smtp=[closed, self.dovecot.ports["submissions"]])
        r = ctl(self.s, "--json", "diagnose", ADDRESS)
        self.assertEqual(r.returncode, EXIT_FAILED, r.stdout + r.stderr)
        steps = json.loads(r.stdout)
        self.assertEqual(steps[0]["id"], "provider")
        by_id = {s["id"]: s for s in steps}
        self.assertEqual(by_id[f"connect-smtp-{closed}"]["status"], "fail")
        # The size limit, as 465 told it.
        self.assertEqual(by_id["size"]["status"], "pass")
        self.assertIn(f"port {self.dovecot.ports['submissions']} accepts", by_id["size"]["detail"])
        self.assertEqual(r.stderr, "")

    def test_colour_on_a_terminal(self):
        harness.need_program("script")

        def in_terminal(env):
            command = subprocess.list2cmdline([self.paths.mailsetupctl, "diagnose", "nobody@mac.com"])
            r = self.s.run(["script", "-qec", command, "/dev/null"], env={"TERM": "xterm", **env})
            self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
            return r.stdout

        out = in_terminal({})
        self.assertIn(f"{ESCAPE}32m✓{ESCAPE}0m Mail provider", out)
        self.assertIn(f"{ESCAPE}2m–{ESCAPE}0m Signing in", out)
        for env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
            with self.subTest(env=env):
                out = in_terminal(env)
                self.assertIn("✓ Mail provider", out)
                self.assertNotIn(f"{ESCAPE}3", out)

    def test_timeout(self):
        silent = self.faults.start_server("tls-silent")
        self.override.write(self.s, imap=silent.port)
        started = time.monotonic()
        r = self.diagnose(ADDRESS, "--timeout", "1", password=PASSWORD)
        took = time.monotonic() - started
        self.assertEqual(r.returncode, EXIT_FAILED, r.stdout + r.stderr)
        self.assertLess(took, 1 + DEADLINE_SLACK + 1, r.stdout)
        self.assertIn(f"✗ Secure connection and certificate on port {silent.port} (IMAP)", r.stdout)

    def test_usage_errors(self):
        for args, status in (
            (("--timeout", "0", ADDRESS), EXIT_USAGE),
            (("--timeout", "soon", ADDRESS), EXIT_USAGE),
            ((), EXIT_USAGE),
            ((ADDRESS, "extra"), EXIT_USAGE),
            (("no-at-sign",), EXIT_INVALID_ADDRESS),
        ):
            with self.subTest(args=args):
                r = self.diagnose(*args)
                self.assertEqual(r.returncode, status, r.stdout + r.stderr)
                self.assertTrue(r.stderr.strip())

    def test_help(self):
        r = ctl(self.s, "diagnose", "--help")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        for text in ("--password-stdin", "--timeout", "Exit status", "a check failed"):
            self.assertIn(text, r.stdout)


if __name__ == "__main__":
    harness.main()
