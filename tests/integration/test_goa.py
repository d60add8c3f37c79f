#!/usr/bin/env python3
"""Account.Export("goa"): the account published to a real goa-daemon,
activated on the session's bus, which keeps the password in the real
keyring.  GOA lists it with the Mail properties its IMAP/SMTP provider
read from the details, gives the password back, signs in itself to IMAP
and SMTP with them (Account.EnsureCredentials, as GNOME Settings does),
and a second publish makes no second account.  Without goa-daemon, or
without a stored password, Export fails with the documented errors.

Publishing again: the GOA account mailsetup made carries the detail
MailsetupAccountId (read back from GOA's accounts.conf).  It is returned
as it is while it matches; after SetPassword, a new DisplayName, or the
mailsetup account removed and added again, it is replaced, and GOA still
has one account for the address.  An account a person made by hand for
the address is left as it was, and Export fails with AccountExists.

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
    ACCOUNT_IFACE,
    GOA_ACCOUNT_IFACE,
    GOA_MAIL_IFACE,
    add_account,
    ctl,
    export,
    export_error,
    handoff_case,
    account_property,
    secret_attributes,
)

ADDRESS = "jane@icloud.com"
NAME = "Jane Doe"
ERROR = harness.ERROR_PREFIX
EXIT_SERVICE_UNAVAILABLE = 19
EXIT_ACCOUNT_EXISTS = 21
EXIT_SECRET_STORE_UNAVAILABLE = 23
MARKER = "MailsetupAccountId"
# A revoked app-specific password: what GOA keeps until told otherwise.
REVOKED_PASSWORD = "wxyz-wxyz-wxyz-wxyz"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"


class GoaPublish(handoff_case(goa=True)):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Publishing again removes accounts: goa-daemon's own start-up
        # check must not be running then (see GoaDaemon.settle).
        cls.goa.settle(cls.session)
        cls.path = add_account(cls.session, ADDRESS, display_name=NAME)

    def accounts_for(self, address):
        return {path: ifaces for path, ifaces in self.goa.accounts(self.s).items()
                if ifaces[GOA_ACCOUNT_IFACE]["Identity"] == address}

    def mail(self, goa_path):
        return self.goa.accounts(self.s)[goa_path][GOA_MAIL_IFACE]

    def assertMarked(self, goa_path, path):
        group = self.goa.conf_group(self.s, goa_path)
        self.assertIsNotNone(group, goa_path)
        self.assertEqual(group.get(MARKER), account_property(self.s, path, "Id"), group)

    def assertPasswords(self, goa_path, password):
        for key in ("imap-password", "smtp-password"):
            with self.subTest(key=key):
                self.assertEqual(self.goa.get_password(self.s, goa_path, key), password)

    def assertReplaced(self, old, new, address=ADDRESS):
        """@new replaced @old: GOA has only @new for @address, and its
        file no longer names @old."""
        self.assertNotEqual(new, old)
        self.assertEqual(list(self.accounts_for(address)), [new])
        self.assertIsNone(self.goa.conf_group(self.s, old))

    def remove_from_goa(self, goa_path):
        if goa_path in self.goa.accounts(self.s):
            self.goa.remove_account(self.s, goa_path)

    def set_display_name(self, path, name):
        self.s.call("Set", "ssv", ACCOUNT_IFACE, "DisplayName", "s", name, path=path,
                    interface=PROPERTIES_IFACE)

    def store_password(self, path, password):
        """Replaces the stored secret itself (what SetPassword would do
        with a password Dovecot does not take)."""
        self.keyring.store(self.s, f"iCloud Mail password for {ADDRESS}", password,
                           **secret_attributes(self.s, path))

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
        # goa-daemon keeps the detail that says mailsetup made it.
        self.assertMarked(goa_path, self.path)

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
        # Nothing changed: the same GOA account, as it was.
        first = export(self.s, self.path, "goa")
        group = self.goa.conf_group(self.s, first)
        second = export(self.s, self.path, "goa")
        self.assertEqual(second, first)
        self.assertEqual(list(self.accounts_for(ADDRESS)), [first])
        self.assertEqual(self.goa.conf_group(self.s, first), group)

    def test_publish_after_set_password(self):
        # GOA got a password that was revoked since; SetPassword stores a
        # new one (the only one Dovecot takes), and publishing again hands
        # GOA the new one.
        self.addCleanup(self.store_password, self.path, PASSWORD)
        self.store_password(self.path, REVOKED_PASSWORD)
        stale = export(self.s, self.path, "goa")
        self.assertPasswords(stale, REVOKED_PASSWORD)

        self.s.call("SetPassword", "s", PASSWORD, path=self.path, interface=ACCOUNT_IFACE, timeout=45)
        updated = export(self.s, self.path, "goa")
        self.assertReplaced(stale, updated)
        self.assertPasswords(updated, PASSWORD)
        self.assertMarked(updated, self.path)
        with open(os.path.join(self.s.config_home, "goa-1.0", "accounts.conf")) as f:
            self.assertNotIn(REVOKED_PASSWORD, f.read())
        # GOA dropped the old account's credentials from the keyring.
        items = self.keyring.search(self.s, **{"xdg:schema": "org.gnome.OnlineAccounts"})
        self.assertTrue(items)
        self.assertFalse([i for i in items if REVOKED_PASSWORD in i.get("secret", "")], items)

        # Now it matches: publishing again keeps it.
        self.assertEqual(export(self.s, self.path, "goa"), updated)

    def test_publish_after_rename(self):
        # The DisplayName is GOA's "Name" (the From name in Evolution).
        first = export(self.s, self.path, "goa")
        self.addCleanup(self.set_display_name, self.path, NAME)
        self.set_display_name(self.path, "Jane Q. Doe")
        renamed = export(self.s, self.path, "goa")
        self.assertReplaced(first, renamed)
        self.assertEqual(self.mail(renamed)["Name"], "Jane Q. Doe")
        self.assertEqual(self.mail(renamed)["EmailAddress"], ADDRESS)
        self.assertPasswords(renamed, PASSWORD)
        self.assertMarked(renamed, self.path)
        self.assertEqual(export(self.s, self.path, "goa"), renamed)

    def test_readded_account(self):
        # The mailsetup account removed and added again (a new Id, other
        # settings): the GOA account the old one left is replaced, not
        # taken for someone's own.
        address = "john@icloud.com"
        path = add_account(self.s, address, display_name="John")
        old = export(self.s, path, "goa")
        self.s.call("Remove", path=path, interface=ACCOUNT_IFACE)
        self.assertEqual(list(self.accounts_for(address)), [old])

        path = add_account(self.s, address, display_name="John Smith")
        self.addCleanup(self.s.call, "Remove", path=path, interface=ACCOUNT_IFACE)
        new = export(self.s, path, "goa")
        self.addCleanup(self.remove_from_goa, new)
        self.assertReplaced(old, new, address)
        self.assertEqual(self.mail(new)["Name"], "John Smith")
        self.assertMarked(new, path)

    def test_hand_made_account(self):
        # Someone made an IMAP/SMTP account for the address in GNOME
        # Settings: mailsetup neither changes nor adopts it, and makes no
        # second one beside it.
        address = "john@mac.com"
        path = add_account(self.s, address)
        self.addCleanup(self.s.call, "Remove", path=path, interface=ACCOUNT_IFACE)
        p = self.dovecot.ports
        details = {  # on this machine: tests never leave it
            "EmailAddress": address, "Name": "John by hand",
            "ImapHost": f"127.0.0.1:{p['imaps']}", "ImapUserName": "john", "ImapUseSsl": "true",
            "ImapUseTls": "false", "SmtpHost": f"127.0.0.1:{p['submission']}", "SmtpUseAuth": "true",
            "SmtpUserName": address, "SmtpAuthPlain": "true", "SmtpUseSsl": "false",
            "SmtpUseTls": "true", "Enabled": "true",
        }
        hand_made = self.goa.add_account(self.s, address, details, "typed-by-hand")
        self.addCleanup(self.remove_from_goa, hand_made)
        before = (self.accounts_for(address), self.goa.conf_group(self.s, hand_made))
        self.assertNotIn(MARKER, before[1])

        name, message = export_error(self.s, path, "goa")
        self.assertEqual(name, ERROR + "AccountExists", message)
        self.assertIn(address, message)
        self.assertIn("Online Accounts", message)

        r = ctl(self.s, "export", address, "goa")
        self.assertEqual(r.returncode, EXIT_ACCOUNT_EXISTS, r.stdout + r.stderr)
        self.assertIn("Online Accounts", r.stderr)
        self.assertEqual(r.stdout, "")

        # Untouched: the same account, details and password.
        self.assertEqual((self.accounts_for(address), self.goa.conf_group(self.s, hand_made)), before)
        self.assertPasswords(hand_made, "typed-by-hand")

        # Once the person removed it, mailsetup publishes its own.
        self.goa.remove_account(self.s, hand_made)
        published = export(self.s, path, "goa")
        self.addCleanup(self.remove_from_goa, published)
        self.assertEqual(list(self.accounts_for(address)), [published])
        self.assertMarked(published, path)

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
