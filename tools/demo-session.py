#!/usr/bin/env python3
"""The steps of tools/demo, run inside a throw-away session.

A private session bus with a throw-away HOME, a local Dovecot standing in
for iCloud Mail (a provider file in the session's ~/.config/mailsetup
points the iCloud domains at it, and a test CA stands in for the public
ones), gnome-keyring as the Secret Service and goa-daemon as GNOME Online
Accounts.  Then a person's way through mailsetupctl: look up, check, add,
list, diagnose, export, publish to GNOME Online Accounts.

Usage: tools/demo-session.py BUILD_DIR ADDRESS
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import harness  # noqa: E402
from components import (  # noqa: E402
    PASSWORD,
    DovecotServer,
    GnomeKeyring,
    ProviderOverride,
    TestCertificates,
)
from handoff_support import GoaDaemon  # noqa: E402

BOLD = "\033[1m" if sys.stdout.isatty() else ""
PLAIN = "\033[0m" if sys.stdout.isatty() else ""


def heading(text):
    print(f"\n{BOLD}== {text}{PLAIN}", flush=True)


def run(session, paths, *args, stdin=None, show=None):
    """Runs mailsetupctl ARGS in the session, showing the command line."""
    print(f"$ {show or 'mailsetupctl ' + ' '.join(args)}", flush=True)
    env = dict(session.env)
    env["PATH"] = os.path.dirname(paths.mailsetupctl) + os.pathsep + env.get("PATH", "")
    r = subprocess.run([paths.mailsetupctl, *args], env=env, input=stdin, text=True)
    if r.returncode not in (0, 1):
        raise SystemExit(f"demo: mailsetupctl {' '.join(args)} failed with status {r.returncode}")
    return r.returncode


def main():
    build_dir, address = sys.argv[1], sys.argv[2]
    paths = harness.Paths(build_dir)
    certs, dovecot, keyring, goa = TestCertificates(), DovecotServer(), GnomeKeyring(), GoaDaemon()
    override = ProviderOverride(dovecot=dovecot)
    components = [certs, dovecot, override, keyring, goa]

    with harness.Session(components=components, paths=paths) as s:
        heading("A private session: bus, throw-away HOME, keyring, GNOME Online Accounts")
        print(f"HOME: {s.home}")
        p = dovecot.ports
        print(f"Dovecot stands in for iCloud Mail: IMAP 127.0.0.1:{p['imaps']} (TLS), "
              f"SMTP {p['submission']} (STARTTLS) and {p['submissions']} (TLS)")
        print(f"its password for {address}: {PASSWORD} (an app-specific password's form)")

        heading(f"What are the settings for {address}?")
        run(s, paths, "lookup", address)

        heading("Does this password work? (checks IMAP and SMTP for real, stores nothing)")
        run(s, paths, "validate", "--password-stdin", address, stdin=PASSWORD + "\n",
            show=f"echo PASSWORD | mailsetupctl validate --password-stdin {address}")

        heading("Add the account: password into the keyring, settings into accounts.conf")
        run(s, paths, "add", "--password-stdin", "--name", "Jane Appleseed", address,
            stdin=PASSWORD + "\n",
            show=f"echo PASSWORD | mailsetupctl add --password-stdin --name 'Jane Appleseed' {address}")
        run(s, paths, "list")

        heading("The troubleshooting checklist of Apple's help, with the stored password")
        run(s, paths, "diagnose", address)

        heading("Settings for a mail program: msmtp (the password comes from the keyring)")
        run(s, paths, "export", address, "msmtp")

        heading("Publish it to GNOME Online Accounts (GNOME Settings, Evolution, Geary)")
        run(s, paths, "export", address, "goa")
        env = dict(s.env)
        print("What GNOME Online Accounts now has (its ObjectManager, the Mail interface):")
        out = subprocess.run(
            ["busctl", "--user", "--json=short", "call", "org.gnome.OnlineAccounts",
             "/org/gnome/OnlineAccounts", "org.freedesktop.DBus.ObjectManager",
             "GetManagedObjects"], env=env, capture_output=True, text=True, check=True)
        objects = harness.plain(json.loads(out.stdout)["data"][0])
        for path, interfaces in sorted(objects.items()):
            mail = interfaces.get("org.gnome.OnlineAccounts.Mail")
            if mail:
                print(f"{path}:")
                for key in ("EmailAddress", "Name", "ImapHost", "ImapUserName", "SmtpHost"):
                    print(f"  {key} = {mail[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
