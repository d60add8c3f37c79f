#!/usr/bin/env python3
"""What the hand-off tests (test_export*.py, test_goa.py, test_diagnose*.py)
share besides components.py: GNOME Online Accounts on the session bus, an
account set up against Dovecot, Account.Export and Manager.Diagnose calls,
IMAP APPEND to put mail into Dovecot, and running mailsetupctl.

    certs, dovecot = TestCertificates(), DovecotServer()
    keyring, goa = GnomeKeyring(), GoaDaemon()
    with Session(components=[certs, dovecot, ProviderOverride(dovecot=dovecot),
                             keyring, goa]) as s:
        path = add_account(s, "jane@icloud.com")
        text = export(s, path, "msmtp")
        goa_path = export(s, path, "goa")
        goa.accounts(s)        # {path: {interface: {property: value}}}

Python 3 standard library only.
"""

import configparser
import imaplib
import os
import re
import shlex
import signal
import ssl
import subprocess
import time

import harness
from components import (
    PASSWORD,
    DovecotServer,
    FaultServers,
    GnomeKeyring,
    ProviderOverride,
    TestCertificates,
    call_error_with_options,
    call_with_options,
    options_for,
)
from harness import Component, SessionTestCase

ACCOUNT_IFACE = "org.mailsetup.MailSetup1.Account"
SECRET_SCHEMA = "org.mailsetup.MailSetup1.Password"

GOA_NAME = "org.gnome.OnlineAccounts"
GOA_PATH = "/org/gnome/OnlineAccounts"
GOA_ACCOUNT_IFACE = "org.gnome.OnlineAccounts.Account"
GOA_MAIL_IFACE = "org.gnome.OnlineAccounts.Mail"
GOA_PASSWORD_IFACE = "org.gnome.OnlineAccounts.PasswordBased"
GOA_DAEMON_CANDIDATES = ("/usr/libexec/goa-daemon", "/usr/lib/gnome-online-accounts/goa-daemon")
GOA_SYSTEM_SERVICE = "/usr/share/dbus-1/services/org.gnome.OnlineAccounts.service"
# Where GnuTLS (and so glib-networking) finds the trusted CAs on Debian.
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


# --------------------------------------------------------------------------
# GNOME Online Accounts


def goa_daemon_path():
    """The installed goa-daemon, as its own D-Bus service file names it, or
    None."""
    try:
        with open(GOA_SYSTEM_SERVICE) as f:
            m = re.search(r"^Exec=(\S+)", f.read(), re.M)
        if m and os.access(m.group(1), os.X_OK):
            return m.group(1)
    except OSError:
        pass
    for candidate in GOA_DAEMON_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return None


_private_mounts = None


def private_mounts_work():
    """Whether this machine lets a process have a mount namespace of its
    own (unshare --map-root-user --mount): as root, or through
    unprivileged user namespaces."""
    global _private_mounts
    if _private_mounts is None:
        try:
            r = subprocess.run(["unshare", "--map-root-user", "--mount", "--", "mount", "--bind",
                                "/dev/null", "/dev/null"], capture_output=True, timeout=10)
            _private_mounts = r.returncode == 0 and os.path.exists(SYSTEM_CA_BUNDLE)
        except (OSError, subprocess.TimeoutExpired):
            _private_mounts = False
    return _private_mounts


class GoaDaemon(Component):
    """goa-daemon activated by the session's bus: a service directory of
    the session's own with a copy of the system's service file (the same
    Exec line), so that the first call to org.gnome.OnlineAccounts starts
    it, as on a desktop.  It keeps accounts in the session's
    $XDG_CONFIG_HOME/goa-1.0/accounts.conf and their credentials in the
    Secret Service, so a GnomeKeyring must come before it.

    goa-daemon ends cleanly on SIGINT only (SIGTERM kills it), so stop()
    interrupts it before the bus goes and records its exit status in
    session.service_exits, which finish_session() checks."""

    name = "goa-daemon"

    def __init__(self, trust=None):
        self.program = None
        self.dir = None
        self.trust = trust
        self.trusts_test_ca = False

    def service_dirs(self, session):
        self.program = goa_daemon_path()
        if self.program is None:
            harness.need_program("goa-daemon")
        self.dir = os.path.join(session.tmp, "goa-services")
        os.makedirs(self.dir, exist_ok=True)
        exec_line = self.program
        if self.trust is not None and private_mounts_work():
            exec_line = self._trusting_wrapper(session)
            self.trusts_test_ca = True
        with open(os.path.join(self.dir, GOA_NAME + ".service"), "w") as f:
            f.write(f"[D-BUS Service]\nName={GOA_NAME}\nExec={exec_line}\n")
        return [self.dir]

    def _trusting_wrapper(self, session):
        """A script that runs goa-daemon where the system's CA bundle is
        the test CA: glib-networking's GnuTLS backend reads only that file
        (no SSL_CERT_FILE), and a mount namespace of goa-daemon's own
        changes it for nobody else."""
        path = os.path.join(self.dir, "goa-daemon-trusting-test-ca")
        with open(path, "w") as f:
            f.write(
                "#!/bin/sh\n"
                "exec unshare --map-root-user --mount -- sh -c "
                "'mount --bind \"$1\" " + SYSTEM_CA_BUNDLE + " && exec \"$2\"' "
                f"sh {shlex.quote(self.trust.ca)} {shlex.quote(self.program)}\n"
            )
        os.chmod(path, 0o755)
        return path

    def stop(self, session):
        if session.bus is None or not session.name_has_owner(GOA_NAME):
            return
        pid = session.name_owner_pid(GOA_NAME)
        os.kill(pid, signal.SIGINT)
        try:
            status = session.wait_exit(pid, timeout=harness.STOP_GRACE * 2)
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            status = "did not exit on SIGINT"
        session.service_exits.append((pid, "goa-daemon", status))

    # -- its bus API --------------------------------------------------------

    def objects(self, session):
        """GetManagedObjects of GOA (activating it): {path: {interface:
        {property: value}}}, plain values."""
        reply = session.call(
            "GetManagedObjects",
            dest=GOA_NAME,
            path=GOA_PATH,
            interface="org.freedesktop.DBus.ObjectManager",
        )
        return harness.plain(reply["data"][0])

    def accounts(self, session, provider="imap_smtp"):
        """The objects that are accounts of @provider (None: any)."""
        return {
            path: interfaces
            for path, interfaces in self.objects(session).items()
            if GOA_ACCOUNT_IFACE in interfaces
            and (provider is None or interfaces[GOA_ACCOUNT_IFACE].get("ProviderType") == provider)
        }

    def get_password(self, session, path, key):
        """PasswordBased.GetPassword(@key) of the account at @path."""
        reply = session.call(
            "GetPassword", "s", key, dest=GOA_NAME, path=path, interface=GOA_PASSWORD_IFACE
        )
        return harness.plain(reply["data"][0])

    def settle(self, session):
        """Activates goa-daemon and waits out its start-up credentials
        check (every account's IMAP and SMTP login, from a 1 s timer
        started when it starts and again after each network change),
        made while it has no account yet.  goa-daemon 3.46
        reads an account's details from its file at each step of that
        check: an account removed meanwhile (as publishing again does
        when something changed) makes it fail an assertion, fatal in the
        tests (G_DEBUG=fatal-criticals), so tests that remove accounts
        settle it first."""
        self.objects(session)
        time.sleep(self.STARTUP_CHECK_DELAY)

    # goa-daemon's 1 s timer, and room for the network monitor's first
    # "changed", which restarts it.
    STARTUP_CHECK_DELAY = 2.0

    def add_account(self, session, identity, details, password, provider="imap_smtp"):
        """Manager.AddAccount, as GNOME Settings' own dialog calls it for
        an account a person makes by hand (no mailsetup marker unless
        @details has one) → the new account's path."""
        credentials = [2, "imap-password", "s", password, "smtp-password", "s", password]
        pairs = [str(len(details))]
        for key, value in details.items():
            pairs += [key, value]
        reply = session.call(
            "AddAccount", "sssa{sv}a{ss}", provider, identity, identity,
            *[str(c) for c in credentials], *pairs,
            dest=GOA_NAME, path=GOA_PATH + "/Manager", interface=GOA_NAME + ".Manager",
        )
        return harness.plain(reply["data"][0])

    def remove_account(self, session, path):
        """Account.Remove of the account at @path."""
        session.call("Remove", dest=GOA_NAME, path=path, interface=GOA_ACCOUNT_IFACE)

    def conf(self, session):
        """GOA's own file, $XDG_CONFIG_HOME/goa-1.0/accounts.conf, as
        {group: {key: value}} ({} when there is none)."""
        parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",))
        parser.optionxform = str
        parser.read(os.path.join(session.config_home, "goa-1.0", "accounts.conf"), encoding="utf-8")
        return {name: dict(parser[name]) for name in parser.sections()}

    def conf_group(self, session, path):
        """The group of GOA's accounts.conf for the account at @path (its
        Id is the path's last part), or None."""
        return self.conf(session).get("Account " + path.rsplit("/", 1)[-1])


# --------------------------------------------------------------------------
# test classes


def handoff_case(host="127.0.0.1", faults=False, goa=False):
    """A SessionTestCase base class with components of its own: the test
    certificates, Dovecot, iCloud pointed at it on @host (a ProviderOverride),
    the keyring, and fault servers (@faults) and goa-daemon (@goa) when
    asked.  They are its attributes certs, dovecot, faults, override,
    keyring and goa (None when left out); use_dovecot() points iCloud back
    at Dovecot."""
    new_certs, new_dovecot, new_keyring = TestCertificates(), DovecotServer(), GnomeKeyring()
    new_override = ProviderOverride(dovecot=new_dovecot, host=host)
    new_faults = FaultServers() if faults else None
    new_goa = GoaDaemon(trust=new_certs) if goa else None

    class HandoffCase(SessionTestCase):
        certs, dovecot, keyring = new_certs, new_dovecot, new_keyring
        override, faults, goa = new_override, new_faults, new_goa
        components = [c for c in (new_certs, new_dovecot, new_faults, new_override, new_keyring, new_goa)
                      if c is not None]

        def use_dovecot(self):
            p = self.dovecot.ports
            self.override.write(self.s, imap=p["imaps"], smtp=[p["submission"], p["submissions"]])

    return HandoffCase


# --------------------------------------------------------------------------
# accounts and calls



def add_account(session, address, password=PASSWORD, timeout_ms=15000, **options):
    """AddAccount → the account's object path."""
    return call_with_options(session, "AddAccount", [address, password], options_for(timeout_ms, **options))


def account_property(session, path, name):
    reply = session.call(
        "Get", "ss", ACCOUNT_IFACE, name, path=path, interface="org.freedesktop.DBus.Properties"
    )
    return harness.plain(reply["data"][0])


def export(session, path, format, timeout=40):
    """Account.Export(@format) → its text (or the GOA object path)."""
    reply = session.call("Export", "s", format, path=path, interface=ACCOUNT_IFACE, timeout=timeout)
    return harness.plain(reply["data"][0])


def export_error(session, path, format):
    """Account.Export that must fail → (error name, message)."""
    return session.call_error("Export", f"string:{format}", interface=ACCOUNT_IFACE, path=path)


def secret_attributes(session, path):
    return account_property(session, path, "SecretAttributes")


def diagnose(session, address, timeout_ms=None, password=None, login=None, timeout=None):
    """Manager.Diagnose → the steps (a list of plain dicts)."""
    extra = {}
    if password is not None:
        extra["password"] = password
    if login is not None:
        extra["login"] = login
    options = options_for(timeout_ms, **extra)
    return call_with_options(session, "Diagnose", [address], options, timeout=timeout)


def diagnose_error(session, address, **options):
    return call_error_with_options(session, "Diagnose", [address], options_for(**options))


def steps_by_id(steps):
    return {s["id"]: s for s in steps}


def describe(steps):
    """The checklist as text, for assertion messages."""
    return "\n".join(
        f"{s['id']}: {s['status']} — {s['detail']}" + (f" [advice: {s['advice']}]" if s["advice"] else "")
        for s in steps
    )


# --------------------------------------------------------------------------
# mail in Dovecot


def make_message(subject, sender="sender@example.org", to="jane@icloud.com", body="Hello from the test.\r\n"):
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n"
        f"Message-ID: <{abs(hash(subject))}@mailsetup.test>\r\n\r\n{body}"
    ).encode()


def imap_append(certs, dovecot, user, message, mailbox="INBOX", password=PASSWORD):
    """Puts @message (bytes) into @user's @mailbox at Dovecot over IMAPS,
    trusting the test CA."""
    context = ssl.create_default_context(cafile=certs.ca)
    with imaplib.IMAP4_SSL("127.0.0.1", dovecot.ports["imaps"], ssl_context=context) as imap:
        imap.login(user, password)
        imap.append(mailbox, None, None, message)
        imap.logout()


def dovecot_logins(dovecot, user, protocol="imap"):
    """Dovecot's log lines of successful logins of @user over @protocol."""
    pattern = re.compile(rf"{protocol}-login: (?:Info: )?Login: user=<{re.escape(user)}>")
    return [line for line in dovecot.log().splitlines() if pattern.search(line)]


# --------------------------------------------------------------------------
# mailsetupctl


def ctl(session, *args, input=None, env=None, timeout=60):
    """Runs the built mailsetupctl in the session → CompletedProcess."""
    return session.run([session.paths.mailsetupctl, *args], input=input, env=env, timeout=timeout)





def mode_of(path):
    return os.stat(path).st_mode & 0o777
