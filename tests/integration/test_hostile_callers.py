#!/usr/bin/env python3
"""Hostile callers (issue 7, item 3): every method with wrong argument
types, missing and extra arguments; empty and 1 MiB strings; addresses
with newlines; passwords with CR, LF, NUL or over 1 KiB; option values of
the wrong type; objects, interfaces, methods and properties that do not
exist; Properties.Set on read-only properties and with wrong types; 200
concurrent calls; callers that leave the bus in the middle of a
validation or an AddAccount; and the daemon's fd count and RSS before and
after a burst of all that.  Each call gets the right named error (or is
cancelled), and the daemon stays up: after every test it is the same
process and still answers Peer.Ping and LookupProvider.

The calls go through RawBus, a small D-Bus client written here on top of
a Unix socket, which can send what busctl, gdbus and dbus-send refuse to
(wrong signatures with any values, strings with NUL bytes, no-reply
calls, many calls in flight on one connection, a connection that simply
closes).  Python 3 standard library only."""

import os
import signal
import socket
import subprocess
import struct
import threading
import time

import harness
from accounts_support import (
    ACCOUNT_IFACE,
    OBJECT_MANAGER,
    PROPERTIES,
    account_path,
    mailsetup_secrets,
    read_accounts,
)
from components import (
    DEADLINE_SLACK,
    PASSWORD,
    DovecotServer,
    FaultServers,
    GnomeKeyring,
    ProviderOverride,
    TestCertificates,
    ensure_daemon_answers,
    sanitized,
    validate_argv,
    wait_for,
)
from harness import BUS_NAME, ERROR_PREFIX, MANAGER_IFACE, OBJECT_PATH, SessionTestCase

DBUS_ERROR = "org.freedesktop.DBus.Error."
INVALID_ARGS = DBUS_ERROR + "InvalidArgs"
UNKNOWN_METHOD = DBUS_ERROR + "UnknownMethod"
UNKNOWN_OBJECT = DBUS_ERROR + "UnknownObject"
UNKNOWN_INTERFACE = DBUS_ERROR + "UnknownInterface"
UNKNOWN_PROPERTY = DBUS_ERROR + "UnknownProperty"
PROPERTY_READ_ONLY = DBUS_ERROR + "PropertyReadOnly"
INVALID_ADDRESS = ERROR_PREFIX + "InvalidAddress"
INVALID_PASSWORD = ERROR_PREFIX + "InvalidPassword"
TIMEOUT = ERROR_PREFIX + "Timeout"
PEER = "org.freedesktop.DBus.Peer"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"

ADDRESS = "jane@icloud.com"
MIB = 1024 * 1024
HUGE = "a" * MIB
# What an error message may be at most: none should echo 1 MiB back.
MAX_ERROR_MESSAGE = 4096


# --------------------------------------------------------------------------
# a raw D-Bus client


class Variant:
    """A D-Bus variant to send: @signature and @value."""

    def __init__(self, signature, value):
        self.signature = signature
        self.value = value

    def __repr__(self):
        return f"<{self.signature} {self.value!r}>"


_ALIGN = {"y": 1, "b": 4, "n": 2, "q": 2, "i": 4, "u": 4, "x": 8, "t": 8, "d": 8, "h": 4,
          "s": 4, "o": 4, "g": 1, "a": 4, "(": 8, "{": 8, "v": 1}
_FIXED = {"y": "B", "b": "I", "n": "h", "q": "H", "i": "i", "u": "I", "x": "q", "t": "Q", "d": "d", "h": "I"}


def split_signature(signature):
    """The complete types of @signature, in order."""
    types, i = [], 0
    while i < len(signature):
        j = _type_end(signature, i)
        types.append(signature[i:j])
        i = j
    return types


def _type_end(sig, i):
    c = sig[i]
    if c == "a":
        return _type_end(sig, i + 1)
    if c in "({":
        close = ")" if c == "(" else "}"
        i += 1
        while sig[i] != close:
            i = _type_end(sig, i)
        return i + 1
    return i + 1


class _Writer:
    def __init__(self, endian="<"):
        self.e = endian
        self.buf = bytearray()

    def pad(self, n):
        while len(self.buf) % n:
            self.buf.append(0)

    def write(self, sig, value):
        c = sig[0]
        self.pad(_ALIGN[c])
        if c in _FIXED:
            self.buf += struct.pack(self.e + _FIXED[c], value)
        elif c in "so":
            data = value if isinstance(value, bytes) else value.encode()
            self.buf += struct.pack(self.e + "I", len(data)) + data + b"\0"
        elif c == "g":
            data = value.encode()
            self.buf += bytes([len(data)]) + data + b"\0"
        elif c == "v":
            self.write("g", value.signature)
            self.write(value.signature, value.value)
        elif c == "(":
            for t, v in zip(split_signature(sig[1:-1]), value):
                self.write(t, v)
        elif c == "a":
            element = sig[1:]
            at = len(self.buf)
            self.buf += b"\0\0\0\0"
            self.pad(_ALIGN[element[0]])
            start = len(self.buf)
            if element[0] == "{":
                key_type, value_type = split_signature(element[1:-1])
                items = value.items() if isinstance(value, dict) else value
                for k, v in items:
                    self.pad(8)
                    self.write(key_type, k)
                    self.write(value_type, v)
            else:
                for v in value:
                    self.write(element, v)
            struct.pack_into(self.e + "I", self.buf, at, len(self.buf) - start)
        else:
            raise ValueError(f"cannot marshal type {sig}")


def marshal(signature, args, endian="<"):
    w = _Writer(endian)
    for t, v in zip(split_signature(signature), args):
        w.write(t, v)
    return bytes(w.buf)


class _Reader:
    def __init__(self, data, pos, endian):
        self.data = data
        self.pos = pos
        self.e = endian

    def align(self, n):
        self.pos += (-self.pos) % n

    def read(self, sig):
        c = sig[0]
        self.align(_ALIGN[c])
        if c in _FIXED:
            fmt = self.e + _FIXED[c]
            (v,) = struct.unpack_from(fmt, self.data, self.pos)
            self.pos += struct.calcsize(fmt)
            return bool(v) if c == "b" else v
        if c in "so":
            (n,) = struct.unpack_from(self.e + "I", self.data, self.pos)
            v = self.data[self.pos + 4 : self.pos + 4 + n].decode("utf-8", "replace")
            self.pos += 4 + n + 1
            return v
        if c == "g":
            n = self.data[self.pos]
            v = self.data[self.pos + 1 : self.pos + 1 + n].decode()
            self.pos += 1 + n + 1
            return v
        if c == "v":
            inner = self.read("g")
            return self.read(inner)
        if c == "(":
            return tuple(self.read(t) for t in split_signature(sig[1:-1]))
        if c == "a":
            (n,) = struct.unpack_from(self.e + "I", self.data, self.pos)
            self.pos += 4
            element = sig[1:]
            self.align(_ALIGN[element[0]])
            end = self.pos + n
            if element[0] == "{":
                key_type, value_type = split_signature(element[1:-1])
                out = {}
                while self.pos < end:
                    self.align(8)
                    k = self.read(key_type)
                    out[k] = self.read(value_type)
                return out
            out = []
            while self.pos < end:
                out.append(self.read(element))
            return out
        raise ValueError(f"cannot unmarshal type {sig}")


METHOD_CALL, METHOD_RETURN, ERROR, SIGNAL = 1, 2, 3, 4
NO_REPLY_EXPECTED = 0x1
_FIELDS = {1: "path", 2: "interface", 3: "member", 4: "error_name", 5: "reply_serial",
           6: "destination", 7: "sender", 8: "signature", 9: "unix_fds"}


class Message:
    def __init__(self, kind, flags, serial, fields, body):
        self.kind = kind
        self.flags = flags
        self.serial = serial
        self.fields = fields
        self.body = body
        self.received = time.monotonic()

    def __getattr__(self, name):
        if name in _FIELDS.values():
            return self.fields.get(name)
        raise AttributeError(name)

    @property
    def is_error(self):
        return self.kind == ERROR

    @property
    def error_message(self):
        return self.body[0] if self.is_error and self.body else ""

    def __repr__(self):
        what = {1: "call", 2: "return", 3: "error", 4: "signal"}.get(self.kind, self.kind)
        body = repr(self.body)
        return f"<{what} {self.error_name or self.member or ''} {body[:300]}>"


class BusClosed(Exception):
    pass


class RawBus:
    """One connection to the session bus (AUTH EXTERNAL, Hello).  send()
    returns the serial; reply() waits for the reply to a serial (keeping
    other messages for later); close() just closes the socket."""

    def __init__(self, address, timeout=30):
        if not address.startswith("unix:path="):
            raise ValueError(f"cannot connect to {address}")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address[len("unix:path="):].split(",")[0])
        self._buf = b""
        self._serial = 0
        self._replies = {}
        self.signals = []
        self.sock.sendall(b"\0AUTH EXTERNAL " + str(os.geteuid()).encode().hex().encode() + b"\r\n")
        line = self._auth_line()
        if not line.startswith(b"OK "):
            raise RuntimeError(f"bus refused authentication: {line!r}")
        self.sock.sendall(b"BEGIN\r\n")
        reply = self.reply(self.send("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "Hello"))
        self.unique_name = reply.body[0]

    def _auth_line(self):
        while b"\r\n" not in self._buf:
            data = self.sock.recv(4096)
            if not data:
                raise BusClosed("the bus hung up during authentication")
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\r\n")
        return line

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, dest, path, interface, member, signature="", args=(), flags=0, body=None,
             kind=METHOD_CALL):
        """Sends a message; @body (bytes) replaces the marshalled @args."""
        self._serial += 1
        if body is None:
            body = marshal(signature, args)
        fields = [(1, Variant("o", path)), (3, Variant("s", member))]
        if interface is not None:
            fields.append((2, Variant("s", interface)))
        if dest is not None:
            fields.append((6, Variant("s", dest)))
        if signature:
            fields.append((8, Variant("g", signature)))
        w = _Writer()
        w.write("y", ord("l"))
        w.write("y", kind)
        w.write("y", flags)
        w.write("y", 1)
        w.write("u", len(body))
        w.write("u", self._serial)
        w.write("a(yv)", fields)
        w.pad(8)
        self.sock.sendall(bytes(w.buf) + body)
        return self._serial

    def call_async(self, path, interface, member, signature="", *args, flags=0, dest=BUS_NAME):
        return self.send(dest, path, interface, member, signature, args, flags=flags)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no reply in time")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            raise TimeoutError("no reply in time") from None
        except ConnectionResetError:
            data = b""
        if not data:
            raise BusClosed("the bus closed the connection")
        self._buf += data

    def receive(self, timeout=30):
        """The next message."""
        deadline = time.monotonic() + timeout
        while len(self._buf) < 16:
            self._fill(deadline)
        endian = "<" if self._buf[0:1] == b"l" else ">"
        body_len, serial, fields_len = struct.unpack_from(endian + "III", self._buf, 4)
        header_len = 16 + fields_len + (-(16 + fields_len)) % 8
        while len(self._buf) < header_len + body_len:
            self._fill(deadline)
        data, self._buf = self._buf[: header_len + body_len], self._buf[header_len + body_len :]
        r = _Reader(data, 12, endian)
        fields = {_FIELDS.get(code, code): value for code, value in r.read("a(yv)")}
        body = []
        if fields.get("signature"):
            r = _Reader(data[header_len:], 0, endian)
            body = [r.read(t) for t in split_signature(fields["signature"])]
        return Message(data[1], data[2], serial, fields, body)

    def reply(self, serial, timeout=30):
        """The reply to @serial; signals are kept in .signals."""
        deadline = time.monotonic() + timeout
        while serial not in self._replies:
            m = self.receive(max(deadline - time.monotonic(), 0.001))
            if m.kind in (METHOD_RETURN, ERROR):
                self._replies[m.reply_serial] = m
            elif m.kind == SIGNAL:
                self.signals.append(m)
        return self._replies.pop(serial)

    def call(self, path, interface, member, signature="", *args, timeout=30, dest=BUS_NAME):
        return self.reply(self.call_async(path, interface, member, signature, *args, dest=dest), timeout)

    def add_match(self, rule):
        reply = self.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", rule,
                          dest="org.freedesktop.DBus")
        if reply.is_error:
            raise RuntimeError(f"AddMatch: {reply}")


def raw_bus(session):
    return RawBus(session.bus_address)


def options(**kw):
    """An a{sv} from keyword arguments: Variant values as they are,
    integers as u, strings as s."""
    out = {}
    for k, v in kw.items():
        if not isinstance(v, Variant):
            v = Variant("u" if isinstance(v, int) else "s", v)
        out[k.replace("_", "-")] = v
    return out


# --------------------------------------------------------------------------
# the daemon process


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_targets(pid):
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(f"{fd} -> {os.readlink(f'/proc/{pid}/fd/{fd}')}")
        except OSError:
            pass
    return sorted(out, key=lambda s: int(s.split()[0]))


def status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


def rss_kib(pid):
    return int(status_field(pid, "VmRSS").split()[0])


# --------------------------------------------------------------------------
# the tests


class HostileTestCase(SessionTestCase):
    """A daemon whose iCloud servers are silent (IMAP and both SMTP
    endpoints accept and never say a thing), with one account that was
    added against Dovecot beforehand, so that the account object exists
    and Account.Check really logs in (its endpoints are Dovecot's)."""

    @classmethod
    def setUpClass(cls):
        cls.certs = TestCertificates()
        cls.dovecot = DovecotServer()
        cls.faults = FaultServers()
        cls.override = ProviderOverride(dovecot=cls.dovecot)
        cls.keyring = GnomeKeyring()
        cls.components = [cls.certs, cls.dovecot, cls.faults, cls.override, cls.keyring]
        super().setUpClass()
        s = cls.session
        with raw_bus(s) as bus:
            reply = bus.call(OBJECT_PATH, MANAGER_IFACE, "AddAccount", "ssa{sv}", ADDRESS, PASSWORD,
                             options(display_name="Jane"))
        if reply.is_error:
            raise AssertionError(f"AddAccount against Dovecot failed: {reply}")
        cls.account = reply.body[0]
        cls.imap = cls.faults.start_server("imap-silent")
        cls.smtp = cls.faults.start_server("smtp-silent")
        cls.smtps = cls.faults.start_server("smtp-silent")
        cls.override.write(s, imap=cls.imap.port, smtp=[cls.smtp.port, cls.smtps.port])
        cls.pid = s.activate()

    def setUp(self):
        self.bus = raw_bus(self.s)
        self.addCleanup(self.bus.close)

    def tearDown(self):
        ensure_daemon_answers(self.s)
        self.assertDaemonFine()

    # -- helpers ------------------------------------------------------------

    def assertDaemonFine(self):
        """The same daemon process as at the start, answering Ping and
        LookupProvider on a fresh connection."""
        self.assertEqual(self.s.name_owner_pid(), self.pid, "mailsetupd was restarted (it crashed?)")
        with raw_bus(self.s) as bus:
            reply = bus.call(OBJECT_PATH, PEER, "Ping", timeout=10)
            self.assertEqual(reply.kind, METHOD_RETURN, reply)
            reply = bus.call(OBJECT_PATH, MANAGER_IFACE, "LookupProvider", "s", ADDRESS, timeout=10)
            self.assertEqual(reply.kind, METHOD_RETURN, reply)
            self.assertEqual(reply.body[0]["imap-port"], self.imap.port)

    def expect_error(self, name, path, interface, member, signature="", *args, timeout=30, bus=None):
        """Calls and asserts the error @name (or one of a tuple of names);
        returns the reply."""
        reply = (bus or self.bus).call(path, interface, member, signature, *args, timeout=timeout)
        names = name if isinstance(name, tuple) else (name,)
        self.assertEqual(reply.kind, ERROR, f"{member}{signature}: expected {name}, got {reply}")
        self.assertIn(reply.error_name, names, f"{interface}.{member} ({signature}): {reply.error_message[:500]}")
        self.assertTrue(reply.error_message.strip(), f"{reply.error_name} without a message")
        self.assertLessEqual(len(reply.error_message), MAX_ERROR_MESSAGE,
                             f"{member}: a {len(reply.error_message)}-byte error message "
                             f"({reply.error_message[:200]!r}…)")
        return reply

    def manager_error(self, name, member, signature="", *args, **kw):
        return self.expect_error(name, OBJECT_PATH, MANAGER_IFACE, member, signature, *args, **kw)

    def account_error(self, name, member, signature="", *args, **kw):
        return self.expect_error(name, self.account, ACCOUNT_IFACE, member, signature, *args, **kw)

    def display_name(self):
        reply = self.bus.call(self.account, PROPERTIES, "Get", "ss", ACCOUNT_IFACE, "DisplayName")
        self.assertEqual(reply.kind, METHOD_RETURN, reply)
        return reply.body[0]


# Well-typed arguments for each method, and signatures that are not its own.
GOOD_OPTIONS = options(timeout_ms=500)
MANAGER_METHODS = {
    "LookupProvider": ("s", [ADDRESS]),
    "ValidateCredentials": ("ssa{sv}", [ADDRESS, PASSWORD, GOOD_OPTIONS]),
    "AddAccount": ("ssa{sv}", [ADDRESS, PASSWORD, GOOD_OPTIONS]),
    "Diagnose": ("sa{sv}", [ADDRESS, GOOD_OPTIONS]),
}
ACCOUNT_METHODS = {
    "GetSettings": ("", []),
    "Check": ("", []),
    "SetPassword": ("s", [PASSWORD]),
    "GetPassword": ("", []),
    "Export": ("s", ["msmtp"]),
    "Remove": ("", []),
}
# Values for wrong signatures.
SAMPLE = {"s": "jane@icloud.com", "i": 5, "u": 2000, "b": True, "o": "/jane", "g": "s", "y": 7,
          "x": -1, "t": 1 << 40, "d": 1.5, "as": [ADDRESS], "ay": [106, 0, 10],
          "a{ss}": {"timeout-ms": "2000"}, "a{sv}": GOOD_OPTIONS, "v": Variant("s", ADDRESS),
          "(ss)": (ADDRESS, PASSWORD), "a{sa{sv}}": {"x": GOOD_OPTIONS}}


def wrong_signatures(good):
    """Signatures that are not @good: missing arguments, extra ones, and
    each argument replaced by other types."""
    types = split_signature(good)
    sigs = set()
    for n in range(len(types)):
        sigs.add("".join(types[:n]))  # missing trailing arguments
    for extra in ("s", "i", "a{sv}", "v"):
        sigs.add(good + extra)  # extra arguments
    for i in range(len(types)):
        for other in ("i", "u", "o", "g", "as", "ay", "a{ss}", "v", "(ss)", "b", "d"):
            if other != types[i]:
                sigs.add("".join(types[:i] + [other] + types[i + 1 :]))
    sigs.add("a{sa{sv}}")
    sigs.discard(good)
    return sorted(sigs)


def sample_args(signature):
    return [SAMPLE[t] for t in split_signature(signature)]


class WrongArguments:
    def test_manager_wrong_signatures(self):
        for member, (good, _) in MANAGER_METHODS.items():
            for sig in wrong_signatures(good):
                with self.subTest(member=member, signature=sig):
                    self.manager_error(INVALID_ARGS, member, sig, *sample_args(sig))

    def test_account_wrong_signatures(self):
        for member, (good, _) in ACCOUNT_METHODS.items():
            for sig in wrong_signatures(good):
                with self.subTest(member=member, signature=sig):
                    self.account_error(INVALID_ARGS, member, sig, *sample_args(sig))
        # Remove with arguments removed nothing.
        self.assertEqual(self.display_name(), "Jane")

    def test_standard_interfaces_wrong_signatures(self):
        cases = [
            (OBJECT_PATH, OBJECT_MANAGER, "GetManagedObjects", ["s", "i", "as"]),
            (OBJECT_PATH, INTROSPECTABLE, "Introspect", ["s", "i"]),
            (self.account, INTROSPECTABLE, "Introspect", ["s"]),
            (OBJECT_PATH, PROPERTIES, "Get", ["", "s", "si", "is", "sss", "a{ss}"]),
            (OBJECT_PATH, PROPERTIES, "GetAll", ["", "i", "ss", "as"]),
            (OBJECT_PATH, PROPERTIES, "Set", ["", "s", "ss", "sss", "ssi", "isv", "ssvs"]),
            (self.account, PROPERTIES, "Set", ["ss", "sss", "ssi", "ssvs"]),
        ]
        for path, interface, member, sigs in cases:
            for sig in sigs:
                with self.subTest(path=path, member=member, signature=sig):
                    args = sample_args(sig)
                    if member in ("Get", "Set", "GetAll") and sig[:1] == "s":
                        args[0] = MANAGER_IFACE if path == OBJECT_PATH else ACCOUNT_IFACE
                    self.expect_error(INVALID_ARGS, path, interface, member, sig, *args)

    def test_peer(self):
        # libdbus answers org.freedesktop.DBus.Peer itself, before the
        # daemon's handlers; it does not look at the arguments of Ping.
        for path in (OBJECT_PATH, self.account, OBJECT_PATH + "/nothing/here"):
            reply = self.bus.call(path, PEER, "Ping", "s", "x")
            self.assertIn(reply.kind, (METHOD_RETURN, ERROR), reply)
            if reply.is_error:
                self.assertEqual(reply.error_name, INVALID_ARGS, reply)
            reply = self.bus.call(path, PEER, "GetMachineId")
            self.assertEqual(reply.kind, METHOD_RETURN, reply)
            self.assertRegex(reply.body[0], r"^[0-9a-f]{32}$")
        self.expect_error(UNKNOWN_METHOD, OBJECT_PATH, PEER, "NoSuchMethod")

    def test_option_values_of_wrong_types(self):
        cases = {
            "timeout-ms": [Variant("s", "2000"), Variant("d", 2000.0), Variant("b", True),
                           Variant("as", ["2000"]), Variant("v", Variant("u", 2000)),
                           Variant("u", 0), Variant("u", 120001), Variant("i", -5), Variant("x", -1),
                           Variant("t", 1 << 63)],
            "operation-id": [Variant("i", 5), Variant("u", 5), Variant("o", "/op"), Variant("as", ["op"]),
                             Variant("ay", [111, 112]), Variant("v", Variant("s", "op"))],
            "display-name": [Variant("i", 5), Variant("ay", [74])],
            "login": [Variant("b", False), Variant("as", [ADDRESS])],
        }
        for key, values in cases.items():
            for value in values:
                for member in ("ValidateCredentials", "AddAccount"):
                    with self.subTest(member=member, key=key, value=value):
                        self.manager_error(INVALID_ARGS, member, "ssa{sv}", ADDRESS, PASSWORD, {key: value})
                if key != "display-name":
                    with self.subTest(member="Diagnose", key=key, value=value):
                        self.manager_error(INVALID_ARGS, "Diagnose", "sa{sv}", ADDRESS, {key: value})
        for value in (Variant("ay", list(PASSWORD.encode())), Variant("i", 1), Variant("as", [PASSWORD])):
            with self.subTest(member="Diagnose", key="password", value=value):
                self.manager_error(INVALID_ARGS, "Diagnose", "sa{sv}", ADDRESS, {"password": value})

    def test_unknown_option_keys_are_ignored(self):
        junk = {"no-such-option": Variant("i", 5), "": Variant("s", ""), "x" * 4096: Variant("as", ["y"]),
                "TIMEOUT-MS": Variant("s", "not a number"), "timeout_ms": Variant("b", True)}
        # The options are read: a known key next to the junk still counts...
        reply = self.manager_error(INVALID_ARGS, "ValidateCredentials", "ssa{sv}", ADDRESS, PASSWORD,
                                   dict(junk, **{"timeout-ms": Variant("s", "x")}))
        self.assertIn("timeout-ms", reply.error_message)
        # ...and the junk changes nothing: the validation runs (and times
        # out on the silent servers) and Diagnose gives its checklist.
        started = time.monotonic()
        self.manager_error(TIMEOUT, "ValidateCredentials", "ssa{sv}", ADDRESS, PASSWORD,
                           dict(junk, **{"timeout-ms": Variant("u", 500)}))
        self.assertLess(time.monotonic() - started, 0.5 + DEADLINE_SLACK)
        reply = self.bus.call(OBJECT_PATH, MANAGER_IFACE, "Diagnose", "sa{sv}", ADDRESS,
                              dict(junk, **{"timeout-ms": Variant("u", 500)}))
        self.assertEqual(reply.kind, METHOD_RETURN, reply)
        self.assertTrue(reply.body[0], "an empty checklist")
        self.assertTrue(all("id" in step and "status" in step for step in reply.body[0]), reply)


class BadStrings:
    def test_addresses(self):
        for address in ("", " \n", HUGE, HUGE + "@icloud.com", "jane@" + HUGE, "jane@" + HUGE + ".com",
                        "jane@a-" + HUGE + "-.com", "jane\n@icloud.com", "jane@icloud.com\r\nRCPT TO:<x@y>",
                        "jane@icloud.com\nx", "jane\r@icloud.com", "jane@icl\noud.com", "jane\x7f@icloud.com",
                        "jane\x01@icloud.com", "jane@icloud.com\u2028x"):
            label = repr(address[:40]) + (f"… ({len(address)} bytes)" if len(address) > 40 else "")
            with self.subTest(address=label):
                self.manager_error(INVALID_ADDRESS, "LookupProvider", "s", address)
                self.manager_error(INVALID_ADDRESS, "ValidateCredentials", "ssa{sv}", address, PASSWORD, {})
                self.manager_error(INVALID_ADDRESS, "AddAccount", "ssa{sv}", address, PASSWORD, {})
                self.manager_error(INVALID_ADDRESS, "Diagnose", "sa{sv}", address, {})
                for key in ("login",):
                    self.manager_error(INVALID_ADDRESS, "ValidateCredentials", "ssa{sv}", ADDRESS, PASSWORD,
                                       {key: Variant("s", address)})

    def test_addresses_trimmed(self):
        # White space around the address, a line break included, is
        # trimmed (daemon/address.c: g_strstrip, as for a pasted address).
        for address in ("jane@icloud.com\n", "\njane@icloud.com", "\r\n jane@icloud.com\r\n\t"):
            with self.subTest(address=address):
                reply = self.bus.call(OBJECT_PATH, MANAGER_IFACE, "LookupProvider", "s", address)
                self.assertEqual(reply.kind, METHOD_RETURN, reply)
                self.assertEqual(reply.body[0]["address"], ADDRESS)

    def test_passwords(self):
        accepted = [server.accepted for server in (self.imap, self.smtp, self.smtps)]
        bad = ["", "\r", "\n", "abcd-efgh-ijkl-mnop\n", "abcd-efgh-ijkl-mnop\r\n", "abcd\refgh",
               "abcd-efgh\r\nA2 LOGOUT", "\tabcd", "abcd\x7f", "abcd\x1b[2J", "p" * 1025, "p" * 4096, HUGE]
        for password in bad:
            label = repr(password[:30]) + (f"… ({len(password)} bytes)" if len(password) > 30 else "")
            with self.subTest(password=label):
                self.manager_error(INVALID_PASSWORD, "ValidateCredentials", "ssa{sv}", ADDRESS, password, {})
                self.manager_error(INVALID_PASSWORD, "AddAccount", "ssa{sv}", ADDRESS, password, {})
                self.manager_error(INVALID_PASSWORD, "Diagnose", "sa{sv}", ADDRESS,
                                   {"password": Variant("s", password)})
                self.account_error(INVALID_PASSWORD, "SetPassword", "s", password)
        # Nothing reached a server.
        self.assertEqual([server.accepted for server in (self.imap, self.smtp, self.smtps)], accepted,
                         "a server got a connection")
        # The stored password is still the one that works.
        reply = self.bus.call(self.account, ACCOUNT_IFACE, "GetPassword")
        self.assertEqual(reply.body, [PASSWORD])

    def test_option_values(self):
        for value in ("", HUGE):
            size = len(value)
            with self.subTest(key="display-name", size=size):
                if value:
                    self.manager_error(INVALID_ARGS, "AddAccount", "ssa{sv}", ADDRESS, PASSWORD,
                                       {"display-name": Variant("s", value)})
            with self.subTest(key="login", size=size):
                self.manager_error(INVALID_ADDRESS, "ValidateCredentials", "ssa{sv}", ADDRESS, PASSWORD,
                                   {"login": Variant("s", value)})
            with self.subTest(key="operation-id", size=size):
                # Either refused, or used: the call ends (at its deadline,
                # on the silent servers) with a named error.
                reply = self.bus.call(OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials", "ssa{sv}", ADDRESS,
                                      PASSWORD, {"operation-id": Variant("s", value),
                                                 "timeout-ms": Variant("u", 300)})
                self.assertEqual(reply.kind, ERROR, reply)
                self.assertIn(reply.error_name, (INVALID_ARGS, TIMEOUT), reply)
        for name in ("display-name\n", "a\nb", "a\rb", "tab\there", "x" * 257):
            with self.subTest(display_name=name[:30]):
                self.manager_error(INVALID_ARGS, "AddAccount", "ssa{sv}", "new@icloud.com", PASSWORD,
                                   {"display-name": Variant("s", name)})

    def test_export_formats(self):
        for fmt in ("", HUGE, "msmtp\n", "MSMTP", "msmtp ", "../../etc/passwd", "goax"):
            with self.subTest(format=fmt[:30]):
                self.account_error(INVALID_ARGS, "Export", "s", fmt)

    def test_display_name_property(self):
        for value in (HUGE, "x" * 257, "a\nb", "a\r\nb", "\x1b[31mred"):
            with self.subTest(value=value[:30]):
                self.expect_error(INVALID_ARGS, self.account, PROPERTIES, "Set", "ssv",
                                  ACCOUNT_IFACE, "DisplayName", Variant("s", value))
        for value in (Variant("i", 5), Variant("as", ["Jane"]), Variant("ay", [74]),
                      Variant("v", Variant("s", "Jane")), Variant("o", "/Jane")):
            with self.subTest(value=value):
                self.expect_error(INVALID_ARGS, self.account, PROPERTIES, "Set", "ssv",
                                  ACCOUNT_IFACE, "DisplayName", value)
        self.assertEqual(self.display_name(), "Jane")
        # The longest name is taken; so is an empty one (DESIGN: "at most
        # 256 bytes, no control characters").
        for value in ("x" * 256, "", "Jane"):
            reply = self.bus.call(self.account, PROPERTIES, "Set", "ssv", ACCOUNT_IFACE, "DisplayName",
                                  Variant("s", value))
            self.assertEqual(reply.kind, METHOD_RETURN, reply)
            self.assertEqual(self.display_name(), value)

    def test_nul_and_invalid_utf8_never_reach_the_daemon(self):
        # A D-Bus string cannot hold NUL: libdbus and GLib refuse it, and
        # the C API takes NUL-terminated strings.  A hand-made message
        # with one is refused by the bus, which drops the sender.
        bad_strings = [b"abcd-efgh\0ijkl-mnop", b"jane\0@icloud.com", b"\xff\xfe", b"jane@icloud.com\0"]
        for raw in bad_strings:
            with self.subTest(string=raw):
                with raw_bus(self.s) as bus:
                    address = raw if b"@" in raw else ADDRESS.encode()
                    password = raw if b"@" not in raw else PASSWORD.encode()
                    w = _Writer()
                    w.write("s", address)
                    w.write("s", password)
                    w.write("a{sv}", {})
                    serial = bus.send(BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials",
                                      "ssa{sv}", body=bytes(w.buf))
                    try:
                        reply = bus.reply(serial, timeout=10)
                    except BusClosed:
                        continue
                    # A bus that passes it on must get a named error back.
                    self.assertEqual(reply.kind, ERROR, reply)
                    self.assertIn(reply.error_name, (INVALID_PASSWORD, INVALID_ADDRESS, INVALID_ARGS), reply)


class MissingThings:
    def test_unknown_objects(self):
        for path in (OBJECT_PATH + "/nope", OBJECT_PATH + "/account/nobody_40icloud_2ecom",
                     account_path("nobody@icloud.com"), self.account + "/child", "/org/mailsetup",
                     OBJECT_PATH + "/account/" + "a" * 4000):
            for interface, member, sig, args in (
                (MANAGER_IFACE, "LookupProvider", "s", [ADDRESS]),
                (ACCOUNT_IFACE, "GetSettings", "", []),
                (ACCOUNT_IFACE, "Remove", "", []),
                (ACCOUNT_IFACE, "SetPassword", "s", [PASSWORD]),
                (PROPERTIES, "GetAll", "s", [ACCOUNT_IFACE]),
                (PROPERTIES, "Set", "ssv", [ACCOUNT_IFACE, "DisplayName", Variant("s", "x")]),
                (OBJECT_MANAGER, "GetManagedObjects", "", []),
            ):
                with self.subTest(path=path[:80], member=member):
                    self.expect_error(UNKNOWN_OBJECT, path, interface, member, sig, *args)

    def test_unknown_interfaces_and_methods(self):
        self.expect_error(UNKNOWN_METHOD, OBJECT_PATH, MANAGER_IFACE, "NoSuchMethod")
        self.expect_error(UNKNOWN_METHOD, OBJECT_PATH, MANAGER_IFACE, "lookupprovider", "s", ADDRESS)
        self.expect_error(UNKNOWN_METHOD, self.account, ACCOUNT_IFACE, "Delete")
        self.expect_error(UNKNOWN_METHOD, OBJECT_PATH, PROPERTIES, "Remove")
        self.expect_error(UNKNOWN_METHOD, OBJECT_PATH, OBJECT_MANAGER, "GetManagedObject")
        self.expect_error(UNKNOWN_METHOD, OBJECT_PATH, INTROSPECTABLE, "Introspect2")
        # An interface the object does not have.
        self.expect_error((UNKNOWN_INTERFACE, UNKNOWN_METHOD), OBJECT_PATH, ACCOUNT_IFACE, "GetSettings")
        self.expect_error((UNKNOWN_INTERFACE, UNKNOWN_METHOD), self.account, MANAGER_IFACE, "LookupProvider",
                          "s", ADDRESS)
        self.expect_error((UNKNOWN_INTERFACE, UNKNOWN_METHOD), self.account, OBJECT_MANAGER,
                          "GetManagedObjects")
        self.expect_error((UNKNOWN_INTERFACE, UNKNOWN_METHOD), OBJECT_PATH, "org.example.Nope", "Nope")
        # No interface at all (allowed for method calls): a reply either way.
        serial = self.bus.send(BUS_NAME, OBJECT_PATH, None, "LookupProvider", "s", [ADDRESS])
        reply = self.bus.reply(serial)
        if reply.is_error:
            self.assertIn(reply.error_name, (UNKNOWN_METHOD, UNKNOWN_INTERFACE), reply)
        else:
            self.assertEqual(reply.body[0]["imap-port"], self.imap.port)
        serial = self.bus.send(BUS_NAME, OBJECT_PATH, None, "NoSuchMethod")
        self.assertEqual(self.bus.reply(serial).error_name, UNKNOWN_METHOD)

    def test_properties(self):
        for path, iface, name, value in (
            (OBJECT_PATH, MANAGER_IFACE, "Version", Variant("s", "9.9")),
            (OBJECT_PATH, MANAGER_IFACE, "ExportFormats", Variant("as", ["x"])),
            (self.account, ACCOUNT_IFACE, "Address", Variant("s", "evil@icloud.com")),
            (self.account, ACCOUNT_IFACE, "Id", Variant("s", "x")),
            (self.account, ACCOUNT_IFACE, "Status", Variant("s", "ok")),
            (self.account, ACCOUNT_IFACE, "ImapPort", Variant("q", 1)),
            (self.account, ACCOUNT_IFACE, "SecretAttributes", Variant("a{ss}", {"address": "x"})),
            (self.account, ACCOUNT_IFACE, "LastChecked", Variant("t", 0)),
        ):
            with self.subTest(property=name):
                self.expect_error(PROPERTY_READ_ONLY, path, PROPERTIES, "Set", "ssv", iface, name, value)
                # The wrong type too: still read-only, or bad arguments.
                self.expect_error((PROPERTY_READ_ONLY, INVALID_ARGS), path, PROPERTIES, "Set", "ssv", iface,
                                  name, Variant("i", 1))
        for path, iface in ((OBJECT_PATH, MANAGER_IFACE), (self.account, ACCOUNT_IFACE)):
            for name in ("NoSuchProperty", "", "displayname", HUGE):
                with self.subTest(path=path, name=name[:20]):
                    self.expect_error(UNKNOWN_PROPERTY, path, PROPERTIES, "Get", "ss", iface, name)
                    self.expect_error(UNKNOWN_PROPERTY, path, PROPERTIES, "Set", "ssv", iface, name,
                                      Variant("s", "x"))
            for other in ("org.example.Nope", "", HUGE):
                with self.subTest(path=path, interface=other[:20]):
                    self.expect_error((UNKNOWN_INTERFACE, UNKNOWN_PROPERTY), path, PROPERTIES, "Get", "ss",
                                      other, "Version")
                    self.expect_error((UNKNOWN_INTERFACE, UNKNOWN_PROPERTY), path, PROPERTIES, "Set", "ssv",
                                      other, "DisplayName", Variant("s", "x"))
                    self.expect_error(UNKNOWN_INTERFACE, path, PROPERTIES, "GetAll", "s", other)
        # The other object's interface.
        self.expect_error((UNKNOWN_INTERFACE, UNKNOWN_PROPERTY), OBJECT_PATH, PROPERTIES, "Get", "ss",
                          ACCOUNT_IFACE, "DisplayName")
        self.expect_error((UNKNOWN_INTERFACE, UNKNOWN_PROPERTY), self.account, PROPERTIES, "Get", "ss",
                          MANAGER_IFACE, "Version")
        self.assertEqual(self.display_name(), "Jane")


class Concurrency:
    CONNECTIONS = 10
    PER_CONNECTION = 20

    def test_200_concurrent_calls(self):
        # Per connection, 20 calls in flight at once: of every kind below,
        # in this order (the slow validations first, so the quick calls
        # behind them show that nothing waits on them).
        mix = (
            [("validate-silent", 2)] + [("lookup", 6), ("objects", 4), ("introspect", 4),
                                        ("validate-badpassword", 4)]
        )
        kinds = [k for k, n in mix for _ in range(n)]
        self.assertEqual(len(kinds), self.PER_CONNECTION)
        timeout_ms = 2000
        buses = [raw_bus(self.s) for _ in range(self.CONNECTIONS)]
        for b in buses:
            self.addCleanup(b.close)
        results = [None] * self.CONNECTIONS
        start = threading.Barrier(self.CONNECTIONS + 1)

        def run(i):
            bus = buses[i]
            start.wait()
            sent = []
            for j, kind in enumerate(kinds):
                if kind == "lookup":
                    serial = bus.call_async(OBJECT_PATH, MANAGER_IFACE, "LookupProvider", "s", ADDRESS)
                elif kind == "objects":
                    serial = bus.call_async(OBJECT_PATH, OBJECT_MANAGER, "GetManagedObjects")
                elif kind == "introspect":
                    serial = bus.call_async(self.account if j % 2 else OBJECT_PATH, INTROSPECTABLE, "Introspect")
                elif kind == "validate-badpassword":
                    serial = bus.call_async(OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials", "ssa{sv}",
                                            ADDRESS, f"bad\npassword {i} {j}", {})
                else:
                    serial = bus.call_async(OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials", "ssa{sv}",
                                            ADDRESS, PASSWORD, options(timeout_ms=timeout_ms,
                                                                       operation_id=f"op-{i}-{j}"))
                sent.append((kind, serial, time.monotonic()))
            out = []
            try:
                for kind, serial, at in sent:
                    reply = bus.reply(serial, timeout=timeout_ms / 1000 + DEADLINE_SLACK + 20)
                    out.append((kind, reply, reply.received - at))
            except Exception as e:  # noqa: BLE001 - reported below
                out.append(("exception", e, 0))
            results[i] = out

        threads = [threading.Thread(target=run, args=(i,)) for i in range(self.CONNECTIONS)]
        for t in threads:
            t.start()
        start.wait()
        began = time.monotonic()
        for t in threads:
            t.join(timeout=60)
        elapsed = time.monotonic() - began
        counts = {}
        quick = []
        for i, out in enumerate(results):
            self.assertIsNotNone(out, f"connection {i} did not finish")
            self.assertEqual(len(out), self.PER_CONNECTION, f"connection {i}: {out[-1:]}")
            for kind, reply, took in out:
                counts[kind] = counts.get(kind, 0) + 1
                with self.subTest(connection=i, kind=kind):
                    if kind == "lookup":
                        self.assertEqual(reply.kind, METHOD_RETURN, reply)
                        self.assertEqual(reply.body[0]["imap-port"], self.imap.port)
                    elif kind == "objects":
                        self.assertEqual(reply.kind, METHOD_RETURN, reply)
                        self.assertEqual(list(reply.body[0]), [self.account])
                    elif kind == "introspect":
                        self.assertEqual(reply.kind, METHOD_RETURN, reply)
                        self.assertIn("<node", reply.body[0])
                        self.assertIn("org.mailsetup.MailSetup1.", reply.body[0])
                    elif kind == "validate-badpassword":
                        self.assertEqual(reply.error_name, INVALID_PASSWORD, reply)
                    else:
                        self.assertEqual(reply.error_name, TIMEOUT, reply)
                        self.assertGreaterEqual(took, timeout_ms / 1000 - 0.1)
                if kind != "validate-silent":
                    quick.append(took)
        self.assertEqual(sum(counts.values()), 200, counts)
        print(f"200 concurrent calls: all answered in {elapsed:.2f} s; quick ones within "
              f"{max(quick) * 1000:.0f} ms (median {sorted(quick)[len(quick) // 2] * 1000:.0f} ms)")
        # The quick calls did not wait for the validations.
        self.assertLess(max(quick), timeout_ms / 1000, "quick calls waited for the validations")
        self.assertLess(elapsed, timeout_ms / 1000 + DEADLINE_SLACK + 3)
        # Every validation's connections are closed again.
        for server in (self.imap, self.smtp):
            self.assertGreaterEqual(server.accepted, self.CONNECTIONS * 2)
        for server in (self.imap, self.smtp, self.smtps):
            server.wait_idle(timeout=5)

    def test_no_reply_expected(self):
        # Calls whose caller wants no reply: served (or skipped) quietly.
        for _ in range(5):
            self.bus.send(BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials", "ssa{sv}",
                          [ADDRESS, PASSWORD, options(timeout_ms=300)], flags=NO_REPLY_EXPECTED)
            self.bus.send(BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "LookupProvider", "s", [""],
                          flags=NO_REPLY_EXPECTED)
            self.bus.send(BUS_NAME, self.account, PROPERTIES, "Set", "ssv",
                          [ACCOUNT_IFACE, "Address", Variant("s", "x")], flags=NO_REPLY_EXPECTED)
        reply = self.bus.call(OBJECT_PATH, MANAGER_IFACE, "LookupProvider", "s", ADDRESS)
        self.assertEqual(reply.kind, METHOD_RETURN, reply)
        # Nothing but that one reply came back.
        time.sleep(0.3 + DEADLINE_SLACK)
        with self.assertRaises(TimeoutError):
            self.bus.receive(timeout=0.2)
        for server in (self.imap, self.smtp, self.smtps):
            server.wait_idle(timeout=5)


class LeavingCallers:
    def test_raw_connection_closes_mid_validation(self):
        before = self.imap.accepted
        serials = [self.bus.call_async(OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials", "ssa{sv}", ADDRESS,
                                       PASSWORD, options(timeout_ms=20000, operation_id=f"leaving-{i}"))
                   for i in range(5)]
        serials.append(self.bus.call_async(OBJECT_PATH, MANAGER_IFACE, "Diagnose", "sa{sv}", ADDRESS,
                                           options(timeout_ms=20000, password=PASSWORD)))
        self.assertTrue(serials)
        self.imap.wait_connections(before + 6)
        self.bus.close()
        left = time.monotonic()
        # Every probe is cancelled: the servers see their connections
        # close long before the 20 s deadline.
        for server in (self.imap, self.smtp, self.smtps):
            server.wait_idle(timeout=5)
        self.assertLess(time.monotonic() - left, 5)

    def test_caller_gone_before_its_call_is_served(self):
        # The caller sends and leaves at once: by the time the daemon
        # serves the call (and starts watching the caller), the bus has
        # already announced that the caller left.  A first call lets the
        # daemon know the caller's user already, so nothing else stops the
        # call from starting; a few calls with 1 MiB arguments in front of
        # it keep the daemon busy while the caller leaves.  Whether the
        # validation starts or not, nothing of it may be left after a short
        # while, long before its 6 s deadline.
        servers = (self.imap, self.smtp, self.smtps)
        for i in range(2):
            with self.subTest(attempt=i):
                bus = raw_bus(self.s)
                try:
                    reply = bus.call(OBJECT_PATH, MANAGER_IFACE, "LookupProvider", "s", ADDRESS)
                    self.assertEqual(reply.kind, METHOD_RETURN, reply)
                    for _ in range(5):
                        bus.call_async(OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials", "ssa{sv}", HUGE, HUGE, {})
                    bus.call_async(OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials", "ssa{sv}", ADDRESS, PASSWORD,
                                   options(timeout_ms=6000, operation_id=f"gone-{i}"))
                finally:
                    bus.close()
                left = time.monotonic()
                time.sleep(0.5)
                try:
                    for server in servers:
                        server.wait_idle(timeout=2.5)
                except AssertionError:
                    # Leave nothing running for the next test.
                    for server in servers:
                        server.wait_idle(timeout=6 + DEADLINE_SLACK)
                    raise AssertionError(f"the validation of a caller that had left ran on for "
                                         f"{time.monotonic() - left:.1f} s (to its deadline)") from None

    def test_killed_clients_mid_validation(self):
        before = self.imap.accepted
        procs = [self.s.spawn(validate_argv(ADDRESS, PASSWORD, timeout_ms=20000), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
        procs.append(self.s.spawn(
            ["gdbus", "call", "--session", "--dest", BUS_NAME, "--object-path", OBJECT_PATH, "--timeout", "30",
             "--method", MANAGER_IFACE + ".ValidateCredentials", ADDRESS, PASSWORD, "{'timeout-ms': <uint32 20000>}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.imap.wait_connections(before + 2)
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)
            self.s.forget(p)
        left = time.monotonic()
        for server in (self.imap, self.smtp, self.smtps):
            server.wait_idle(timeout=5)
        self.assertLess(time.monotonic() - left, 5)


class Resources:
    """The daemon's fds and memory after a burst of hostile calls."""

    def burst(self, rounds):
        """@rounds × ~30 hostile calls on a few connections, 10 validations
        that time out on the silent servers and 10 checks of the account
        against Dovecot."""
        calls = 0
        buses = [raw_bus(self.s) for _ in range(3)]
        try:
            for r in range(rounds):
                bus = buses[r % len(buses)]
                pending = []

                def send(path, iface, member, sig="", *args):
                    pending.append(bus.call_async(path, iface, member, sig, *args))

                for sig in ("", "i", "sss", "ssa{ss}", "ssa{sv}s"):
                    send(OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials", sig, *sample_args(sig))
                send(OBJECT_PATH, MANAGER_IFACE, "LookupProvider", "s", HUGE)
                send(OBJECT_PATH, MANAGER_IFACE, "LookupProvider", "s", "jane\n@icloud.com")
                send(OBJECT_PATH, MANAGER_IFACE, "LookupProvider", "s", "jane@example.org")
                send(OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials", "ssa{sv}", ADDRESS, HUGE, {})
                send(OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials", "ssa{sv}", ADDRESS, "a\r\nb", {})
                send(OBJECT_PATH, MANAGER_IFACE, "AddAccount", "ssa{sv}", ADDRESS, PASSWORD,
                     {"timeout-ms": Variant("s", "x"), "junk": Variant("ay", [1] * 1000)})
                send(OBJECT_PATH, MANAGER_IFACE, "AddAccount", "ssa{sv}", HUGE, PASSWORD, {})
                send(OBJECT_PATH, MANAGER_IFACE, "Diagnose", "sa{sv}", ADDRESS,
                     {"password": Variant("s", "p" * 2000)})
                send(OBJECT_PATH, MANAGER_IFACE, "Diagnose", "sa{sv}", ADDRESS, {"login": Variant("i", 1)})
                send(self.account, ACCOUNT_IFACE, "Export", "s", HUGE)
                send(self.account, ACCOUNT_IFACE, "Export", "s", "")
                send(self.account, ACCOUNT_IFACE, "SetPassword", "s", "x\n")
                send(self.account, ACCOUNT_IFACE, "Remove", "i", 1)
                send(self.account, PROPERTIES, "Set", "ssv", ACCOUNT_IFACE, "DisplayName", Variant("s", HUGE))
                send(self.account, PROPERTIES, "Set", "ssv", ACCOUNT_IFACE, "DisplayName", Variant("i", 1))
                send(self.account, PROPERTIES, "Set", "ssv", ACCOUNT_IFACE, "Address", Variant("s", "x"))
                send(self.account, PROPERTIES, "Get", "ss", ACCOUNT_IFACE, "Nope")
                send(self.account, PROPERTIES, "GetAll", "s", "org.example.Nope")
                send(OBJECT_PATH + "/nope", MANAGER_IFACE, "LookupProvider", "s", ADDRESS)
                send(account_path("nobody@icloud.com"), ACCOUNT_IFACE, "Remove")
                send(OBJECT_PATH, "org.example.Nope", "Nope")
                send(OBJECT_PATH, MANAGER_IFACE, "Nope", "s", HUGE)
                send(OBJECT_PATH, INTROSPECTABLE, "Introspect")
                send(self.account, INTROSPECTABLE, "Introspect")
                send(OBJECT_PATH, OBJECT_MANAGER, "GetManagedObjects")
                send(self.account, ACCOUNT_IFACE, "GetSettings")
                send(self.account, PROPERTIES, "GetAll", "s", ACCOUNT_IFACE)
                for serial in pending:
                    bus.reply(serial)
                calls += len(pending)
            # Validations: 10 at once that time out, then 10 real checks.
            bus = buses[0]
            serials = [bus.call_async(OBJECT_PATH, MANAGER_IFACE, "ValidateCredentials", "ssa{sv}", ADDRESS,
                                      PASSWORD, options(timeout_ms=800)) for _ in range(10)]
            for serial in serials:
                self.assertEqual(bus.reply(serial).error_name, TIMEOUT)
            for _ in range(10):
                reply = bus.call(self.account, ACCOUNT_IFACE, "Check", timeout=30)
                self.assertEqual(reply.kind, METHOD_RETURN, reply)
            reply = bus.call(self.account, PROPERTIES, "Get", "ss", ACCOUNT_IFACE, "Status")
            self.assertEqual(reply.body[0], "ok")
        finally:
            for b in buses:
                b.close()
        return calls + 20

    def settled_fds(self, limit, timeout=10):
        """The fd count once it is at most @limit (or the last one seen)."""
        deadline = time.monotonic() + timeout
        while True:
            n = fd_count(self.pid)
            if n <= limit or time.monotonic() > deadline:
                return n
            time.sleep(0.1)

    def test_fds_and_memory_after_a_burst(self):
        try:
            fd_count(self.pid)
        except PermissionError:
            self.skipTest("cannot list the fds of a non-dumpable daemon without privileges")
        # Warm-up: everything that is opened lazily once (the Secret
        # Service connection, thread pools, caches) is open afterwards.
        self.burst(2)
        for server in (self.imap, self.smtp, self.smtps):
            server.wait_idle(timeout=5)
        time.sleep(0.5)
        fds_before, rss_before = fd_count(self.pid), rss_kib(self.pid)
        targets_before = fd_targets(self.pid)
        started = time.monotonic()
        calls = self.burst(10)
        took = time.monotonic() - started
        for server in (self.imap, self.smtp, self.smtps):
            server.wait_idle(timeout=5)
        fds_after = self.settled_fds(fds_before + 2)
        rss_after = rss_kib(self.pid)
        print(f"{calls} calls in {took:.1f} s: fds {fds_before} -> {fds_after}, "
              f"VmRSS {rss_before} -> {rss_after} KiB ({(rss_after - rss_before) / 1024:+.1f} MiB)")
        self.assertGreaterEqual(calls, 300)
        self.assertLessEqual(fds_after, fds_before + 2,
                             "fds leaked:\nbefore: " + "\n".join(targets_before)
                             + "\nafter: " + "\n".join(fd_targets(self.pid)))
        if sanitized():
            # ASan's quarantine holds freed memory back: RSS says nothing.
            print("RSS bound not checked in a sanitizer build")
        else:
            self.assertLess(rss_after - rss_before, 8 * 1024, "RSS grew by more than 8 MiB")


class HostileCallers(WrongArguments, BadStrings, MissingThings, Concurrency, LeavingCallers, Resources,
                     HostileTestCase):
    """All of the above on one daemon (one session: Dovecot and the keyring
    start once)."""


class LeavingMidAddAccount(SessionTestCase):
    """A caller of AddAccount that leaves the bus at any moment: the account
    is then either added completely (object, file entry and secret) or not
    at all.  The IMAP greeting comes late (a DelayProxy in front of
    Dovecot), so that a caller can leave while the validation hangs; the
    other moments are right after the validation's last Progress signal
    and some milliseconds later, while the password is being stored and
    the file written (the daemon's own steps take a few ms, so a spread of
    moments hits them)."""

    DELAY = 0.2
    ADDRESS = "jane@icloud.com"
    # (when, milliseconds after it)
    MOMENTS = ([("sent", 0), ("connected", 0)] + [("done", ms) for ms in (0, 1, 2, 3, 5, 8, 12, 20, 50)]
               + [("keyring-stopped", 50)])

    @classmethod
    def setUpClass(cls):
        cls.certs = TestCertificates()
        cls.dovecot = DovecotServer()
        cls.faults = FaultServers()
        cls.override = ProviderOverride()
        cls.keyring = GnomeKeyring()
        cls.components = [cls.certs, cls.dovecot, cls.faults, cls.override, cls.keyring]
        super().setUpClass()
        p = cls.dovecot.ports
        cls.proxy = cls.faults.delay_proxy(p["imaps"], cls.DELAY)
        cls.override.write(cls.session, imap=cls.proxy.port, smtp=[p["submission"], p["submissions"]])
        cls.pid = cls.session.activate()

    def tearDown(self):
        ensure_daemon_answers(self.s)
        self.assertEqual(self.s.name_owner_pid(), self.pid, "mailsetupd was restarted (it crashed?)")

    def state(self):
        """(object exported, file entry, number of secrets) of the address."""
        with raw_bus(self.s) as bus:
            reply = bus.call(OBJECT_PATH, OBJECT_MANAGER, "GetManagedObjects")
        self.assertEqual(reply.kind, METHOD_RETURN, reply)
        exported = account_path(self.ADDRESS) in reply.body[0]
        in_file = any(e.get("Address") == self.ADDRESS for e in read_accounts(self.s).values())
        secrets = [s for s in mailsetup_secrets(self.s) if s.get("address") == self.ADDRESS]
        return exported, in_file, len(secrets)

    def settled_state(self, where):
        """The state once it is consistent and stays so for 0.3 s; raises
        AssertionError if it does not become consistent within 3 s."""
        last = [None]

        def consistent():
            last[0] = self.state()
            return last[0] in ((False, False, 0), (True, True, 1))

        try:
            wait_for(consistent, 3, interval=0.1, what=where)
            time.sleep(0.3)
            wait_for(consistent, 0.1, interval=0.1, what=where)
        except AssertionError:
            raise AssertionError(f"{where}: a half-added account: (object exported, in accounts.conf, "
                                 f"secrets in the keyring) = {last[0]}\nsecrets: {mailsetup_secrets(self.s)}"
                                 f"\naccounts.conf: {read_accounts(self.s)}") from None
        return last[0]

    def clean_up(self):
        """Removes the account and any secret of it left behind."""
        if self.state()[0]:
            with raw_bus(self.s) as bus:
                reply = bus.call(account_path(self.ADDRESS), ACCOUNT_IFACE, "Remove")
            self.assertEqual(reply.kind, METHOD_RETURN, reply)
        self.keyring.clear(self.s, address=self.ADDRESS)
        self.assertEqual(self.state(), (False, False, 0))

    def add_and_leave(self, when, ms):
        """AddAccount, and the connection closed @when: "sent" (right after
        sending), "connected" (once the IMAP proxy has the connection:
        during the validation), or "done" (after both Progress "done"
        signals), @ms milliseconds later; or "keyring-stopped": after the
        "done" signals the keyring is stopped (SIGSTOP), the caller leaves
        @ms milliseconds later, while the daemon waits for the keyring to
        store the password, and the keyring goes on (SIGCONT) 0.3 s after
        that, so that it stores the password after the daemon has given
        up waiting: the moment every timing above may miss."""
        bus = raw_bus(self.s)
        stopped = False
        try:
            bus.add_match(f"type='signal',sender='{BUS_NAME}',interface='{MANAGER_IFACE}',member='Progress'")
            op = f"leave-{when}-{ms}"
            before = self.proxy.accepted
            serial = bus.call_async(OBJECT_PATH, MANAGER_IFACE, "AddAccount", "ssa{sv}", self.ADDRESS, PASSWORD,
                                    options(operation_id=op, timeout_ms=10000))
            if when == "connected":
                wait_for(lambda: self.proxy.accepted > before, 10, interval=0.005, what="the IMAP connection")
            elif when in ("done", "keyring-stopped"):
                done = set()
                deadline = time.monotonic() + 15
                while len(done) < 2:
                    m = bus.receive(timeout=max(deadline - time.monotonic(), 0.01))
                    if m.kind == SIGNAL and m.member == "Progress" and m.body[0] == op and m.body[2] == "done":
                        done.add(m.body[1])
                    elif m.kind in (METHOD_RETURN, ERROR) and m.reply_serial == serial:
                        raise AssertionError(f"AddAccount ended before the caller left: {m}")
            if when == "keyring-stopped":
                os.kill(self.keyring.proc.pid, signal.SIGSTOP)
                stopped = True
            if ms:
                time.sleep(ms / 1000)
        finally:
            bus.close()
            if stopped:
                time.sleep(0.3)
                os.kill(self.keyring.proc.pid, signal.SIGCONT)

    def add(self):
        """An AddAccount whose caller stays: it works."""
        with raw_bus(self.s) as bus:
            reply = bus.call(OBJECT_PATH, MANAGER_IFACE, "AddAccount", "ssa{sv}", self.ADDRESS, PASSWORD, {})
        self.assertEqual(reply.kind, METHOD_RETURN, reply)
        self.assertEqual(self.settled_state("added"), (True, True, 1))
        self.clean_up()

    def test_leaving_mid_add_account(self):
        # The first add also opens the daemon's Secret Service session, so
        # that later stores are one CreateItem call (which "keyring-stopped"
        # catches in flight).
        self.add()
        outcomes = []
        for when, ms in self.MOMENTS:
            where = f"caller left at {when}+{ms} ms"
            with self.subTest(when=where):
                try:
                    self.add_and_leave(when, ms)
                    state = self.settled_state(where)
                    outcomes.append(f"{when}+{ms}: {'added' if state[0] else '-'}")
                    if when in ("sent", "connected"):
                        # Left during the validation: cancelled, nothing added.
                        self.assertEqual(state, (False, False, 0), where)
                finally:
                    self.clean_up()
        print("AddAccount whose caller left: " + ", ".join(outcomes))
        self.add()


if __name__ == "__main__":
    harness.main()
