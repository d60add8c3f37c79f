#!/usr/bin/env python3
"""Account.Export("goa"): the account published to a real goa-daemon,
activated on the session's bus, which keeps the password in the real
keyring.  GOA lists it with the Mail properties its IMAP/SMTP provider
read from the details, gives the password back, signs in itself to IMAP
and SMTP with them (Account.EnsureCredentials, as GNOME Settings does),
and a second publish makes no second account.  Without goa-daemon, or
without a stored password, Export fails with the documented errors.

goa-daemon verifies certificates through glib-networking, whose GnuTLS
backend trusts only the system's CA bundle (no SSL_CERT_FILE); the test
runs it in a mount namespace of its own where that file is the test CA
(handoff_support.GoaDaemon), so nothing on the machine changes.  Where no
such namespace can be made, the sign-in test is skipped and says so."""

import json
import os

import harness
from components import PASSWORD, wait_for
from handoff_support import (
    GOA_ACCOUNT_IFACE,
    GOA_MAIL_IFACE,
    add_account,
    ctl,
    export,
    export_error,
    handoff_case,
    secret_attributes,
)

ADDRESS = "jane@icloud.com"
NAME = "Jane Doe"
ERROR = harness.ERROR_PREFIX
EXIT_SERVICE_UNAVAILABLE = 19
EXIT_SECRET_STORE_UNAVAILABLE = 23


class GoaPublish(handoff_case(goa=True)):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.path = add_account(cls.session, ADDRESS, display_name=NAME)

    def accounts_for(self, address):
        return {path: ifaces for path, ifaces in self.goa.accounts(self.s).items()
                if ifaces[GOA_ACCOUNT_IFACE]["Identity"] == address}

    def test_publish(self):
        p = self.dovecot.ports
        goa_path = export(self.s, self.path, "goa")
        self.assertTrue(goa_path.startswith("/org/gnome/OnlineAccounts/Accounts/"), goa_path)

        accounts = self.accounts_for(ADDRESS)
        self.assertEqual(list(accounts), [goa_path], json.dumps(accounts, indent=1))
        account = accounts[goa_path][GOA_ACCOUNT_IFACE]
        self.assertEqual(account["ProviderType"], "imap_smtp")
        self.assertEqual(account["PresentationIdentity"], ADDRESS)
        self.assertFalse(account["MailDisabled"])
        # AttentionNeeded: see test_goa_signs_in.

        # What GOA's IMAP/SMTP provider made of the details: ports that are
        # not the protocol's usual ones are part of the host.
        mail = accounts[goa_path][GOA_MAIL_IFACE]
        expected = {
            "EmailAddress": ADDRESS,
            "Name": NAME,
            "ImapSupported": True,
            "ImapHost": f"127.0.0.1:{p['imaps']}",
            "ImapUserName": ADDRESS,
            "ImapUseSsl": True,
            "ImapUseTls": False,
            "ImapAcceptSslErrors": False,
            "SmtpSupported": True,
            "SmtpHost": f"127.0.0.1:{p['submission']}",
            "SmtpUseAuth": True,
            "SmtpUserName": ADDRESS,
            "SmtpAuthPlain": True,
            "SmtpAuthLogin": True,
            "SmtpUseSsl": False,
            "SmtpUseTls": True,
            "SmtpAcceptSslErrors": False,
        }
        self.assertEqual({k: mail.get(k) for k in expected}, expected)

        # The password, from GOA (which keeps it in the keyring).
        for key in ("imap-password", "smtp-password"):
            with self.subTest(key=key):
                self.assertEqual(self.goa.get_password(self.s, goa_path, key), PASSWORD)

        # GOA's own file has the account, and no password.
        with open(os.path.join(self.s.config_home, "goa-1.0", "accounts.conf")) as f:
            conf = f.read()
        self.assertIn("Provider=imap_smtp", conf)
        self.assertIn(f"Identity={ADDRESS}", conf)
        self.assertNotIn(PASSWORD, conf)

    def test_goa_signs_in(self):
        # What GNOME Settings, Evolution and Geary rely on: GOA itself signs
        # in to IMAP and SMTP with what was published.
        if not self.goa.trusts_test_ca:
            self.skipTest("no private mount namespace here, so goa-daemon cannot trust the test CA")
        goa_path = export(self.s, self.path, "goa")
        logins = self.dovecot.log().count("Login: user=<jane@icloud.com>")
        # An error reply (wrong host, port, TLS mode, user name or password)
        # fails here; a password account never expires (0).
        reply = self.s.call("EnsureCredentials", dest="org.gnome.OnlineAccounts", path=goa_path,
                            interface=GOA_ACCOUNT_IFACE, timeout=60)
        self.assertEqual(harness.plain(reply["data"]), [0])
        # Both its IMAP and its SMTP login reached Dovecot (whose log
        # process writes a moment later).
        wait_for(lambda: self.dovecot.log().count("Login: user=<jane@icloud.com>") >= logins + 2, 10,
                 what="GOA's IMAP and SMTP logins in Dovecot's log")
        account = self.accounts_for(ADDRESS)[goa_path][GOA_ACCOUNT_IFACE]
        self.assertFalse(account["AttentionNeeded"])

    def test_publish_again(self):
        first = export(self.s, self.path, "goa")
        second = export(self.s, self.path, "goa")
        self.assertEqual(second, first)
        self.assertEqual(list(self.accounts_for(ADDRESS)), [first])

    def test_mailsetupctl(self):
        r = ctl(self.s, "export", ADDRESS, "goa")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        goa_path = export(self.s, self.path, "goa")
        self.assertEqual(r.stdout, f"Published to GNOME Online Accounts: {goa_path}\n")

        r = ctl(self.s, "--json", "export", ADDRESS, "goa")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout), {"address": ADDRESS, "format": "goa", "goa-path": goa_path})

        # Nothing to install: GOA keeps its accounts itself.
        r = ctl(self.s, "export", "--install", ADDRESS, "goa")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("goa", r.stderr)

    def test_no_stored_password(self):
        address = "john@me.com"
        path = add_account(self.s, address)
        self.keyring.clear(self.s, **secret_attributes(self.s, path))
        name, message = export_error(self.s, path, "goa")
        self.assertEqual(name, ERROR + "SecretStoreUnavailable", message)
        self.assertEqual(self.accounts_for(address), {})

        r = ctl(self.s, "export", address, "goa")
        self.assertEqual(r.returncode, EXIT_SECRET_STORE_UNAVAILABLE, r.stdout + r.stderr)
        self.assertTrue(r.stderr.strip())


class GoaMissing(handoff_case()):
    """A session without goa-daemon: nothing answers for GOA."""

    def test_goa_not_running(self):
        path = add_account(self.s, ADDRESS)
        name, message = export_error(self.s, path, "goa")
        self.assertEqual(name, ERROR + "ServiceUnavailable", message)
        self.assertIn("GNOME Online Accounts", message)

        r = ctl(self.s, "export", ADDRESS, "goa")
        self.assertEqual(r.returncode, EXIT_SERVICE_UNAVAILABLE, r.stdout + r.stderr)
        self.assertIn("GNOME Online Accounts", r.stderr)
        self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    harness.main()
