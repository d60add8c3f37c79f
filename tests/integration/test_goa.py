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
as it is while it matches; after the mailsetup account was removed and
added again, it is replaced, and GOA still has one account for the
address.  An account a person made by hand for the address is left as it
was, and Export fails with AccountExists.

Following changes: after SetPassword or a new DisplayName, the daemon
brings the GOA account it published up to date by itself (no Export),
in the background; the tests wait for the daemon's log line that says
the update ended (its debug messages are on).  Updates one after another
end with one account.  An account never published gets no GOA account
that way, a hand-made one is left alone, a goa-daemon that is not
running is not started, and a failure (no stored password) changes
nothing but the log.

goa-daemon verifies certificates through glib-networking, whose GnuTLS
backend trusts only the system's CA bundle (no SSL_CERT_FILE); the test
runs it in a mount namespace of its own where that file is the test CA
(handoff_support.GoaDaemon), so nothing on the machine changes.  Where no
such namespace can be made, the sign-in test is skipped and says so."""

import concurrent.futures
import json
import os
import re

import harness
from components import PASSWORD, wait_for
from handoff_support import (
    ACCOUNT_IFACE,
    GOA_ACCOUNT_IFACE,
    GOA_MAIL_IFACE,
    GOA_NAME,
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
# The daemon's debug messages say when it is done with GOA's copy.
DEBUG_ENV = {"G_MESSAGES_DEBUG": "mailsetupd"}


def goa_updates(session, address):
    """How many times the daemon has finished bringing GOA's copy of
    @address up to date (done, nothing to do, or failed), by its log."""
    pattern = re.compile(
        r"(GNOME Online Accounts has no copy of|The GNOME Online Accounts copy of"
        r"|Could not update the GNOME Online Accounts copy of) " + re.escape(address) + r"[: ]")
    return len(pattern.findall(session.log()))


def goa_update_failures(session, address):
    return session.log().count("Could not update the GNOME Online Accounts copy of " + address)


class FollowingChanges:
    """SetPassword and DisplayName, each waiting until the daemon is done
    with GOA's copy (in the background, after the reply)."""

    def wait_goa_update(self, address, before):
        wait_for(lambda: goa_updates(self.s, address) > before, 20,
                 what=f"the daemon done with GOA's copy of {address}")

    def set_password(self, path, address, password):
        before = goa_updates(self.s, address)
        self.s.call("SetPassword", "s", password, path=path, interface=ACCOUNT_IFACE, timeout=45)
        self.wait_goa_update(address, before)

    def set_display_name(self, path, name, address=ADDRESS):
        before = goa_updates(self.s, address)
        self.s.call("Set", "ssv", ACCOUNT_IFACE, "DisplayName", "s", name, path=path,
                    interface=PROPERTIES_IFACE)
        self.wait_goa_update(address, before)


class GoaPublish(FollowingChanges, handoff_case(goa=True)):
    daemon_env = DEBUG_ENV

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

    def only_account(self, address=ADDRESS):
        """The one GOA account for @address, or None while there are more
        (a replacement under way) or none."""
        accounts = list(self.accounts_for(address))
        return accounts[0] if len(accounts) == 1 else None

    def replacement_of(self, old, address=ADDRESS):
        """The one GOA account for @address if it is not @old, else None."""
        account = self.only_account(address)
        return account if account != old else None

    def test_set_password_reaches_goa(self):
        # GOA got a password that was revoked since; SetPassword stores a
        # new one (the only one Dovecot takes), and GOA gets it without
        # another Export: Evolution and Geary sign in with what GOA has.
        self.addCleanup(self.store_password, self.path, PASSWORD)
        self.store_password(self.path, REVOKED_PASSWORD)
        stale = export(self.s, self.path, "goa")
        self.assertPasswords(stale, REVOKED_PASSWORD)

        before = goa_updates(self.s, ADDRESS)
        failures = goa_update_failures(self.s, ADDRESS)
        self.s.call("SetPassword", "s", PASSWORD, path=self.path, interface=ACCOUNT_IFACE, timeout=45)
        updated = wait_for(lambda: self.replacement_of(stale), 20, what="GOA's copy replaced")
        self.wait_goa_update(ADDRESS, before)
        self.assertReplaced(stale, updated)
        self.assertPasswords(updated, PASSWORD)
        self.assertMarked(updated, self.path)
        self.assertEqual(goa_update_failures(self.s, ADDRESS), failures, self.s.log())
        with open(os.path.join(self.s.config_home, "goa-1.0", "accounts.conf")) as f:
            self.assertNotIn(REVOKED_PASSWORD, f.read())
        # GOA dropped the old account's credentials from the keyring.
        items = self.keyring.search(self.s, **{"xdg:schema": "org.gnome.OnlineAccounts"})
        self.assertTrue(items)
        self.assertFalse([i for i in items if REVOKED_PASSWORD in i.get("secret", "")], items)

        # It matches: publishing again keeps it, and so does the same
        # password set again.
        self.assertEqual(export(self.s, self.path, "goa"), updated)
        self.set_password(self.path, ADDRESS, PASSWORD)
        self.assertEqual(list(self.accounts_for(ADDRESS)), [updated])
        # The daemon's messages (debug ones included) name no password.
        log = self.s.log()
        self.assertNotIn(PASSWORD, log)
        self.assertNotIn(REVOKED_PASSWORD, log)

    def test_rename_without_stored_password(self):
        # The keyring lost the password, which a new GOA account needs:
        # the new name is taken all the same, GOA's copy stays as it
        # was, and the log says why.
        goa_path = export(self.s, self.path, "goa")
        self.addCleanup(self.set_display_name, self.path, NAME)
        self.addCleanup(self.store_password, self.path, PASSWORD)
        self.keyring.clear(self.s, **secret_attributes(self.s, self.path))
        failures = goa_update_failures(self.s, ADDRESS)
        self.set_display_name(self.path, "Jane Without")
        self.assertEqual(account_property(self.s, self.path, "DisplayName"), "Jane Without")
        self.assertEqual(goa_update_failures(self.s, ADDRESS), failures + 1, self.s.log())
        self.assertRegex(self.s.log(), "WARNING.*Could not update the GNOME Online Accounts copy of "
                         + re.escape(ADDRESS) + ": No password is stored")
        self.assertEqual(list(self.accounts_for(ADDRESS)), [goa_path])
        self.assertEqual(self.mail(goa_path)["Name"], NAME)

    def test_rename_reaches_goa(self):
        # The DisplayName is GOA's "Name" (the From name in Evolution).
        first = export(self.s, self.path, "goa")
        self.addCleanup(self.set_display_name, self.path, NAME)
        before = goa_updates(self.s, ADDRESS)
        self.s.call("Set", "ssv", ACCOUNT_IFACE, "DisplayName", "s", "Jane Q. Doe", path=self.path,
                    interface=PROPERTIES_IFACE)
        renamed = wait_for(lambda: self.replacement_of(first), 20, what="GOA's copy replaced")
        self.wait_goa_update(ADDRESS, before)
        self.assertReplaced(first, renamed)
        self.assertEqual(self.mail(renamed)["Name"], "Jane Q. Doe")
        self.assertEqual(self.mail(renamed)["EmailAddress"], ADDRESS)
        self.assertPasswords(renamed, PASSWORD)
        self.assertMarked(renamed, self.path)
        self.assertEqual(export(self.s, self.path, "goa"), renamed)

    def test_renames_at_once(self):
        # A settings panel that sets the name as the person types, or
        # several programs at once: the updates run one after another
        # (side by side, each would add a new account), and GOA ends with
        # one account, with the name the account ended with.
        export(self.s, self.path, "goa")
        self.addCleanup(self.set_display_name, self.path, NAME)
        before = goa_updates(self.s, ADDRESS)
        names = [f"Jane {i}" for i in range(6)]
        with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
            list(pool.map(lambda name: self.s.call(
                "Set", "ssv", ACCOUNT_IFACE, "DisplayName", "s", name, path=self.path,
                interface=PROPERTIES_IFACE), names))
        wait_for(lambda: goa_updates(self.s, ADDRESS) >= before + len(names), 40,
                 what="every update of GOA's copy done")
        renamed = self.only_account()
        self.assertIsNotNone(renamed, json.dumps(self.accounts_for(ADDRESS), indent=1))
        self.assertEqual(self.mail(renamed)["Name"], account_property(self.s, self.path, "DisplayName"))
        self.assertMarked(renamed, self.path)
        self.assertPasswords(renamed, PASSWORD)

    def test_never_published(self):
        # GOA runs, but has no copy of this account: a new password or
        # name adds none.
        address = "john@icloud.com"
        path = add_account(self.s, address)
        self.addCleanup(self.s.call, "Remove", path=path, interface=ACCOUNT_IFACE)
        self.assertEqual(self.accounts_for(address), {})
        self.set_password(path, address, PASSWORD)
        self.set_display_name(path, "John Smith", address)
        self.assertEqual(self.accounts_for(address), {})
        self.assertIn(f"GNOME Online Accounts has no copy of {address} to update", self.s.log())
        self.assertEqual(goa_update_failures(self.s, address), 0, self.s.log())

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

        # A new password for the mailsetup account does not reach it
        # either, and that is no failure: GOA has no copy of ours.
        self.set_password(path, address, PASSWORD)
        self.assertEqual((self.accounts_for(address), self.goa.conf_group(self.s, hand_made)), before)
        self.assertPasswords(hand_made, "typed-by-hand")
        self.assertEqual(goa_update_failures(self.s, address), 0, self.s.log())

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


class GoaMissing(FollowingChanges, handoff_case()):
    """A session without goa-daemon: nothing answers for GOA."""

    daemon_env = DEBUG_ENV

    def test_set_password_without_goa(self):
        # Nothing to update, and nothing that failed.
        address = "john@icloud.com"
        path = add_account(self.s, address)
        self.addCleanup(self.s.call, "Remove", path=path, interface=ACCOUNT_IFACE)
        self.set_password(path, address, PASSWORD)
        self.assertEqual(account_property(self.s, path, "Status"), "ok")
        self.assertEqual(goa_update_failures(self.s, address), 0, self.s.log())

    def test_goa_not_running(self):
        path = add_account(self.s, ADDRESS)
        name, message = export_error(self.s, path, "goa")
        self.assertEqual(name, ERROR + "ServiceUnavailable", message)
        self.assertIn("GNOME Online Accounts", message)

        r = ctl(self.s, "export", ADDRESS, "goa")
        self.assertEqual(r.returncode, EXIT_SERVICE_UNAVAILABLE, r.stdout + r.stderr)
        self.assertIn("GNOME Online Accounts", r.stderr)
        self.assertEqual(r.stdout, "")


class GoaNotRunning(FollowingChanges, handoff_case(goa=True)):
    """goa-daemon can be activated, but nothing has started it: a new
    password or name does not start it (the person may not use GNOME, and
    a GOA that is not running has no copy of ours to update)."""

    daemon_env = DEBUG_ENV

    def test_not_started(self):
        path = add_account(self.s, ADDRESS)
        self.assertFalse(self.s.name_has_owner(GOA_NAME))
        self.set_password(path, ADDRESS, PASSWORD)
        self.set_display_name(path, "Jane")
        self.assertEqual(account_property(self.s, path, "Status"), "ok")
        self.assertFalse(self.s.name_has_owner(GOA_NAME))
        self.assertEqual(goa_update_failures(self.s, ADDRESS), 0, self.s.log())


if __name__ == "__main__":
    harness.main()
