#!/usr/bin/env python3
"""Account.Export read by the real programs, with the real keyring and the
real Dovecot: msmtp sends a message through Dovecot's submission port,
mbsync syncs INBOX into a Maildir, NeoMutt and aerc (in a pseudo-terminal,
they have no headless mode) open INBOX and list its messages, and the
Thunderbird file, read back by mailsetup's own provider parser in a second
session, gives the settings validation found.  Each program gets the
password from the keyring through the secret-tool command in the export.

tests/unit/test-export.c checks each format's text and quoting (odd
addresses and names) and the programs' reading of it with a fake
secret-tool; these tests check that what the daemon exports for a real
account works end to end.

The IMAP and SMTP host is "localhost", not 127.0.0.1: isync 1.4 checks
the certificate's DNS names only, not its IP addresses.  The test CA is
trusted through SSL_CERT_FILE (the session's), which mbsync (OpenSSL) and
aerc (Go) read; msmtp and NeoMutt (GnuTLS) read only the system's store,
so they are given the CA on their command line (--tls-trust-file,
-e 'set ssl_ca_certificates_file=…'): the exported files are used as they
are."""

import os
import subprocess
import uuid

import harness
from components import PASSWORD, wait_for
from handoff_support import (
    SECRET_SCHEMA,
    account_property,
    add_account,
    dovecot_logins,
    export,
    export_error,
    handoff_case,
    imap_append,
    make_message,
)

ADDRESS = "jane@icloud.com"
NAME = "Jane Doe"
# Dovecot knows "john" by the local part only: his exports carry "john".
LOCAL_PART_ADDRESS = "john@me.com"
TEXT_FORMATS = ["thunderbird", "msmtp", "mbsync", "neomutt", "aerc"]
# How long a mail program in a pseudo-terminal gets to show INBOX.
PROGRAM_WAIT = 20


class ExportPrograms(handoff_case(host="localhost")):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.session
        cls.path = add_account(s, ADDRESS, display_name=NAME)
        cls.local_part_path = add_account(s, LOCAL_PART_ADDRESS)
        cls.account_id = account_property(s, cls.path, "Id")
        cls.dir = os.path.join(s.tmp, "exports")
        os.makedirs(cls.dir)

    def write_export(self, format, path=None, name=None):
        """Account.Export(@format) saved as a 0600 file; returns its path."""
        text = export(self.s, path or self.path, format)
        file = os.path.join(self.dir, name or format)
        with open(file, "w") as f:
            f.write(text)
        os.chmod(file, 0o600)
        return file

    def run_in_terminal(self, argv, until, env=None):
        """Runs @argv in a pseudo-terminal (script(1)) until its output
        holds @until (bytes) or PROGRAM_WAIT passes; stops it and returns
        its output."""
        harness.need_program("script")
        out_path = os.path.join(self.dir, f"terminal-{uuid.uuid4().hex}.out")
        full_env = {"TERM": "xterm", "SHELL": "/bin/sh", "COLUMNS": "120", "LINES": "40"}
        full_env.update(env or {})
        with open(out_path, "wb") as out:
            proc = self.s.spawn(
                ["script", "-qfec", subprocess.list2cmdline(argv), "/dev/null"],
                env=full_env, stdin=subprocess.PIPE, stdout=out, stderr=out,
            )

        def output():
            with open(out_path, "rb") as f:
                return f.read()

        try:
            wait_for(lambda: until in output() or proc.poll() is not None, PROGRAM_WAIT,
                     what=f"{argv[0]} showing {until!r}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=harness.STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdin.close()
            self.s.forget(proc)
        return output()

    def put_mail(self, *subjects):
        for subject in subjects:
            imap_append(self.certs, self.dovecot, ADDRESS, make_message(subject))

    # -- every format ---------------------------------------------------------

    def test_formats_hold_no_password(self):
        formats = harness.plain(self.s.call("Get", "ss", "org.mailsetup.MailSetup1.Manager", "ExportFormats",
                                            interface="org.freedesktop.DBus.Properties")["data"][0])
        self.assertEqual(formats, TEXT_FORMATS + ["goa"])
        for format in TEXT_FORMATS:
            with self.subTest(format=format):
                text = export(self.s, self.path, format)
                self.assertNotIn(PASSWORD, text)
                if format != "thunderbird":
                    self.assertIn(ADDRESS, text)
                    self.assertIn(f"secret-tool lookup xdg:schema {SECRET_SCHEMA} address {ADDRESS} "
                                  f"account-id {self.account_id}", text)

    def test_password_command_reads_the_keyring(self):
        # The command in the exports, run as the programs run it (sh -c),
        # prints the stored password.
        text = export(self.s, self.path, "msmtp")
        command = next(line.split(" ", 1)[1] for line in text.splitlines()
                       if line.startswith("passwordeval "))
        r = self.s.run(["sh", "-c", command])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), PASSWORD)

    def test_unknown_format(self):
        name, message = export_error(self.s, self.path, "pine")
        self.assertEqual(name, "org.freedesktop.DBus.Error.InvalidArgs", message)
        for format in TEXT_FORMATS:
            self.assertIn(format, message)

    # -- the programs ---------------------------------------------------------

    def test_msmtp_sends_through_dovecot(self):
        harness.need_program("msmtp")
        config = self.write_export("msmtp")
        subject = f"msmtp-{uuid.uuid4().hex}"
        before = self.dovecot.log().count("Successfully relayed message: from=<jane@icloud.com>")
        r = self.s.run(
            ["msmtp", "-C", config, "--tls-trust-file=" + self.certs.ca, "-a", ADDRESS, "bob@example.org"],
            input=f"To: bob@example.org\nSubject: {subject}\n\nHello.\n",
        )
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Dovecot took the message after a login with the keyring's
        # password, and relayed it.
        wait_for(lambda: self.dovecot.log().count("Successfully relayed message: from=<jane@icloud.com>") > before,
                 10, what="Dovecot relaying msmtp's message")
        self.assertNotIn(PASSWORD, r.stdout + r.stderr)

    def test_msmtp_default_account(self):
        # Without -a the export's "account default" applies.
        harness.need_program("msmtp")
        config = self.write_export("msmtp")
        r = self.s.run(["msmtp", "-C", config, "--tls-trust-file=" + self.certs.ca, "--serverinfo"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"port {self.dovecot.ports['submission']}", r.stdout)
        self.assertIn("STARTTLS", r.stdout)
        self.assertIn("Maximum message size", r.stdout)

    def test_mbsync_syncs_inbox(self):
        harness.need_program("mbsync")
        config = self.write_export("mbsync")
        with open(config) as f:
            text = f.read()
        # The steps the export's own comment gives.
        maildir = next(line.split("mkdir -p ~/", 1)[1] for line in text.splitlines() if "mkdir -p ~/" in line)
        channel = next(line.split("fetch mail with: mbsync ", 1)[1] for line in text.splitlines()
                       if "fetch mail with: mbsync " in line)
        os.makedirs(os.path.join(self.s.home, maildir), exist_ok=True)
        subjects = [f"mbsync-{uuid.uuid4().hex}" for _ in range(2)]
        self.put_mail(*subjects)

        r = self.s.run(["mbsync", "-c", config, channel], timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        inbox = os.path.join(self.s.home, maildir, "INBOX")
        texts = []
        for sub in ("new", "cur"):
            for name in os.listdir(os.path.join(inbox, sub)):
                with open(os.path.join(inbox, sub, name), errors="replace") as f:
                    texts.append(f.read())
        for subject in subjects:
            self.assertTrue(any(f"Subject: {subject}" in t for t in texts), f"{subject} not synced: {texts}")

        # Again: nothing new, still fine.
        r = self.s.run(["mbsync", "-c", config, channel], timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_neomutt_reads_the_password(self):
        harness.need_program("neomutt")
        config = self.write_export("neomutt")
        r = self.s.run(["neomutt", "-n", "-F", config, "-Q", "imap_pass", "-Q", "smtp_pass",
                        "-Q", "imap_user", "-Q", "real_name"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f'set imap_pass = "{PASSWORD}"', r.stdout)
        self.assertIn(f'set smtp_pass = "{PASSWORD}"', r.stdout)
        self.assertIn(f'set imap_user = "{ADDRESS}"', r.stdout)
        self.assertIn(f'set real_name = "{NAME}"', r.stdout)

    def test_neomutt_opens_inbox(self):
        harness.need_program("neomutt")
        config = self.write_export("neomutt")
        subject = f"neomutt-{uuid.uuid4().hex[:12]}"
        self.put_mail(subject)
        logins = len(dovecot_logins(self.dovecot, ADDRESS))
        out = self.run_in_terminal(
            ["neomutt", "-n", "-F", config, "-e", f"set ssl_ca_certificates_file={self.certs.ca}"],
            until=subject.encode(),
        )
        self.assertIn(subject.encode(), out, out[-3000:])
        self.assertGreater(len(dovecot_logins(self.dovecot, ADDRESS)), logins)

    def test_aerc_opens_inbox(self):
        harness.need_program("aerc")
        # aerc reads its accounts from this file only (0600, or it refuses).
        aerc_dir = os.path.join(self.s.config_home, "aerc")
        os.makedirs(aerc_dir, exist_ok=True)
        self.write_export("aerc", name=os.path.join(aerc_dir, "accounts.conf"))
        subject = f"aerc-{uuid.uuid4().hex[:12]}"
        self.put_mail(subject)
        logins = len(dovecot_logins(self.dovecot, ADDRESS))
        try:
            out = self.run_in_terminal(["aerc"], until=subject.encode())
        finally:
            os.unlink(os.path.join(aerc_dir, "accounts.conf"))
        self.assertNotIn(b"Failed to load config", out)
        self.assertIn(subject.encode(), out, out[-3000:])
        self.assertGreater(len(dovecot_logins(self.dovecot, ADDRESS)), logins)

    # -- Thunderbird, through mailsetup's own parser ----------------------------

    def test_thunderbird_file_gives_the_same_settings(self):
        files = {
            ADDRESS: self.write_export("thunderbird", name="icloud.com.xml"),
            LOCAL_PART_ADDRESS: self.write_export("thunderbird", path=self.local_part_path, name="me.com.xml"),
        }
        expected = {}
        for address, path in ((ADDRESS, self.path), (LOCAL_PART_ADDRESS, self.local_part_path)):
            props = {k: account_property(self.s, path, k) for k in (
                "ImapHost", "ImapPort", "ImapSecurity", "ImapUsername",
                "SmtpHost", "SmtpPort", "SmtpSecurity", "SmtpUsername")}
            expected[address] = props
        self.assertEqual(expected[LOCAL_PART_ADDRESS]["ImapUsername"], "john")

        # A second session whose only provider files for these domains are
        # the exported ones.
        other = self.new_session()
        for address, file in files.items():
            with open(file) as f:
                other.write_provider_override(os.path.basename(file), f.read())
        for address, props in expected.items():
            with self.subTest(address=address):
                settings = harness.plain(other.call("LookupProvider", "s", address)["data"][0])
                got = {
                    "ImapHost": settings["imap-host"], "ImapPort": settings["imap-port"],
                    "ImapSecurity": settings["imap-security"], "ImapUsername": settings["imap-username"],
                    "SmtpHost": settings["smtp-host"], "SmtpPort": settings["smtp-port"],
                    "SmtpSecurity": settings["smtp-security"], "SmtpUsername": settings["smtp-username"],
                }
                self.assertEqual(got, props)
                self.assertEqual(settings["provider"], address.split("@")[1])


if __name__ == "__main__":
    harness.main()
