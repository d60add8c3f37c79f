#!/usr/bin/env python3
"""mailsetupctl add, list, show, check, passwd and remove against the daemon
with a real gnome-keyring and Dovecot: what a person and a script see, and
the exit codes."""

import json
import os
import pty
import select
import subprocess
import time

import harness
from accounts_support import (
    WRONG_PASSWORD,
    accounts_file,
    lookup_secret,
    read_accounts,
    remove_all_accounts,
)
from components import (
    PASSWORD,
    DovecotServer,
    FaultServers,
    GnomeKeyring,
    ProviderOverride,
    TestCertificates,
    ensure_daemon_answers,
    restart_daemon,
)
from harness import SessionTestCase

EXIT_OK, EXIT_USAGE = 0, 2
EXIT_UNKNOWN_PROVIDER = 12
EXIT_AUTHENTICATION_FAILED = 13
EXIT_CONNECTION_FAILED = 17
EXIT_ACCOUNT_EXISTS = 21
EXIT_NO_SUCH_ACCOUNT = 22
EXIT_SECRET_STORE_UNAVAILABLE = 23
EXIT_CANCELLED = 24
ERROR = harness.ERROR_PREFIX


class CtlTestCase(SessionTestCase):
    keyring_component = True

    @classmethod
    def setUpClass(cls):
        cls.certs = TestCertificates()
        cls.dovecot = DovecotServer()
        cls.keyring = GnomeKeyring() if cls.keyring_component else None
        cls.components = [cls.certs, cls.dovecot, ProviderOverride(dovecot=cls.dovecot)]
        cls.components += [cls.keyring] if cls.keyring else []
        super().setUpClass()

    def tearDown(self):
        ensure_daemon_answers(self.s)

    def ctl(self, *args, password=None, timeout=60):
        r = self.s.run([self.paths.mailsetupctl, *args], input=None if password is None else password + "\n",
                       timeout=timeout)
        for secret in (PASSWORD, WRONG_PASSWORD):
            self.assertNotIn(secret, r.stdout + r.stderr, f"mailsetupctl {args} printed a password")
        return r

    def add(self, address, *options, password=PASSWORD):
        return self.ctl("add", "--password-stdin", *options, address, password=password)

    def ctl_json(self, *args, **kw):
        r = self.ctl(args[0], "--json", *args[1:], **kw)
        return r, json.loads(r.stdout)


class AccountCommands(CtlTestCase):
    def setUp(self):
        remove_all_accounts(self.s, self.keyring)

    def test_add_then_list_and_show(self):
        r = self.add("jane@icloud.com", "--name", "Jane at home")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertTrue(r.stdout.startswith("Added the account jane@icloud.com.\n"), r.stdout)
        self.assertIn("IMAP: connecting…", r.stderr)
        self.assertIn("SMTP: signed in", r.stderr)
        self.assertRegex(r.stdout, r"Display name:\s+Jane at home")
        self.assertRegex(r.stdout, r"Status:\s+working")

        r, props = self.ctl_json("add", "--password-stdin", "john@icloud.com", password=PASSWORD)
        self.assertEqual(r.returncode, EXIT_OK)
        self.assertEqual(r.stderr, "")
        self.assertEqual((props["Address"], props["Status"], props["ImapUsername"], props["SmtpUsername"]),
                         ("john@icloud.com", "ok", "john", "john"))
        self.assertEqual(props["StatusMessage"], "Signed in when the account was added.")
        self.assertGreater(props["LastChecked"], 0)
        self.assertEqual(lookup_secret(self.s, props["SecretAttributes"]), PASSWORD)

        r = self.ctl("list")
        self.assertEqual(r.returncode, EXIT_OK)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 2, r.stdout)
        self.assertRegex(lines[0], r"^jane@icloud\.com\s+working\s+Jane at home$")
        self.assertRegex(lines[1], r"^john@icloud\.com\s+working\s*$")
        r, listed = self.ctl_json("list")
        self.assertEqual([a["Address"] for a in listed], ["jane@icloud.com", "john@icloud.com"])

        r = self.ctl("show", "  jane@ICLOUD.com ")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        for pattern in (r"Account:\s+jane@icloud\.com", r"Provider:\s+icloud\.com",
                        r"Last checked:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r"Id:\s+[0-9a-f]+",
                        r"Incoming mail \(IMAP\)", r"Outgoing mail \(SMTP\)",
                        r"Port:\s+%d, SSL/TLS" % self.dovecot.ports["imaps"],
                        r"Port:\s+%d, STARTTLS" % self.dovecot.ports["submission"],
                        r"User name:\s+jane@icloud\.com", r"Password:\s+in the keyring"):
            self.assertRegex(r.stdout, pattern)
        # The command it shows prints the password.
        command = next(line.strip() for line in r.stdout.splitlines() if line.strip().startswith("secret-tool"))
        shown = self.s.run(command.split())
        self.assertEqual(shown.stdout, PASSWORD)
        r, props = self.ctl_json("show", "jane@icloud.com")
        self.assertEqual(props["DisplayName"], "Jane at home")

    def test_add_errors(self):
        self.assertEqual(self.add("jane@icloud.com").returncode, EXIT_OK)
        r = self.add(" jane@ICLOUD.com")
        self.assertEqual(r.returncode, EXIT_ACCOUNT_EXISTS)
        self.assertIn("There is already an account for jane@icloud.com.", r.stderr)
        r, err = self.ctl_json("add", "--password-stdin", "jane@icloud.com", password=PASSWORD)
        self.assertEqual(r.returncode, EXIT_ACCOUNT_EXISTS)
        self.assertEqual(err["error"], ERROR + "AccountExists")
        r = self.add("john@icloud.com", password=WRONG_PASSWORD)
        self.assertEqual(r.returncode, EXIT_AUTHENTICATION_FAILED, r.stderr)
        r = self.add("jane@example.org")
        self.assertEqual(r.returncode, EXIT_UNKNOWN_PROVIDER, r.stderr)
        r = self.add("john@icloud.com", "--timeout", "abc")
        self.assertEqual(r.returncode, EXIT_USAGE)
        r = self.ctl("add", "john@icloud.com")
        self.assertEqual(r.returncode, EXIT_USAGE)
        self.assertIn("--password-stdin", r.stderr)
        self.assertEqual([a["Address"] for a in read_accounts(self.s).values()], ["jane@icloud.com"])

    def test_missing_account(self):
        for args in (("show",), ("check",), ("remove", "--yes"), ("passwd", "--password-stdin")):
            with self.subTest(command=args[0]):
                # passwd fails before it reads a password: none is given.
                r = self.ctl(*args, "nobody@icloud.com")
                self.assertEqual(r.returncode, EXIT_NO_SUCH_ACCOUNT, r.stderr)
                self.assertEqual(r.stderr.strip(), "mailsetupctl: there is no account for nobody@icloud.com")
                self.assertEqual(r.stdout, "")
        r, err = self.ctl_json("show", "nobody@icloud.com")
        self.assertEqual(r.returncode, EXIT_NO_SUCH_ACCOUNT)
        self.assertEqual(err["error"], ERROR + "NoSuchAccount")
        self.assertEqual(self.ctl("list", "extra").returncode, EXIT_USAGE)
        self.assertEqual(self.ctl("show").returncode, EXIT_USAGE)

    def test_check_and_passwd(self):
        self.assertEqual(self.add("jane@icloud.com").returncode, EXIT_OK)
        r = self.ctl("check", "jane@icloud.com")
        self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
        self.assertIn("Checking jane@icloud.com…", r.stderr)
        self.assertTrue(r.stdout.startswith("jane@icloud.com: working\n"), r.stdout)
        r, props = self.ctl_json("check", "jane@icloud.com")
        self.assertEqual((r.returncode, props["Status"], r.stderr), (EXIT_OK, "ok", ""))
        attributes = props["SecretAttributes"]

        # The stored password stopped working.
        self.keyring.store(self.s, "x", WRONG_PASSWORD, **attributes)
        r = self.ctl("check", "jane@icloud.com")
        self.assertEqual(r.returncode, EXIT_AUTHENTICATION_FAILED, r.stdout + r.stderr)
        self.assertIn("jane@icloud.com: password refused", r.stdout)
        self.assertRegex(self.ctl("list").stdout, r"jane@icloud\.com\s+password refused")

        # passwd: a wrong one is refused and the old one stays; a good one mends it.
        r = self.ctl("passwd", "--password-stdin", "jane@icloud.com", password="abcd-abcd-abcd-abcd")
        self.assertEqual(r.returncode, EXIT_AUTHENTICATION_FAILED, r.stderr)
        self.assertEqual(lookup_secret(self.s, attributes), WRONG_PASSWORD)
        r = self.ctl("passwd", "--password-stdin", "jane@icloud.com", password=PASSWORD)
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertIn("The new password of jane@icloud.com works and is stored.", r.stdout)
        self.assertEqual(lookup_secret(self.s, attributes), PASSWORD)
        self.assertEqual(self.ctl("check", "jane@icloud.com").returncode, EXIT_OK)

        # No password stored at all.
        self.keyring.clear(self.s, **attributes)
        restart_daemon(self.s)
        r = self.ctl("check", "jane@icloud.com")
        self.assertEqual(r.returncode, EXIT_SECRET_STORE_UNAVAILABLE, r.stdout + r.stderr)
        self.assertIn("no password stored", r.stdout)
        r = self.ctl("show", "jane@icloud.com")
        self.assertIn("none stored; to set it:", r.stdout)
        self.assertIn("mailsetupctl passwd jane@icloud.com", r.stdout)
        self.assertRegex(self.ctl("list").stdout, r"jane@icloud\.com\s+no password stored")
        self.assertEqual(self.ctl("passwd", "--password-stdin", "jane@icloud.com", password=PASSWORD).returncode,
                         EXIT_OK)

        # The servers cannot be reached (the account's own endpoints).
        restart_daemon(self.s)
        with open(accounts_file(self.s)) as f:
            text = f.read()
        with open(accounts_file(self.s), "w") as f:
            f.write(text.replace(f"ImapPort={self.dovecot.ports['imaps']}",
                                 f"ImapPort={FaultServers.refused_port()}"))
        r = self.ctl("check", "jane@icloud.com")
        self.assertEqual(r.returncode, EXIT_CONNECTION_FAILED, r.stdout + r.stderr)
        self.assertIn("servers unreachable", r.stdout)

    def test_remove(self):
        self.assertEqual(self.add("jane@icloud.com").returncode, EXIT_OK)
        self.assertEqual(self.add("john@icloud.com").returncode, EXIT_OK)
        r = self.ctl("remove", "jane@icloud.com")
        self.assertEqual(r.returncode, EXIT_USAGE)
        self.assertIn("--yes", r.stderr)
        self.assertEqual(len(read_accounts(self.s)), 2)

        # On a terminal it asks; "n" keeps the account.
        status, output = self.on_terminal(["remove", "jane@icloud.com"], b"n\n")
        self.assertEqual(status, EXIT_CANCELLED, output)
        self.assertEqual(len(read_accounts(self.s)), 2)

        r = self.ctl("remove", "--yes", "jane@icloud.com")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertEqual(r.stdout.strip(), "Removed the account jane@icloud.com.")
        self.assertIsNone(lookup_secret(self.s, {"address": "jane@icloud.com"}))
        r, reply = self.ctl_json("remove", "--yes", "john@icloud.com")
        self.assertEqual(reply, {"address": "john@icloud.com", "removed": True})
        self.assertEqual(self.ctl("list").stdout.strip(), "No accounts.")
        self.assertEqual(self.ctl_json("list")[1], [])
        self.assertEqual(self.ctl("remove", "--yes", "jane@icloud.com").returncode, EXIT_NO_SUCH_ACCOUNT)

    def on_terminal(self, args, answer, timeout=30):
        """Runs mailsetupctl on a pseudo-terminal, types @answer once it has
        asked; returns (exit status, everything it wrote)."""
        master, slave = pty.openpty()
        env = dict(self.s.env)
        proc = subprocess.Popen([self.paths.mailsetupctl, *args], stdin=slave, stdout=slave, stderr=slave,
                                env=env, start_new_session=True)
        os.close(slave)
        output, answered = b"", False
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.1)
                if ready:
                    try:
                        chunk = os.read(master, 4096)
                    except OSError:
                        break
                    if not chunk:
                        break
                    output += chunk
                if not answered and b"?" in output:
                    os.write(master, answer)
                    answered = True
                if proc.poll() is not None and not ready:
                    break
            return proc.wait(timeout=10), output.decode(errors="replace")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)


class NoSecretService(CtlTestCase):
    keyring_component = False

    def test_add_without_a_keyring(self):
        r = self.add("jane@icloud.com")
        self.assertEqual(r.returncode, EXIT_SECRET_STORE_UNAVAILABLE, r.stderr)
        self.assertIn("Secret Service", r.stderr)
        self.assertEqual(self.ctl("list").stdout.strip(), "No accounts.")


if __name__ == "__main__":
    harness.main()
