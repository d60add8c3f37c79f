#!/usr/bin/env python3
"""mailsetupd speaks the session's language: started with LANG=ms_MY.UTF-8
or LANG=zh_HK.UTF-8 it answers InvalidAddress and AuthenticationFailed (from
a real Dovecot) in Malay or Hong Kong Chinese, with the error names
unchanged; the password hint of the shipped iCloud file is translated too,
and so is mailsetupctl, whose command list stays aligned in screen columns.
Every other language of po/LINGUAS gets the tests that need no mail server.

The locales are built into a temporary LOCPATH with localedef (package
locales), so the machine needs none installed; the catalogues are the build
tree's (MAILSETUP_LOCALEDIR).  The expected texts come from the same .mo
files through Python's gettext, and must differ from the English ones."""

import atexit
import gettext
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness  # noqa: E402
from components import (  # noqa: E402
    ERROR,
    DovecotServer,
    ProviderOverride,
    TestCertificates,
    gvariant_string,
)
from harness import SessionTestCase  # noqa: E402

LOCALEDIR = os.environ.get("MAILSETUP_LOCALEDIR") or os.path.join(
    harness.Paths().build_root, "po"
)
WRONG_PASSWORD = "wxyz-wxyz-wxyz-wxyz"
HINT = (
    "iCloud Mail needs an app-specific password, not your Apple Account password: "
    "since 2017, mail programs other than Apple's own sign in with one, and making "
    "one needs two-factor authentication on your Apple Account. Make one at "
    "account.apple.com: Sign-In and Security, App-Specific Passwords. "
    "It looks like xxxx-xxxx-xxxx-xxxx."
)


# The locale each catalogue is tried in.
LOCALES = {"ms": "ms_MY", "zh_HK": "zh_HK", "zh_TW": "zh_TW", "de": "de_DE", "fr": "fr_FR"}


def build_locpath():
    """A LOCPATH with the UTF-8 locales of LOCALES, made once."""
    path = tempfile.mkdtemp(prefix="mailsetup-locales-")
    atexit.register(shutil.rmtree, path, True)
    for name in LOCALES.values():
        r = subprocess.run(
            ["localedef", "-i", name, "-f", "UTF-8", os.path.join(path, name + ".UTF-8")],
            capture_output=True,
            text=True,
        )
        # localedef exits 1 for warnings but still writes the locale.
        if not os.path.isfile(os.path.join(path, name + ".UTF-8", "LC_MESSAGES", "SYS_LC_MESSAGES")):
            raise RuntimeError(f"localedef {name} failed ({r.returncode}):\n{r.stderr}")
    return path


LOCPATH = build_locpath()


def locale_env(locale):
    # An empty LC_ALL counts as unset, so LANG decides.
    return {
        "LANG": locale,
        "LC_ALL": "",
        "LC_MESSAGES": "",
        "LANGUAGE": "",
        "LOCPATH": LOCPATH,
        "MAILSETUP_LOCALEDIR": LOCALEDIR,
    }


def validate_error(session, address, password):
    """ValidateCredentials that must fail → (error name, message), with
    gdbus in the C locale: the daemon's messages are what is tested, not
    gdbus's own "Error:"."""
    argv = ["gdbus", "call", "--session", "--dest", harness.BUS_NAME,
            "--object-path", harness.OBJECT_PATH, "--timeout", "40",
            "--method", harness.MANAGER_IFACE + ".ValidateCredentials",
            gvariant_string(address), gvariant_string(password), "@a{sv} {}"]
    r = session.run(argv, env={"LC_ALL": "C.UTF-8"}, timeout=60)
    if r.returncode == 0:
        raise AssertionError("ValidateCredentials succeeded:\n" + r.stdout)
    m = re.match(r"Error: GDBus\.Error:([^:\s]+): (.*)", r.stderr.strip(), re.S)
    if not m:
        raise AssertionError("unexpected gdbus output:\n" + r.stderr)
    return m.group(1), m.group(2)


def template_regex(template):
    """A printf template as a regular expression (%s, %u, %d, %1$s: any text)."""
    parts = re.split(r"%(?:\d+\$)?[-+ #0]*\d*(?:\.\d+)?(?:l|ll|z|h)?[sdufc]", template)
    return ".*?".join(re.escape(p) for p in parts)


COMMAND_SUMMARIES = (
    "Show the settings to use for ADDRESS (offline)",
    "List the accounts: address, status and display name",
    "Remove the account of ADDRESS and its stored password",
    "Walk the troubleshooting checklist for ADDRESS",
)


def display_width(text):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class Language:
    """Mixin: the tests for one language; a test class names only its
    @lang, and runs in that language's locale."""

    lang = None
    locale = None

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.lang is not None:
            cls.locale = LOCALES[cls.lang] + ".UTF-8"
            cls.session_env = locale_env(cls.locale)

    @classmethod
    def catalogue(cls):
        return gettext.translation("mailsetup", localedir=LOCALEDIR, languages=[cls.lang])

    def tr(self, msgid):
        text = self.catalogue().gettext(msgid)
        self.assertNotEqual(text, msgid, f"no {self.lang} translation of {msgid!r}")
        return text


class PlainSession(Language):
    """InvalidAddress, the password hint and mailsetupctl."""

    def test_invalid_address(self):
        message = self.assertDBusError(ERROR + "InvalidAddress", "LookupProvider", "string:jane.icloud.com")
        expected = self.tr("“%s” is not a mail address: %s") % ("jane.icloud.com", self.tr("it has no “@”."))
        self.assertEqual(message, expected)

    def test_invalid_password(self):
        name, message = validate_error(self.s, "jane@icloud.com", "")
        self.assertEqual(name, ERROR + "InvalidPassword")
        self.assertIn(self.tr("The password is empty. Enter the app-specific password you created for this account."), message)

    def test_password_hint(self):
        settings = harness.plain(self.s.call("LookupProvider", "s", "jane@icloud.com"))[0]
        self.assertEqual(settings["password-hint"], self.tr(HINT))
        self.assertEqual(settings["password-kind"], "app-specific")

    def test_client_help(self):
        r = self.s.run([self.s.paths.mailsetupctl, "--help"], env=locale_env(self.locale))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(self.tr("Commands:"), r.stdout)
        self.assertIn(self.tr("Show the settings to use for ADDRESS (offline)"), r.stdout)
        # Every summary starts in the same screen column, however wide the
        # translated synopses' characters are.
        summaries = [self.tr(s) for s in COMMAND_SUMMARIES]
        columns = set()
        for line in r.stdout.splitlines():
            for summary in summaries:
                if line.endswith(summary) and line.startswith("  "):
                    columns.add(display_width(line[: -len(summary)]))
                    break
        self.assertEqual(len(columns), 1, f"summaries start at columns {sorted(columns)}:\n{r.stdout}")

    def test_client_shows_daemon_error(self):
        r = self.s.run([self.s.paths.mailsetupctl, "lookup", "jane.icloud.com"], env=locale_env(self.locale))
        self.assertEqual(r.returncode, 10, r.stderr)
        self.assertIn(self.tr("it has no “@”."), r.stderr)


class LoginSession(Language):
    """AuthenticationFailed from a real server."""

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        # Each language its own Dovecot, started and stopped with its session.
        cls.certs = TestCertificates()
        cls.dovecot = DovecotServer()
        cls.components = [cls.certs, cls.dovecot, ProviderOverride(dovecot=cls.dovecot)]

    def test_authentication_failed(self):
        name, message = validate_error(self.s, "jane@icloud.com", WRONG_PASSWORD)
        self.assertEqual(name, ERROR + "AuthenticationFailed", message)
        refused = "%s port %u did not accept the user name “%s” with this password (it said: “%s”)."
        smtp_refused = "%s port %u did not accept the user name “%s” with this password (it said: “%d %s”)."
        self.assertTrue(
            re.search(template_regex(self.tr(refused)), message)
            or re.search(template_regex(self.tr(smtp_refused)), message),
            message,
        )
        self.assertNotRegex(message, template_regex(refused))
        self.assertIn(self.tr("Also tried:"), message)
        self.assertNotIn(WRONG_PASSWORD, message)


class MalayPlain(PlainSession, SessionTestCase):
    lang = "ms"


class HongKongPlain(PlainSession, SessionTestCase):
    lang = "zh_HK"


class TaiwanPlain(PlainSession, SessionTestCase):
    lang = "zh_TW"


class GermanPlain(PlainSession, SessionTestCase):
    lang = "de"


class FrenchPlain(PlainSession, SessionTestCase):
    lang = "fr"


class MalayLogin(LoginSession, SessionTestCase):
    lang = "ms"


class HongKongLogin(LoginSession, SessionTestCase):
    lang = "zh_HK"


if __name__ == "__main__":
    harness.main()
