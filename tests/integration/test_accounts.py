#!/usr/bin/env python3
"""Accounts with a real gnome-keyring and a real Dovecot: AddAccount keeps
the password in the Secret Service and the settings (not the password) in
a private file; accounts come back after a restart, unchecked; Check,
SetPassword and Remove; a missing, locked or absent Secret Service; a
damaged account file."""

import base64
import json
import os
import stat
import time

import harness
from accounts_support import (
    ACCOUNT_IFACE,
    SCHEMA,
    WRONG_PASSWORD,
    BusCapture,
    account_call,
    account_error,
    account_path,
    accounts_dir,
    accounts_file,
    add_account,
    add_account_error,
    lookup_secret,
    mailsetup_secrets,
    managed_objects,
    prop,
    properties,
    read_accounts,
    remove_all_accounts,
    secret_forms,
    wait_status,
)
from components import (
    ERROR,
    DelayProxy,
    PASSWORD,
    DovecotServer,
    FaultServers,
    GnomeKeyring,
    ProviderOverride,
    TestCertificates,
    ensure_daemon_answers,
    restart_daemon,
    wait_for,
)
from harness import SessionTestCase

CONTENTS = ("Address", "Provider", "ImapHost", "ImapPort", "ImapSecurity", "ImapUsername",
            "SmtpHost", "SmtpPort", "SmtpSecurity", "SmtpUsername")


def use_components(cls, keyring=True, locked=False):
    """Fresh components for @cls's session (a component remembers what it
    started, so no two classes may share one)."""
    cls.certs = TestCertificates()
    cls.dovecot = DovecotServer()
    cls.override = ProviderOverride(dovecot=cls.dovecot)
    cls.keyring = GnomeKeyring(locked=locked) if keyring else None
    cls.components = [cls.certs, cls.dovecot, cls.override] + ([cls.keyring] if keyring else [])


class AccountsTestCase(SessionTestCase):
    @classmethod
    def setUpClass(cls):
        use_components(cls)
        super().setUpClass()

    def setUp(self):
        remove_all_accounts(self.s, self.keyring)

    def tearDown(self):
        ensure_daemon_answers(self.s)

    def secret_of(self, path):
        return lookup_secret(self.s, prop(self.s, path, "SecretAttributes"))

    def file_text(self):
        with open(accounts_file(self.s), "rb") as f:
            return f.read()

    def assertFileHasNoPassword(self, *passwords):
        data = self.file_text()
        for password in passwords:
            for form in secret_forms(password, ("jane@icloud.com", "john", "john@icloud.com")):
                self.assertNotIn(form.encode(), data, f"accounts.conf holds the password ({form!r})")
            self.assertNotIn(base64.b64encode(password.encode()).rstrip(b"="), data)


class Adding(AccountsTestCase):
    def test_add_keeps_the_password_in_the_keyring_only(self):
        monitor = BusCapture(self.s)
        path = add_account(self.s, "john@icloud.com", display_name="John at work")
        self.assertEqual(path, account_path("john@icloud.com"))
        p = properties(self.s, path)

        # What validation found is what the account keeps.
        self.assertEqual(p["Address"], "john@icloud.com")
        self.assertEqual(p["Provider"], "icloud.com")
        self.assertEqual(p["DisplayName"], "John at work")
        self.assertEqual(p["ImapUsername"], "john")
        self.assertEqual(p["SmtpUsername"], "john")
        self.assertEqual((p["ImapHost"], p["ImapPort"], p["ImapSecurity"]),
                         ("127.0.0.1", self.dovecot.ports["imaps"], "tls"))
        self.assertEqual((p["SmtpHost"], p["SmtpPort"], p["SmtpSecurity"]),
                         ("127.0.0.1", self.dovecot.ports["submission"], "starttls"))
        self.assertEqual(p["Status"], "ok")
        self.assertTrue(p["StatusMessage"])
        self.assertLessEqual(abs(p["LastChecked"] - time.time()), 60)
        self.assertRegex(p["Id"], r"^[A-Za-z0-9_-]+$")
        self.assertEqual(p["SecretAttributes"],
                         {"xdg:schema": SCHEMA, "address": "john@icloud.com", "account-id": p["Id"]})

        # The password is in the keyring under exactly those attributes.
        self.assertEqual(lookup_secret(self.s, p["SecretAttributes"]), PASSWORD)
        items = mailsetup_secrets(self.s, self.keyring)
        self.assertEqual(len(items), 1, items)
        self.assertEqual(items[0]["label"], "iCloud Mail password for john@icloud.com")
        self.assertEqual(account_call(self.s, path, "GetPassword"), [PASSWORD])

        # The file: private, no password, the same settings.
        folder = accounts_dir(self.s)
        self.assertEqual(stat.S_IMODE(os.stat(folder).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(accounts_file(self.s)).st_mode), 0o600)
        self.assertFileHasNoPassword(PASSWORD)
        self.assertEqual([n for n in os.listdir(folder) if n.startswith("accounts.conf")], ["accounts.conf"])
        accounts = read_accounts(self.s)
        self.assertEqual(list(accounts), [p["Id"]])
        entry = accounts[p["Id"]]
        for key in CONTENTS:
            self.assertEqual(str(p[key]), entry.get(key), key)
        self.assertEqual(entry.get("DisplayName"), "John at work")

        # Seen on the bus, and listed.
        wait_for(lambda: monitor.signals("InterfacesAdded", harness.OBJECT_PATH), 5, what="InterfacesAdded")
        added = monitor.signals("InterfacesAdded", harness.OBJECT_PATH)
        self.assertEqual(len(added), 1, added)
        self.assertIn(f'object path "{path}"', added[0].text)
        monitor.stop()
        self.assertEqual(list(managed_objects(self.s)), [path])

    def test_address_user_name_and_second_account(self):
        jane = add_account(self.s, "jane@icloud.com")
        john = add_account(self.s, "john@me.com")
        self.assertEqual(prop(self.s, jane, "ImapUsername"), "jane@icloud.com")
        self.assertEqual(prop(self.s, jane, "SmtpUsername"), "jane@icloud.com")
        self.assertEqual(prop(self.s, john, "ImapUsername"), "john")
        self.assertEqual(sorted(managed_objects(self.s)), sorted([jane, john]))
        self.assertEqual(len(read_accounts(self.s)), 2)
        self.assertEqual(self.secret_of(jane), PASSWORD)
        self.assertEqual(self.secret_of(john), PASSWORD)
        self.assertEqual(len(mailsetup_secrets(self.s, self.keyring)), 2)

    def test_already_there(self):
        path = add_account(self.s, "jane@icloud.com")
        before = self.file_text()
        attributes = prop(self.s, path, "SecretAttributes")
        name, message = add_account_error(self.s, "jane@icloud.com")
        self.assertEqual(name, ERROR + "AccountExists", message)
        self.assertIn("jane@icloud.com", message)
        # Spaces and the domain's case do not make a second account.
        name, _ = add_account_error(self.s, " jane@ICLOUD.com ")
        self.assertEqual(name, ERROR + "AccountExists")
        self.assertEqual(self.file_text(), before)
        self.assertEqual(len(mailsetup_secrets(self.s, self.keyring)), 1)
        self.assertEqual(lookup_secret(self.s, attributes), PASSWORD)

    def test_wrong_password_adds_nothing(self):
        name, message = add_account_error(self.s, "jane@icloud.com", WRONG_PASSWORD)
        self.assertEqual(name, ERROR + "AuthenticationFailed", message)
        self.assertEqual(managed_objects(self.s), {})
        self.assertEqual(read_accounts(self.s), {})
        self.assertEqual(mailsetup_secrets(self.s, self.keyring), [])

    def test_display_name_is_written_and_survives_a_restart(self):
        path = add_account(self.s, "jane@icloud.com")
        account_call(self.s, path, "Set", "ssv", ACCOUNT_IFACE, "DisplayName", "s", "Jane (home)",
                     interface="org.freedesktop.DBus.Properties")
        wait_for(lambda: list(read_accounts(self.s).values())[0].get("DisplayName") == "Jane (home)", 5,
                 what="DisplayName written to the file")
        restart_daemon(self.s)
        self.assertEqual(prop(self.s, path, "DisplayName"), "Jane (home)")


class Restarting(AccountsTestCase):
    def test_accounts_come_back_unchecked_then_check(self):
        jane = add_account(self.s, "jane@icloud.com", display_name="Jane")
        john = add_account(self.s, "john@mac.com")
        before = {path: properties(self.s, path) for path in (jane, john)}
        restart_daemon(self.s)

        self.assertEqual(sorted(managed_objects(self.s)), sorted([jane, john]))
        for path, old in before.items():
            with self.subTest(path=path):
                # The start-up lists the keyring; both have their secret.
                time.sleep(0.2)
                new = properties(self.s, path)
                self.assertEqual(new["Status"], "unchecked", new)
                for key in CONTENTS + ("Id", "DisplayName", "SecretAttributes", "LastChecked"):
                    self.assertEqual(new[key], old[key], key)

        monitor = BusCapture(self.s)
        started = int(time.time())
        self.assertEqual(account_call(self.s, jane, "Check"), [])
        p = properties(self.s, jane)
        self.assertEqual(p["Status"], "ok", p)
        self.assertIn("127.0.0.1", p["StatusMessage"])
        self.assertGreaterEqual(p["LastChecked"], started)
        wait_for(lambda: "ok" in monitor.properties_changed(jane, "Status"), 5, what="Status → ok signalled")
        monitor.stop()
        self.assertEqual(monitor.properties_changed(jane, "Status"), ["checking", "ok"])
        self.assertTrue(monitor.properties_changed(jane, "StatusMessage"))
        self.assertEqual(monitor.properties_changed(jane, "LastChecked"), [str(p["LastChecked"])])
        # Only the checked account changed.
        self.assertEqual(monitor.signals("PropertiesChanged", john), [])
        self.assertEqual(prop(self.s, john, "Status"), "unchecked")
        # The check's result is kept.
        wait_for(lambda: read_accounts(self.s)[p["Id"]].get("LastChecked") == str(p["LastChecked"]), 5,
                 what="LastChecked written")

    def test_start_up_lists_accounts_without_a_signal_each(self):
        # A watcher learns of the accounts on file the ObjectManager way:
        # the name appears, GetManagedObjects lists them all.  No
        # InterfacesAdded per account delays that answer.
        jane = add_account(self.s, "jane@icloud.com")
        john = add_account(self.s, "john@mac.com")
        restart_daemon(self.s)
        monitor = BusCapture(self.s)
        self.assertEqual(sorted(managed_objects(self.s)), sorted([jane, john]))
        time.sleep(0.2)
        monitor.stop()
        self.assertEqual(monitor.signals("InterfacesAdded", harness.OBJECT_PATH), [])
        # Accounts added later are announced as before.
        monitor = BusCapture(self.s)
        joe = add_account(self.s, "john@icloud.com")
        wait_for(lambda: monitor.signals("InterfacesAdded", harness.OBJECT_PATH), 5, what="InterfacesAdded")
        monitor.stop()
        added = monitor.signals("InterfacesAdded", harness.OBJECT_PATH)
        self.assertEqual(len(added), 1, added)
        self.assertIn(f'object path "{joe}"', added[0].text)

    def test_wrong_stored_password_is_auth_failed(self):
        path = add_account(self.s, "jane@icloud.com")
        attributes = prop(self.s, path, "SecretAttributes")
        # The same item, another secret (as if the password was revoked).
        self.keyring.store(self.s, "iCloud Mail password for jane@icloud.com", WRONG_PASSWORD, **attributes)
        self.assertEqual(lookup_secret(self.s, attributes), WRONG_PASSWORD)
        self.assertEqual(len(mailsetup_secrets(self.s, self.keyring)), 1)

        self.assertEqual(account_call(self.s, path, "Check"), [])
        p = properties(self.s, path)
        self.assertEqual(p["Status"], "auth-failed", p)
        self.assertIn("app-specific password", p["StatusMessage"])
        self.assertGreater(p["LastChecked"], 0)
        # A failed check keeps the account and its secret.
        self.assertEqual(lookup_secret(self.s, attributes), WRONG_PASSWORD)
        self.assertEqual(list(managed_objects(self.s)), [path])

    def test_missing_secret_is_needs_password(self):
        path = add_account(self.s, "john@icloud.com")
        attributes = prop(self.s, path, "SecretAttributes")
        self.keyring.clear(self.s, **attributes)
        restart_daemon(self.s)
        wait_status(self.s, path, "needs-password")
        self.assertEqual(account_call(self.s, path, "Check"), [])
        self.assertEqual(prop(self.s, path, "Status"), "needs-password")
        name, _ = account_error(self.s, path, "GetPassword")
        self.assertEqual(name, ERROR + "SecretStoreUnavailable")
        # A working password mends it.
        account_call(self.s, path, "SetPassword", "s", PASSWORD)
        self.assertEqual(prop(self.s, path, "Status"), "ok")
        self.assertEqual(lookup_secret(self.s, attributes), PASSWORD)

    def test_orphan_secret_removed_at_start_up(self):
        path = add_account(self.s, "jane@icloud.com")
        orphan = {"address": "john@icloud.com", "account-id": "0123456789abcdef0123456789abcdef"}
        self.keyring.store(self.s, "left behind", PASSWORD, **{"xdg:schema": SCHEMA}, **orphan)
        other = {"service": "not-mailsetup", "account-id": "0123456789abcdef0123456789abcdef"}
        self.keyring.store(self.s, "someone else's", "keep-me", **other)
        restart_daemon(self.s)
        self.s.activate()
        wait_for(lambda: lookup_secret(self.s, orphan) is None, 10, what="the orphan secret removed")
        self.assertEqual(self.secret_of(path), PASSWORD)
        self.assertEqual(lookup_secret(self.s, other), "keep-me")
        self.keyring.clear(self.s, **other)

    def test_unreachable_servers(self):
        path = add_account(self.s, "jane@icloud.com")
        account_id = prop(self.s, path, "Id")
        restart_daemon(self.s)
        # The account keeps its own endpoints: point them somewhere dead.
        refused = FaultServers.refused_port()
        with open(accounts_file(self.s)) as f:
            text = f.read()
        text = text.replace(f"ImapPort={self.dovecot.ports['imaps']}", f"ImapPort={refused}")
        with open(accounts_file(self.s), "w") as f:
            f.write(text)
        self.assertEqual(account_call(self.s, path, "Check"), [])
        p = properties(self.s, path)
        self.assertEqual(p["Status"], "unreachable", p)
        self.assertTrue(p["StatusMessage"])
        self.assertEqual(read_accounts(self.s)[account_id]["ImapPort"], str(refused))


class ChangingAndRemoving(AccountsTestCase):
    def test_set_password_keeps_what_worked(self):
        # Added while 587 answered; later 587 stops answering.  A Check
        # does not move the account (that may be the café's network), a new
        # password keeps what its check found, as AddAccount does.
        p = self.dovecot.ports
        submission = DelayProxy(p["submission"], 0)
        submission.start()
        self.override.write(self.s, imap=p["imaps"], smtp=[submission.port, p["submissions"]])
        try:
            path = add_account(self.s, "jane@icloud.com")
            self.assertEqual(prop(self.s, path, "SmtpPort"), submission.port)
            submission.stop()

            account_call(self.s, path, "Check")
            self.assertEqual(prop(self.s, path, "Status"), "ok")
            self.assertEqual(prop(self.s, path, "SmtpPort"), submission.port)

            monitor = BusCapture(self.s)
            self.assertEqual(account_call(self.s, path, "SetPassword", "s", PASSWORD), [])
            smtp = {k: prop(self.s, path, k) for k in ("SmtpHost", "SmtpPort", "SmtpSecurity", "SmtpUsername")}
            self.assertEqual(smtp, {"SmtpHost": "127.0.0.1", "SmtpPort": p["submissions"],
                                    "SmtpSecurity": "tls", "SmtpUsername": "jane@icloud.com"})
            wait_for(lambda: monitor.properties_changed(path, "SmtpPort"), 5, what="SmtpPort signalled")
            monitor.stop()
            self.assertEqual(monitor.properties_changed(path, "SmtpPort"), [str(p["submissions"])])
            self.assertEqual(monitor.properties_changed(path, "ImapPort"), [])
            account_id = prop(self.s, path, "Id")
            wait_for(lambda: read_accounts(self.s)[account_id].get("SmtpPort") == str(p["submissions"]), 5,
                     what="the new port saved")
        finally:
            submission.stop()
            self.override.write(self.s, imap=p["imaps"], smtp=[p["submission"], p["submissions"]])

    def test_set_password(self):
        path = add_account(self.s, "jane@icloud.com")
        attributes = prop(self.s, path, "SecretAttributes")
        name, message = account_error(self.s, path, "SetPassword", WRONG_PASSWORD)
        self.assertEqual(name, ERROR + "AuthenticationFailed", message)
        self.assertEqual(lookup_secret(self.s, attributes), PASSWORD)
        self.assertEqual(len(mailsetup_secrets(self.s, self.keyring)), 1)
        name, _ = account_error(self.s, path, "SetPassword", "")
        self.assertEqual(name, ERROR + "InvalidPassword")
        self.assertEqual(lookup_secret(self.s, attributes), PASSWORD)

        # A stored password that stopped working, replaced by one that works.
        self.keyring.store(self.s, "x", WRONG_PASSWORD, **attributes)
        account_call(self.s, path, "Check")
        self.assertEqual(prop(self.s, path, "Status"), "auth-failed")
        self.assertEqual(account_call(self.s, path, "SetPassword", "s", PASSWORD), [])
        p = properties(self.s, path)
        self.assertEqual(p["Status"], "ok", p)
        self.assertEqual(lookup_secret(self.s, attributes), PASSWORD)
        items = mailsetup_secrets(self.s, self.keyring)
        self.assertEqual(len(items), 1, items)
        self.assertFileHasNoPassword(PASSWORD, WRONG_PASSWORD)

    def test_remove_leaves_nothing(self):
        keep = add_account(self.s, "john@icloud.com")
        path = add_account(self.s, "jane@icloud.com")
        account_id = prop(self.s, path, "Id")
        attributes = prop(self.s, path, "SecretAttributes")
        monitor = BusCapture(self.s)
        self.assertEqual(account_call(self.s, path, "Remove"), [])

        self.assertIsNone(lookup_secret(self.s, attributes))
        self.assertNotIn(account_id, read_accounts(self.s))
        self.assertNotIn(b"jane@icloud.com", self.file_text())
        self.assertEqual(list(managed_objects(self.s)), [keep])
        wait_for(lambda: monitor.signals("InterfacesRemoved", harness.OBJECT_PATH), 5, what="InterfacesRemoved")
        removed = monitor.signals("InterfacesRemoved", harness.OBJECT_PATH)
        monitor.stop()
        self.assertEqual(len(removed), 1, removed)
        self.assertIn(f'object path "{path}"', removed[0].text)
        self.assertIn(f'string "{ACCOUNT_IFACE}"', removed[0].text)
        for method, args in (("GetPassword", ()), ("Check", ()), ("Remove", ()), ("SetPassword", (PASSWORD,))):
            with self.subTest(method=method):
                name, _ = account_error(self.s, path, method, *args)
                self.assertIn(name, (ERROR + "NoSuchAccount", "org.freedesktop.DBus.Error.UnknownObject"))
        name, _ = account_error(self.s, path, "GetAll", ACCOUNT_IFACE, interface="org.freedesktop.DBus.Properties")
        self.assertIn(name, (ERROR + "NoSuchAccount", "org.freedesktop.DBus.Error.UnknownObject",
                             "org.freedesktop.DBus.Error.UnknownInterface"))

        # The other account is untouched, and nothing comes back on restart.
        restart_daemon(self.s)
        self.assertEqual(list(managed_objects(self.s)), [keep])
        self.assertEqual(len(mailsetup_secrets(self.s, self.keyring)), 1)
        # The address can be added again.
        self.assertEqual(add_account(self.s, "jane@icloud.com"), path)
        self.assertNotEqual(prop(self.s, path, "Id"), account_id)


class SecretServiceMissing(SessionTestCase):
    """No org.freedesktop.secrets on the bus at all."""

    @classmethod
    def setUpClass(cls):
        use_components(cls, keyring=False)
        super().setUpClass()

    def test_add_fails_and_writes_nothing(self):
        name, message = add_account_error(self.s, "jane@icloud.com")
        self.assertEqual(name, ERROR + "SecretStoreUnavailable", message)
        self.assertTrue(message.startswith("Could not store the password. No Secret Service is running "
                                           "in this session."), message)
        self.assertFalse(os.path.exists(accounts_file(self.s)))
        self.assertEqual(managed_objects(self.s), {})
        # The daemon still serves, and the address is free for a later try.
        name, _ = add_account_error(self.s, "jane@icloud.com")
        self.assertEqual(name, ERROR + "SecretStoreUnavailable")


class SecretServiceLocked(SessionTestCase):
    """The default collection is locked, and no prompter can unlock it."""

    @classmethod
    def setUpClass(cls):
        use_components(cls, locked=True)
        super().setUpClass()

    def test_add_fails_and_writes_nothing(self):
        started = time.monotonic()
        name, message = add_account_error(self.s, "jane@icloud.com")
        self.assertEqual(name, ERROR + "SecretStoreUnavailable", message)
        self.assertTrue(message.startswith("Could not store the password. The keyring is locked"), message)
        self.assertLess(time.monotonic() - started, 15, "AddAccount waited long for the locked keyring")
        self.assertFalse(os.path.exists(accounts_file(self.s)))
        self.assertEqual(managed_objects(self.s), {})
        self.assertTrue(self.keyring.is_locked(self.s))
        ensure_daemon_answers(self.s)


class AccountFileUnwritable(SessionTestCase):
    """The account file cannot be written (here: a folder has taken its
    name, which stops root too)."""

    @classmethod
    def setUpClass(cls):
        use_components(cls)
        super().setUpClass()

    def test_add_is_undone_with_a_named_error(self):
        self.s.activate()
        blocker = accounts_file(self.s)
        os.makedirs(blocker)

        name, message = add_account_error(self.s, "jane@icloud.com")
        self.assertEqual(name, ERROR + "AccountFileUnwritable", message)
        self.assertTrue(message.startswith("Could not save the account:"), message)
        # Undone: no account, and no password left in the keyring.
        self.assertEqual(managed_objects(self.s), {})
        wait_for(lambda: mailsetup_secrets(self.s, self.keyring) == [], 5, what="the password removed again")
        self.assertTrue(os.path.isdir(blocker))

        # Once the way is clear, the same add works.
        os.rmdir(blocker)
        path = add_account(self.s, "jane@icloud.com")
        self.assertEqual(list(read_accounts(self.s)), [prop(self.s, path, "Id")])


class KeyringLockedLater(SessionTestCase):
    """The account exists, then the keyring is locked (a screen lock, the
    person in Passwords and Keys) and no prompt can unlock it: a locked
    keyring is said to be locked, never taken for a missing password."""

    @classmethod
    def setUpClass(cls):
        use_components(cls)
        super().setUpClass()

    def test_locked_keyring_is_not_a_missing_password(self):
        path = add_account(self.s, "jane@icloud.com")
        self.keyring.lock(self.s)

        name, message = account_error(self.s, path, "GetPassword")
        self.assertEqual(name, ERROR + "SecretStoreUnavailable", message)
        self.assertTrue(message.startswith("Could not look up the password. The keyring is locked"), message)

        name, message = account_error(self.s, path, "Check")
        self.assertEqual(name, ERROR + "SecretStoreUnavailable", message)
        p = properties(self.s, path)
        self.assertNotEqual(p["Status"], "needs-password", p)
        self.assertIn("keyring is locked", p["StatusMessage"])

        # Remove would leave the password behind: it changes nothing and
        # says why.
        before = read_accounts(self.s)
        name, message = account_error(self.s, path, "Remove")
        self.assertEqual(name, ERROR + "SecretStoreUnavailable", message)
        self.assertTrue(message.startswith("Could not remove the password. The keyring is locked"), message)
        self.assertEqual(read_accounts(self.s), before)
        self.assertEqual(list(managed_objects(self.s)), [path])
        r = self.s.busctl("call", "org.freedesktop.secrets", "/org/freedesktop/secrets",
                          "org.freedesktop.Secret.Service", "SearchItems", "a{ss}", 1, "xdg:schema", SCHEMA)
        self.assertEqual(r.returncode, 0, r.stderr)
        unlocked, locked = harness.plain(json.loads(r.stdout))
        self.assertEqual((len(unlocked), len(locked)), (0, 1), "the password is kept, locked")

        # A restart lists the locked password: the account does not turn
        # "needs-password" either.
        restart_daemon(self.s)
        self.assertEqual(list(managed_objects(self.s)), [path])
        time.sleep(0.5)
        self.assertEqual(prop(self.s, path, "Status"), "unchecked")


class DamagedFile(SessionTestCase):
    @classmethod
    def setUpClass(cls):
        use_components(cls)
        super().setUpClass()

    GARBAGE = b"[Account x\nAddress=\xff\xfe broken\n\x00\x01 not a key file\n"

    def bad_files(self):
        return sorted(n for n in os.listdir(accounts_dir(self.s)) if n.startswith("accounts.conf.bad-"))

    def test_damaged_file_is_kept_aside(self):
        self.assertFalse(self.s.name_has_owner(harness.BUS_NAME))
        os.makedirs(accounts_dir(self.s), mode=0o700, exist_ok=True)
        with open(accounts_file(self.s), "wb") as f:
            f.write(self.GARBAGE)
        os.chmod(accounts_file(self.s), 0o600)
        before = int(time.time())

        # The daemon serves, without accounts.
        reply = harness.plain(self.s.call("LookupProvider", "s", "jane@icloud.com"))
        self.assertEqual(reply[0]["provider"], "icloud.com")
        self.assertEqual(managed_objects(self.s), {})
        bad = self.bad_files()
        self.assertEqual(len(bad), 1, os.listdir(accounts_dir(self.s)))
        when = int(bad[0][len("accounts.conf.bad-"):])
        self.assertLessEqual(abs(when - before), 60)
        bad_path = os.path.join(accounts_dir(self.s), bad[0])
        with open(bad_path, "rb") as f:
            self.assertEqual(f.read(), self.GARBAGE)
        self.assertFalse(os.path.exists(accounts_file(self.s)))
        self.assertIn("accounts.conf", self.s.log())

        # A new account makes a fresh file; the damaged one stays as it was.
        path = add_account(self.s, "jane@icloud.com")
        accounts = read_accounts(self.s)
        self.assertEqual([a["Address"] for a in accounts.values()], ["jane@icloud.com"])
        self.assertEqual(self.bad_files(), bad)
        with open(bad_path, "rb") as f:
            self.assertEqual(f.read(), self.GARBAGE)

        # The fresh file is good: no new .bad file on restart.
        restart_daemon(self.s)
        self.assertEqual(list(managed_objects(self.s)), [path])
        self.assertEqual(self.bad_files(), bad)

    def test_earlier_damaged_file_is_not_overwritten(self):
        """A file kept aside earlier (a damage in the same second, or the
        clock set back) is not overwritten by the next one."""
        s = self.new_session()
        folder = os.path.join(s.config_home, "mailsetup")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        now = int(time.time())
        earlier = {}
        for t in range(now - 2, now + 30):
            name = f"accounts.conf.bad-{t}"
            earlier[name] = f"[Account kept-{t}\nthe damaged file of an earlier start\n".encode()
            with open(os.path.join(folder, name), "wb") as f:
                f.write(earlier[name])
        with open(os.path.join(folder, "accounts.conf"), "wb") as f:
            f.write(self.GARBAGE)

        reply = harness.plain(s.call("LookupProvider", "s", "jane@icloud.com"))
        self.assertEqual(reply[0]["provider"], "icloud.com")
        contents = {}
        for name in os.listdir(folder):
            with open(os.path.join(folder, name), "rb") as f:
                contents[name] = f.read()
        lost = sorted(name for name, text in earlier.items() if contents.get(name) != text)
        self.assertEqual(lost, [], "damaged files kept aside earlier were overwritten")
        self.assertIn(self.GARBAGE, contents.values(), "the damaged accounts.conf was not kept")


if __name__ == "__main__":
    harness.main()
