#!/usr/bin/env python3
"""Who gets the password: the whole bus is captured while accounts are
added, checked, changed and removed, and the password (and its base64 and
hex forms) may only travel in AddAccount, SetPassword and
ValidateCredentials calls and in GetPassword replies; it is never in a
signal, a property, an error, the daemon's debug log or a file.  A caller
of another Unix user is refused with AccessDenied; the user's own callers
are served."""

import os
import re
import unittest

import harness
from accounts_support import (
    ACCOUNT_IFACE,
    OBJECT_MANAGER,
    PROPERTIES,
    WRONG_PASSWORD,
    BusCapture,
    account_call,
    account_error,
    account_path,
    accounts_file,
    add_account,
    add_account_error,
    admit_other_users,
    as_other_user,
    lookup_secret,
    managed_objects,
    other_user_available,
    prop,
    properties,
    read_accounts,
    secret_forms,
)
from components import (
    ERROR,
    PASSWORD,
    DovecotServer,
    GnomeKeyring,
    ProviderOverride,
    TestCertificates,
    ensure_daemon_answers,
    restart_daemon,
    validate,
)
from harness import BUS_NAME, MANAGER_IFACE, OBJECT_PATH, SessionTestCase

USERS = ("jane@icloud.com", "john@icloud.com", "john")
# Calls that carry a password in, and replies that carry one out.
CALLS_WITH_PASSWORD = {"AddAccount", "SetPassword", "ValidateCredentials"}
REPLIES_WITH_PASSWORD = {"GetPassword"}


def fresh_components(cls):
    cls.certs = TestCertificates()
    cls.dovecot = DovecotServer()
    cls.keyring = GnomeKeyring()
    cls.components = [cls.certs, cls.dovecot, ProviderOverride(dovecot=cls.dovecot), cls.keyring]


class PasswordNowhere(SessionTestCase):
    session_env = {"G_MESSAGES_DEBUG": "all"}

    @classmethod
    def setUpClass(cls):
        fresh_components(cls)
        super().setUpClass()

    def tearDown(self):
        ensure_daemon_answers(self.s)

    def forms(self):
        return {p: secret_forms(p, USERS) for p in (PASSWORD, WRONG_PASSWORD)}

    def assertNoPasswordIn(self, text, what):
        for password, forms in self.forms().items():
            for form in forms:
                self.assertNotIn(form, text, f"{what} holds the password {password!r} (as {form!r})")

    def file_text(self):
        try:
            with open(accounts_file(self.s), encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def test_password_only_where_it_belongs(self):
        self.s.activate()  # (the bus logs the command line that activates)
        capture = BusCapture(self.s)
        files = []

        report = validate(self.s, "jane@icloud.com", PASSWORD)
        self.assertNoPasswordIn(repr(report), "the validation report")
        jane = add_account(self.s, "jane@icloud.com", display_name="Jane")
        files.append(self.file_text())
        name, message = add_account_error(self.s, "john@icloud.com", WRONG_PASSWORD)
        self.assertEqual(name, ERROR + "AuthenticationFailed")
        name, _ = add_account_error(self.s, "jane@icloud.com", PASSWORD)
        self.assertEqual(name, ERROR + "AccountExists")
        john = add_account(self.s, "john@icloud.com")
        files.append(self.file_text())

        for path in (jane, john):
            self.assertNoPasswordIn(repr(properties(self.s, path)), "GetAll")
            self.assertNoPasswordIn(repr(account_call(self.s, path, "GetSettings")), "GetSettings")
            self.assertNoPasswordIn(
                repr(account_call(self.s, path, "Introspect", interface="org.freedesktop.DBus.Introspectable")),
                "Introspect")
            account_call(self.s, path, "Check")
            self.assertEqual(prop(self.s, path, "Status"), "ok")
        self.assertNoPasswordIn(repr(managed_objects(self.s)), "GetManagedObjects")
        formats = harness.plain(self.s.call("Get", "ss", MANAGER_IFACE, "ExportFormats", interface=PROPERTIES))[0]
        for fmt in formats:
            if fmt == "goa":
                continue  # hands the password to GNOME Online Accounts (tested elsewhere)
            with self.subTest(format=fmt):
                text = account_call(self.s, jane, "Export", "s", fmt)[0]
                self.assertNoPasswordIn(text, f"Export({fmt})")

        name, _ = account_error(self.s, jane, "SetPassword", WRONG_PASSWORD)
        self.assertEqual(name, ERROR + "AuthenticationFailed")
        self.assertEqual(account_call(self.s, jane, "SetPassword", "s", PASSWORD), [])
        account_call(self.s, jane, "Set", "ssv", ACCOUNT_IFACE, "DisplayName", "s", "Jane Doe", interface=PROPERTIES)
        self.assertEqual(account_call(self.s, jane, "GetPassword"), [PASSWORD])
        files.append(self.file_text())

        # A restart: the accounts are loaded, the keyring is listed.
        restart_daemon(self.s)
        self.assertEqual(prop(self.s, john, "Status"), "unchecked")
        account_call(self.s, john, "Check")
        self.assertEqual(account_call(self.s, john, "GetPassword"), [PASSWORD])
        files.append(self.file_text())
        account_call(self.s, john, "Remove")
        account_call(self.s, jane, "Remove")
        files.append(self.file_text())
        capture.stop()

        # The bus: the password goes in with the calls that take it and out
        # with GetPassword's replies, nowhere else.
        messages = capture.messages()
        calls = {(m.sender, m.serial): m for m in messages if m.kind == "method call"}
        carried, leaks = [], []
        for m in messages:
            text = m.text
            if not any(form in text for forms in self.forms().values() for form in forms):
                continue
            call = calls.get((m.destination, m.reply_serial)) if m.kind in ("method return", "error") else None
            if m.kind == "method call" and m.member in CALLS_WITH_PASSWORD and m.destination == BUS_NAME:
                carried.append(m.member)
            elif m.kind == "method return" and call is not None and call.member in REPLIES_WITH_PASSWORD:
                carried.append(call.member + " reply")
            else:
                leaks.append(m)
        self.assertEqual(leaks, [], "the password travelled where it should not")
        # (The capture did see it where it belongs.)
        self.assertEqual(sorted(set(carried)),
                         ["AddAccount", "GetPassword reply", "SetPassword", "ValidateCredentials"])
        self.assertTrue(capture.signals("PropertiesChanged"))

        # The daemon's own debug output.
        log = self.s.log()
        self.assertIn("mailsetupd-DEBUG", log)
        self.assertNoPasswordIn(log, "the bus log (mailsetupd's output, G_MESSAGES_DEBUG=all)")

        # The account file, at every step, and every other file in HOME
        # (except the keyring's own, which is encrypted).
        for i, text in enumerate(files):
            self.assertNoPasswordIn(text, f"accounts.conf (step {i})")
        self.assertTrue(files[0])
        for root, dirs, names in os.walk(self.s.home):
            dirs[:] = [d for d in dirs if d != "keyrings"]
            for name in names:
                with open(os.path.join(root, name), "rb") as f:
                    data = f.read().decode("latin-1")
                self.assertNoPasswordIn(data, os.path.join(root, name))


@unittest.skipIf(other_user_available() is not None, other_user_available() or "")
class OtherUser(SessionTestCase):
    """A connection of another Unix user (nobody, through setpriv) on the
    same private bus.  The harness's bus refuses other users, so
    admit_other_users() adds <allow user="*"/> and reloads the bus."""

    @classmethod
    def setUpClass(cls):
        fresh_components(cls)
        super().setUpClass()
        admit_other_users(cls.session)

    def tearDown(self):
        ensure_daemon_answers(self.s)

    def other(self, path, method, *args, interface=ACCOUNT_IFACE):
        """gdbus call as the other user → (error name or None, output)."""
        argv = ["gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path", path,
                "--timeout", "30", "--method", f"{interface}.{method}"] + list(args)
        r = self.s.run(as_other_user(argv), timeout=45)
        if r.returncode == 0:
            return None, r.stdout
        m = re.match(r"Error: GDBus\.Error:([^:\s]+): (.*)", r.stderr.strip(), re.S)
        self.assertIsNotNone(m, f"{method} as another user: {r.stderr}")
        return m.group(1), m.group(2)

    def test_other_user_is_refused(self):
        jane = add_account(self.s, "jane@icloud.com", display_name="Jane")
        attributes = prop(self.s, jane, "SecretAttributes")
        before = read_accounts(self.s)

        # The bus itself lets the other user in: it is the daemon that says no.
        r = self.s.run(as_other_user(["busctl", "--user", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "GetConnectionUnixUser", "s", BUS_NAME]))
        self.assertEqual(r.returncode, 0, r.stderr)

        denied = [
            (OBJECT_PATH, "LookupProvider", ("'jane@icloud.com'",), MANAGER_IFACE),
            (OBJECT_PATH, "ValidateCredentials", ("'jane@icloud.com'", f"'{PASSWORD}'", "@a{sv} {}"), MANAGER_IFACE),
            (OBJECT_PATH, "AddAccount", ("'john@icloud.com'", f"'{PASSWORD}'", "@a{sv} {}"), MANAGER_IFACE),
            (OBJECT_PATH, "GetManagedObjects", (), OBJECT_MANAGER),
            (OBJECT_PATH, "Get", (f"'{MANAGER_IFACE}'", "'Version'"), PROPERTIES),
            (jane, "GetPassword", (), ACCOUNT_IFACE),
            (jane, "GetSettings", (), ACCOUNT_IFACE),
            (jane, "Check", (), ACCOUNT_IFACE),
            (jane, "SetPassword", (f"'{WRONG_PASSWORD}'",), ACCOUNT_IFACE),
            (jane, "Export", ("'msmtp'",), ACCOUNT_IFACE),
            (jane, "GetAll", (f"'{ACCOUNT_IFACE}'",), PROPERTIES),
            (jane, "Set", (f"'{ACCOUNT_IFACE}'", "'DisplayName'", "<'Mallory'>"), PROPERTIES),
            (jane, "Remove", (), ACCOUNT_IFACE),
        ]
        for path, method, args, interface in denied:
            with self.subTest(method=method):
                name, out = self.other(path, method, *args, interface=interface)
                self.assertEqual(name, ERROR + "AccessDenied", out)
                self.assertNotIn(PASSWORD, out)

        # Nothing changed, and the user's own programs are served.
        self.assertEqual(list(managed_objects(self.s)), [jane])
        self.assertEqual(read_accounts(self.s), before)
        p = properties(self.s, jane)
        self.assertEqual(p["DisplayName"], "Jane")
        self.assertEqual(p["Status"], "ok")
        self.assertEqual(lookup_secret(self.s, attributes), PASSWORD)
        self.assertEqual(account_call(self.s, jane, "GetPassword"), [PASSWORD])
        self.assertIsNone(lookup_secret(self.s, {"address": "john@icloud.com"}))
        self.assertNotEqual(account_path("john@icloud.com"), jane)
        # And the other user is still refused after the user was served.
        name, _ = self.other(jane, "GetPassword")
        self.assertEqual(name, ERROR + "AccessDenied")
        account_call(self.s, jane, "Remove")


if __name__ == "__main__":
    harness.main()
