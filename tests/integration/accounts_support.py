#!/usr/bin/env python3
"""Helpers for the account tests (test_accounts*.py): account calls and
properties, the account file, mailsetup's secrets in the keyring, a
whole-bus capture with dbus-monitor, and letting another Unix user onto
the private bus.  Python 3 standard library only."""

import configparser
import json
import os
import re

import harness
from components import (
    PASSWORD,
    call_error_with_options,
    call_with_options,
    gvariant_string,
    options_for,
    restart_daemon,
    wait_for,
)
from harness import BUS_NAME, OBJECT_PATH

ACCOUNT_IFACE = "org.mailsetup.MailSetup1.Account"
ACCOUNT_PREFIX = OBJECT_PATH + "/account/"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
PROPERTIES = "org.freedesktop.DBus.Properties"
SCHEMA = "org.mailsetup.MailSetup1.Password"

# The addresses that sign in to the test Dovecot: jane@icloud.com with the
# whole address, john with the local part (so any iCloud domain works).
GOOD_ADDRESSES = ("jane@icloud.com", "john@icloud.com", "john@me.com", "john@mac.com")
WRONG_PASSWORD = "wxyz-wxyz-wxyz-wxyz"


def account_path(address):
    """The account's object path: sd_bus_path_encode's escaping."""
    out = []
    for i, b in enumerate(address.encode()):
        c = chr(b)
        if ("a" <= c <= "z") or ("A" <= c <= "Z") or (i > 0 and "0" <= c <= "9"):
            out.append(c)
        else:
            out.append("_%02x" % b)
    return ACCOUNT_PREFIX + ("".join(out) or "_")


# --------------------------------------------------------------------------
# calls


def add_account(session, address, password=PASSWORD, display_name=None, timeout_ms=None):
    """Manager.AddAccount → the account's object path."""
    extra = {"display_name": display_name} if display_name is not None else {}
    return call_with_options(session, "AddAccount", [address, password], options_for(timeout_ms, **extra))


def add_account_error(session, address, password=PASSWORD, display_name=None, timeout_ms=None):
    """Manager.AddAccount that must fail → (error name, message)."""
    extra = {"display_name": display_name} if display_name is not None else {}
    return call_error_with_options(session, "AddAccount", [address, password], options_for(timeout_ms, **extra))


def account_call(session, path, method, signature="", *args, interface=ACCOUNT_IFACE, timeout=45):
    """A method of an account object; its out arguments as plain values."""
    reply = session.call(method, signature, *args, interface=interface, path=path, timeout=timeout)
    return harness.plain(reply) if reply else []


def gdbus_call(session, path, method, *args, interface=ACCOUNT_IFACE, timeout=45):
    """A call with gdbus (which prints error names); @args are GVariant
    text.  Returns the CompletedProcess."""
    argv = [
        "call", "--session", "--dest", BUS_NAME, "--object-path", path,
        "--timeout", str(timeout), "--method", f"{interface}.{method}",
    ] + list(args)
    return session.gdbus(*argv, timeout=timeout + 10)


def account_error(session, path, method, *args, interface=ACCOUNT_IFACE, timeout=45):
    """A call that must fail → (error name, message); @args are Python
    strings (passed as D-Bus strings)."""
    r = gdbus_call(session, path, method, *[gvariant_string(a) for a in args], interface=interface, timeout=timeout)
    if r.returncode == 0:
        raise AssertionError(f"{method}{args} on {path} succeeded:\n{r.stdout}")
    m = re.match(r"Error: GDBus\.Error:([^:\s]+): (.*)", r.stderr.strip(), re.S)
    if not m:
        raise AssertionError(f"unexpected gdbus output:\n{r.stderr}")
    return m.group(1), m.group(2).strip()


def properties(session, path):
    """Properties.GetAll of the account interface, plain values."""
    return account_call(session, path, "GetAll", "s", ACCOUNT_IFACE, interface=PROPERTIES)[0]


def prop(session, path, name):
    return account_call(session, path, "Get", "ss", ACCOUNT_IFACE, name, interface=PROPERTIES)[0]


def managed_objects(session):
    """ObjectManager.GetManagedObjects of the daemon, plain values."""
    reply = session.call("GetManagedObjects", interface=OBJECT_MANAGER)
    return harness.plain(reply)[0]


def wait_status(session, path, status, timeout=10):
    """Waits until the account's Status is @status; returns its properties."""
    last = {}

    def check():
        last.update(properties(session, path))
        return last["Status"] == status

    try:
        wait_for(check, timeout, interval=0.05, what=f"Status {status!r} of {path}")
    except AssertionError as e:
        raise AssertionError(f"{e}; last properties: {last}") from None
    return dict(last)


def remove_all_accounts(session, keyring=None):
    """Removes every account through the bus (and, with @keyring, any
    secret of mailsetup's schema that is left)."""
    for path in managed_objects(session):
        account_call(session, path, "Remove")
    if keyring is not None:
        keyring.clear(session, **{"xdg:schema": SCHEMA})


# --------------------------------------------------------------------------
# the account file and the keyring


def accounts_dir(session):
    return os.path.join(session.config_home, "mailsetup")


def accounts_file(session):
    return os.path.join(accounts_dir(session), "accounts.conf")


def parse_accounts(text):
    """A GKeyFile account file → {id: {key: value}}; raises
    configparser.Error (or AssertionError for an unknown group) when it
    does not parse."""
    parser = configparser.ConfigParser(interpolation=None, strict=True, comment_prefixes=("#",),
                                       empty_lines_in_values=False, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(text)
    accounts = {}
    for section in parser.sections():
        if not section.startswith("Account "):
            raise AssertionError(f"unexpected group [{section}] in accounts.conf")
        accounts[section[len("Account "):]] = dict(parser[section])
    return accounts


def read_accounts(session):
    """The accounts in the file ({id: {key: value}}), {} if there is none."""
    try:
        with open(accounts_file(session), encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return {}
    return parse_accounts(text)


def mailsetup_secrets(session, keyring=None):
    """Every unlocked item of mailsetup's schema in the Secret Service: a
    list of its attributes, plus "label" and "path".  (Asked over the bus:
    secret-tool search prints attributes to stderr and the rest to stdout,
    so with several items it cannot tell which attribute is whose.)"""
    r = session.busctl("call", "org.freedesktop.secrets", "/org/freedesktop/secrets",
                       "org.freedesktop.Secret.Service", "SearchItems", "a{ss}", 1, "xdg:schema", SCHEMA)
    if r.returncode != 0:
        raise AssertionError(f"SearchItems failed: {r.stderr}")
    unlocked = harness.plain(json.loads(r.stdout))[0]
    items = []
    for path in unlocked:
        r = session.busctl("get-property", "org.freedesktop.secrets", path, "org.freedesktop.Secret.Item",
                           "Attributes", "Label")
        if r.returncode != 0:  # removed meanwhile
            continue
        values = [harness.plain(json.loads(line)) for line in r.stdout.splitlines() if line.strip()]
        item = dict(values[0])
        item["label"] = values[1]
        item["path"] = path
        items.append(item)
    return items


def lookup_secret(session, attributes):
    """secret-tool lookup with @attributes (e.g. an account's
    SecretAttributes): the secret or None."""
    argv = ["secret-tool", "lookup"]
    for k, v in attributes.items():
        argv += [k, v]
    r = session.run(argv, timeout=20)
    return r.stdout if r.returncode == 0 else None


def secret_forms(password, users=()):
    """The password as text, base64 of it and AUTH PLAIN's base64 forms for
    each of @users, and its hex (for byte arrays)."""
    import components

    forms = {password, password.encode().hex(), " ".join(f"{b:02x}" for b in password.encode())}
    for user in users:
        forms |= components.password_forms(user, password)
    return forms


# --------------------------------------------------------------------------
# the whole bus


class BusMessage:
    def __init__(self, kind, header):
        self.kind = kind  # "method call", "method return", "signal", "error"
        self.header = header
        self.body = []
        fields = dict(re.findall(r"(\w+)=([^ ;]*)", header))
        self.sender = fields.get("sender")
        self.destination = fields.get("destination")
        self.serial = fields.get("serial")
        self.reply_serial = fields.get("reply_serial")
        self.path = fields.get("path")
        self.interface = fields.get("interface")
        self.member = fields.get("member")
        self.error_name = fields.get("error_name")

    @property
    def text(self):
        return self.header + "\n" + "\n".join(self.body)

    def __repr__(self):
        return self.text


_KINDS = ("method call", "method return", "signal", "error")


class BusCapture:
    """dbus-monitor on the whole session bus (the harness's bus policy allows
    monitoring), from start until stop(); messages() parses what it printed
    into BusMessage objects."""

    def __init__(self, session, name="bus-capture"):
        self.session = session
        self.path = os.path.join(session.log_dir, f"{name}-{id(self)}.log")
        self._out = open(self.path, "wb")
        self.proc = session.spawn(["dbus-monitor", "--session"], stdout=self._out, stderr=self._out)
        wait_for(lambda: "member=NameLost" in self.text() or "member=NameAcquired" in self.text(), 10,
                 what="dbus-monitor ready")

    def text(self):
        with open(self.path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def messages(self):
        result, current = [], None
        for line in self.text().splitlines():
            kind = next((k for k in _KINDS if line.startswith(k + " time=")), None)
            if kind:
                current = BusMessage(kind, line)
                result.append(current)
            elif current is not None:
                current.body.append(line)
        return result

    def properties_changed(self, path, name):
        """The values @name took in PropertiesChanged signals on @path, in
        order (string and integer values)."""
        values = []
        for m in self.messages():
            if m.kind != "signal" or m.member != "PropertiesChanged" or m.path != path:
                continue
            body = "\n".join(m.body)
            for v in re.findall(r'string "%s"\s*\n\s*variant\s+(?:string "(.*)"|\S+ (\S+))' % re.escape(name), body):
                values.append(v[0] if v[0] or not v[1] else v[1])
        return values

    def signals(self, member, path=None):
        return [m for m in self.messages() if m.kind == "signal" and m.member == member
                and (path is None or m.path == path)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=harness.STOP_GRACE)
        self.session.forget(self.proc)
        self._out.close()


# --------------------------------------------------------------------------
# another Unix user on the private bus


OTHER_USER = ("nobody", "nogroup")


def admit_other_users(session):
    """Lets connections of other Unix users onto @session's bus, which the
    harness's bus configuration refuses (dbus-daemon admits only its own
    user unless the policy says <allow user="*"/>): adds that rule to the
    session's bus configuration, asks the bus to reload it, and opens the
    directories on the way to the socket (mode 0711).

    Needs root (setpriv to another user).  A harness option that writes
    the rule and the modes from the start would make this unnecessary."""
    with open(session.bus_config) as f:
        conf = f.read()
    if '<allow user="*"/>' not in conf:
        conf = conf.replace('<allow own="*"/>', '<allow own="*"/>\n    <allow user="*"/>', 1)
        if '<allow user="*"/>' not in conf:
            raise AssertionError("cannot find the default policy in the bus configuration:\n" + conf)
        with open(session.bus_config, "w") as f:
            f.write(conf)
        session.bus_call("ReloadConfig")
    for d in (session.tmp, os.path.dirname(session.bus_socket)):
        os.chmod(d, 0o711)


def as_other_user(argv):
    user, group = OTHER_USER
    return ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups"] + list(argv)


def other_user_available():
    """None if this process can run commands as another user, else why not."""
    import shutil

    if os.geteuid() != 0:
        return "not root: cannot run a command as another user"
    if shutil.which("setpriv") is None:
        return "setpriv is not installed"
    try:
        import grp
        import pwd

        pwd.getpwnam(OTHER_USER[0])
        grp.getgrnam(OTHER_USER[1])
    except KeyError:
        return f"no user {OTHER_USER[0]} / group {OTHER_USER[1]}"
    return None


__all__ = [
    "ACCOUNT_IFACE", "ACCOUNT_PREFIX", "OBJECT_MANAGER", "PROPERTIES", "SCHEMA", "GOOD_ADDRESSES",
    "WRONG_PASSWORD", "account_path", "add_account", "add_account_error", "account_call", "gdbus_call",
    "account_error", "properties", "prop", "managed_objects", "wait_status", "remove_all_accounts",
    "accounts_dir", "accounts_file", "parse_accounts", "read_accounts", "mailsetup_secrets",
    "lookup_secret", "secret_forms", "BusCapture", "BusMessage", "admit_other_users", "as_other_user",
    "other_user_available", "restart_daemon",
]
