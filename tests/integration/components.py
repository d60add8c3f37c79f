#!/usr/bin/env python3
"""Components for harness.Session: the real and scripted parts a test needs
besides the bus and mailsetupd (DESIGN.md §6), and small call helpers.

    certs = TestCertificates()            # SSL_CERT_FILE → the test CA
    dovecot = DovecotServer(certs)        # a real Dovecot on loopback
    faults = FaultServers(certs)          # scripted servers, on demand
    override = ProviderOverride(dovecot=dovecot)   # iCloud → Dovecot
    keyring = GnomeKeyring()              # org.freedesktop.secrets

    with Session(components=[certs, dovecot, faults, override, keyring]) as s:
        report = validate(s, "jane@icloud.com", PASSWORD)
        fs = faults.start_server("imap-bye")           # or faults("imap-bye")
        override.write(s, imap=fs.port, smtp=[...])   # restarts the daemon
        name, message = validate_error(s, "jane@icloud.com", PASSWORD)

Components start in the order given and stop in reverse; TestCertificates
must come before the servers that use it.  Python 3 standard library only.
"""

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import harness
from harness import BUS_NAME, DBusCallError, MANAGER_IFACE, OBJECT_PATH, Component

_SERVERS_DIR = os.path.join(
    os.environ.get("MAILSETUP_SOURCE_ROOT")
    or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "tests",
    "servers",
)
sys.path.insert(0, _SERVERS_DIR)
import dovecot as _dovecot  # noqa: E402
import faultserver  # noqa: E402
import testca  # noqa: E402

# The password of Dovecot's and the fault servers' users.
PASSWORD = _dovecot.PASSWORD
ERROR = harness.ERROR_PREFIX

SECRETS_NAME = "org.freedesktop.secrets"
SECRETS_PATH = "/org/freedesktop/secrets"


def sanitized():
    """True when the daemon under test is a sanitizer build (slower)."""
    if os.environ.get("ASAN_OPTIONS") or os.environ.get("UBSAN_OPTIONS"):
        return True
    try:
        with open(harness.Paths().mailsetupd, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data or b"__ubsan_handle" in data


# How much later than its timeout-ms a validation may answer: the daemon's
# own grace is 250 ms; the rest is for a loaded machine and sanitizers.
DEADLINE_SLACK = 3.0 if sanitized() else 1.5


def wait_for(condition, timeout, interval=0.02, what="condition"):
    """Polls @condition() until it returns something true (returned) or
    @timeout seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not met within {timeout} s")
        time.sleep(interval)


# --------------------------------------------------------------------------
# certificates


class TestCertificates(Component):
    """The test CA and server certificates of tests/servers/testca.py; the
    bus (and so the daemon it activates) trusts the CA through
    SSL_CERT_FILE.  The set is made once per build tree and shared by all
    sessions (testca locks and stamps it), or in the session's own
    directory with shared=False.  After set-up: .dir, .paths (testca's
    dict), .ca."""

    name = "certificates"

    def __init__(self, shared=True):
        self.shared = shared
        self.dir = None
        self.paths = None

    def environment(self, session):
        if self.shared:
            self.dir = os.path.join(session.paths.build_root, "tests", "integration", "test-certs")
        else:
            self.dir = os.path.join(session.tmp, "certs")
        self.paths = testca.ensure(self.dir)
        # SSL_CERT_DIR too: a directory of the host's must not add trust.
        return {"SSL_CERT_FILE": self.paths["ca"], "SSL_CERT_DIR": os.path.join(self.dir, "no-such-dir")}

    @property
    def ca(self):
        return self.paths["ca"]


def _certificates(components_or_certs, session):
    if isinstance(components_or_certs, TestCertificates):
        return components_or_certs
    for c in session.components:
        if isinstance(c, TestCertificates):
            return c
    raise RuntimeError("this component needs a TestCertificates component before it")


# --------------------------------------------------------------------------
# Dovecot


class DovecotServer(Component):
    """A real Dovecot (tests/servers/dovecot.py) for the session's life.
    .ports: {"imaps", "submission", "submissions", "imap_starttls"};
    .address; .log().  Users jane@icloud.com (full address) and john
    (local part only), password PASSWORD."""

    name = "dovecot"

    def __init__(self, certs=None, address="127.0.0.1"):
        self.certs = certs
        self.address = address
        self.server = None
        self.ports = None

    def start(self, session):
        certs = _certificates(self.certs, session)
        self.server = _dovecot.Dovecot(os.path.join(session.tmp, "dovecot"), certs.dir, address=self.address)
        self.ports = self.server.start(timeout=30)

    def stop(self, session):
        if self.server is not None:
            # Keep its log with the session's logs (printed on failure).
            try:
                with open(os.path.join(session.log_dir, "dovecot.log"), "w") as f:
                    f.write(self.server.log())
            except OSError:
                pass
            self.server.stop()
            self.server = None

    def log(self):
        return self.server.log() if self.server else ""


# --------------------------------------------------------------------------
# fault servers


class RecordingFaultServer(faultserver.FaultServer):
    """A FaultServer that also counts connections: .accepted (ever) and
    .active (open now); .record_path is its --record file (or None)."""

    def __init__(self, *args, record=None, **kw):
        super().__init__(*args, record=record, **kw)
        self.record_path = record
        self.accepted = 0
        self.active = 0

    def _serve(self, sock, peer):
        with self._lock:
            self.accepted += 1
            self.active += 1
        try:
            super()._serve(sock, peer)
        finally:
            with self._lock:
                self.active -= 1

    def recorded(self):
        """What the client sent so far (the --record text), "" if none."""
        if not self.record_path:
            return ""
        try:
            with open(self.record_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_recorded(self, text, timeout=10):
        """Waits until the client has sent @text (a goodbye such as LOGOUT
        comes after the verdict, so after the reply that carries it)."""
        wait_for(lambda: text in self.recorded(), timeout, what=f"{self.scenario}: client sent {text!r}")

    def wait_connections(self, n, timeout=20):
        """Waits until at least @n connections were accepted."""
        wait_for(lambda: self.accepted >= n, timeout, what=f"{self.scenario}: {n} connection(s)")

    def wait_idle(self, timeout=10):
        """Waits until no connection is open."""
        wait_for(lambda: self.active == 0, timeout, what=f"{self.scenario}: all connections closed")


class DelayProxy:
    """A TCP proxy on 127.0.0.1 to @port that holds back what the server
    says first for @delay seconds: a slow greeting (or, for implicit TLS, a
    slow handshake) from an otherwise good server.  .port, .accepted."""

    def __init__(self, port, delay, host="127.0.0.1"):
        self.upstream = (host, port)
        self.delay = delay
        self.accepted = 0
        self.port = None
        self._sockets = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener = None

    def start(self):
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept_loop, daemon=True, name="delay-proxy").start()
        return self.port

    def stop(self):
        self._stopping.set()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets + [self._listener]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self.accepted += 1
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, 0), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, self.delay), daemon=True).start()

    def _pump(self, src, dst, delay):
        if delay and self._stopping.wait(delay):
            return
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class FaultServers(Component):
    """Scripted fault servers (tests/servers/faultserver.py) started on
    demand in this process and stopped with the session:

        fs = faults.start_server("imap-bye")           # .port, .recorded()
        fs = faults.start_server("smtp-421", tls="implicit", cert="expired")

    Every server records what clients sent (fs.recorded()).  refused_port()
    gives a port where connections are refused; delay_proxy(port, seconds)
    a slow-to-greet front for a good server."""

    name = "fault-servers"

    def __init__(self, certs=None):
        self.certs = certs
        self.servers = []
        self._session = None
        self._count = 0

    def start(self, session):
        self._session = session

    def stop(self, session):
        for fs in self.servers:
            fs.stop()
        self.servers = []
        self._session = None

    def __call__(self, scenario, **kw):
        return self.start_server(scenario, **kw)

    def start_server(self, scenario, cert="good", record=True, **kw):
        if self._session is None:
            raise RuntimeError("FaultServers: the session is not running")
        certs = _certificates(self.certs, self._session)
        self._count += 1
        if record is True:
            # Not among the logs: finish_session prints those, and TLS
            # handshakes to a plain-text server record as binary noise.
            records = os.path.join(self._session.tmp, "fault-records")
            os.makedirs(records, exist_ok=True)
            record = os.path.join(records, f"{self._count}-{scenario}.record")
        fs = RecordingFaultServer(scenario, certs.dir, cert=cert, record=record, **kw)
        fs.start()
        self.servers.append(fs)
        return fs

    @staticmethod
    def refused_port(host="127.0.0.1"):
        return faultserver.free_port(host)

    def delay_proxy(self, port, delay):
        """A DelayProxy to 127.0.0.1:@port (stopped with the session)."""
        proxy = DelayProxy(port, delay)
        proxy.start()
        self.servers.append(proxy)
        return proxy


# --------------------------------------------------------------------------
# provider override


ICLOUD_DOMAINS = ("icloud.com", "me.com", "mac.com")
USERNAME_CANDIDATES = ("%EMAILADDRESS%", "%EMAILLOCALPART%")

_PROVIDER_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by tests/integration/components.py: iCloud on local test servers. -->
<clientConfig version="1.1" xmlns:ms="https://mailsetup.org/ns/provider/1">
  <emailProvider id="icloud.com">
{domains}
    <displayName>iCloud Mail</displayName>
    <displayShortName>iCloud</displayShortName>
    <incomingServer type="imap">
      <hostname>{imap_host}</hostname>
      <port>{imap_port}</port>
      <socketType>{imap_security}</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
{candidates}
    </incomingServer>
{smtp}
    <documentation url="https://support.apple.com/en-us/102525">
      <descr lang="en">iCloud Mail server settings for other email client apps</descr>
    </documentation>
    <ms:password kind="app-specific">
      <ms:hint>iCloud Mail needs an app-specific password, not your Apple
        Account password: since 2017, mail programs other than Apple's
        own sign in with one, and making one needs two-factor
        authentication on your Apple Account. Make one at
        account.apple.com: Sign-In and Security, App-Specific Passwords.
        It looks like xxxx-xxxx-xxxx-xxxx.</ms:hint>
      <ms:url>https://support.apple.com/en-us/102654</ms:url>
    </ms:password>
  </emailProvider>
</clientConfig>
"""

_SMTP_XML = """\
    <outgoingServer type="smtp">
      <hostname>{host}</hostname>
      <port>{port}</port>
      <socketType>{security}</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>"""


def provider_xml(imap, smtp, host="127.0.0.1", domains=ICLOUD_DOMAINS, candidates=USERNAME_CANDIDATES):
    """The clientConfig text.  @imap: a port (implicit TLS on @host) or
    (host, port[, "SSL"|"STARTTLS"]); @smtp: a list of the same, default
    security STARTTLS for the first and SSL for the others (the shipped
    file's 587-then-465 order)."""

    def endpoint(e, default_security):
        if isinstance(e, int):
            return host, e, default_security
        if len(e) == 2:
            return e[0], e[1], default_security
        return tuple(e)

    ih, ip, isec = endpoint(imap, "SSL")
    smtp_xml = []
    for i, e in enumerate(smtp):
        sh, sp, ssec = endpoint(e, "STARTTLS" if i == 0 else "SSL")
        smtp_xml.append(_SMTP_XML.format(host=harness._xml_escape(sh), port=sp, security=ssec))
    return _PROVIDER_XML.format(
        domains="\n".join(f"    <domain>{d}</domain>" for d in domains),
        imap_host=harness._xml_escape(ih),
        imap_port=ip,
        imap_security=isec,
        candidates="\n".join(f"      <ms:usernameCandidate>{c}</ms:usernameCandidate>" for c in candidates),
        smtp="\n".join(smtp_xml),
    )


def restart_daemon(session, timeout=20):
    """Stops the running mailsetupd (SIGTERM) so that the next call
    activates a fresh one.  No-op when none runs.  Its exit status goes to
    session.service_exits, which finish_session() checks at the end (as it
    checks the bus log for sanitizer reports); a daemon that does not exit
    is killed and fails the caller."""
    if not session.name_has_owner(BUS_NAME):
        return
    pid = session.name_owner_pid()
    os.kill(pid, signal.SIGTERM)
    try:
        status = session.wait_exit(pid, timeout=timeout)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        session.wait_exit(pid, timeout=timeout)
        session.wait_for_name(BUS_NAME, present=False, timeout=timeout)
        raise AssertionError(f"mailsetupd (pid {pid}) did not exit within {timeout} s of SIGTERM; killed it")
    session.service_exits.append((pid, "mailsetupd (restarted)", status))
    session.wait_for_name(BUS_NAME, present=False, timeout=timeout)


def daemon_answers(session, timeout=5):
    """True if mailsetupd answers Peer.Ping within @timeout seconds (it
    is activated if it does not run)."""
    r = session.busctl(
        f"--timeout={timeout}", "call", BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Peer", "Ping",
        json_output=False, timeout=timeout + 10,
    )
    return r.returncode == 0


def ensure_daemon_answers(session, timeout=5):
    """For a tearDown: if mailsetupd is on the bus but does not answer
    (its main loop is stuck), kills it so later tests get a fresh one, and
    raises AssertionError.  Returns quietly otherwise."""
    if not session.name_has_owner(BUS_NAME) or daemon_answers(session, timeout):
        return
    pid = session.name_owner_pid()
    os.kill(pid, signal.SIGKILL)
    try:
        session.wait_exit(pid, timeout=10)
    except TimeoutError:
        pass
    session.wait_for_name(BUS_NAME, present=False, timeout=10)
    raise AssertionError(f"mailsetupd (pid {pid}) stopped answering on the bus (main loop stuck); killed it")


class ProviderOverride(Component):
    """A user provider file ($XDG_CONFIG_HOME/mailsetup/providers/) that
    points the iCloud domains at local servers.

        ProviderOverride(dovecot=dv)            # Dovecot's imaps, submission, submissions
        ProviderOverride(imap=993, smtp=[587, 465])
        override.write(session, imap=..., smtp=[...])

    The daemon reads provider files once, at its first lookup, so write()
    restarts a running daemon when the text changes (restart=False to
    leave it)."""

    name = "provider-override"
    filename = "10-icloud-test.xml"

    def __init__(self, imap=None, smtp=(), dovecot=None, host="127.0.0.1", **xml_kw):
        self.imap = imap
        self.smtp = list(smtp)
        self.dovecot = dovecot
        self.host = host
        self.xml_kw = xml_kw
        self.path = None

    def start(self, session):
        if self.dovecot is not None:
            p = self.dovecot.ports
            self.imap = self.imap or p["imaps"]
            self.smtp = self.smtp or [p["submission"], p["submissions"]]
        if self.imap is not None:
            self.write(session, restart=False)

    def write(self, session, imap=None, smtp=None, restart=True, **xml_kw):
        if imap is not None:
            self.imap = imap
        if smtp is not None:
            self.smtp = list(smtp)
        kw = dict(self.xml_kw, **xml_kw)
        kw.setdefault("host", self.host)
        text = provider_xml(self.imap, self.smtp, **kw)
        path = os.path.join(session.provider_override_dir(), self.filename)
        try:
            with open(path) as f:
                if f.read() == text:
                    return path  # the daemon already has it
        except FileNotFoundError:
            pass
        if restart:
            restart_daemon(session)
        self.path = session.write_provider_override(self.filename, text)
        return self.path


# --------------------------------------------------------------------------
# gnome-keyring


class GnomeKeyring(Component):
    """gnome-keyring-daemon --unlock --components=secrets --foreground on
    the session's bus, with the session's HOME (so a fresh login keyring,
    created and unlocked with @password).  Owns org.freedesktop.secrets
    once started.  lock() (or locked=True: right after start) locks the
    default collection: any later access needs a prompt, which nothing
    here can answer, so it stays locked.  The keyring stops with the
    session.  store(), lookup(), search() and clear() wrap secret-tool."""

    name = "gnome-keyring"

    def __init__(self, password="mailsetup-test-keyring", locked=False):
        self.password = password
        self.locked = locked
        self.proc = None

    def start(self, session):
        harness.need_program("gnome-keyring-daemon")
        os.makedirs(os.path.join(session.data_home, "keyrings"), mode=0o700, exist_ok=True)
        self.proc = session.spawn(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets", "--foreground"],
            stdin=subprocess.PIPE,
        )
        self.proc.stdin.write(self.password.encode())
        self.proc.stdin.close()
        deadline = time.monotonic() + 20
        while not session.name_has_owner(SECRETS_NAME):
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "gnome-keyring-daemon exited with status "
                    f"{self.proc.returncode}:\n{session.read_log('gnome-keyring-daemon.log')}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("gnome-keyring-daemon did not take " + SECRETS_NAME)
            time.sleep(0.02)
        # The login collection exists and is unlocked once the name is up?
        # Not necessarily: wait until the default alias resolves.
        wait_for(lambda: self.default_collection(session) != "/", 10, what="keyring default collection")
        if self.locked:
            self.lock(session)

    def stop(self, session):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=harness.STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        session.forget(self.proc)
        self.proc = None

    # -- the Secret Service ------------------------------------------------

    def _gdbus(self, session, path, method, *args):
        r = session.gdbus(
            "call", "--session", "--dest", SECRETS_NAME, "--object-path", path, "--method", method, *args
        )
        if r.returncode != 0:
            raise RuntimeError(f"{method}: {r.stderr.strip()}")
        return r.stdout.strip()

    def default_collection(self, session):
        """The object path of the default collection ("/" if none)."""
        out = self._gdbus(session, SECRETS_PATH, "org.freedesktop.Secret.Service.ReadAlias", "default")
        m = re.search(r"objectpath '([^']*)'", out) or re.search(r"'(/[^']*)'", out)
        return m.group(1) if m else "/"

    def is_locked(self, session, collection=None):
        path = collection or self.default_collection(session)
        out = self._gdbus(
            session, path, "org.freedesktop.DBus.Properties.Get", "org.freedesktop.Secret.Collection", "Locked"
        )
        return "true" in out

    def lock(self, session, collection=None):
        """Locks the default collection (Secret.Service.Lock; unlocking again
        would need a prompt)."""
        path = collection or self.default_collection(session)
        self._gdbus(session, SECRETS_PATH, "org.freedesktop.Secret.Service.Lock", f"[objectpath '{path}']")
        wait_for(lambda: self.is_locked(session, path), 10, what="collection locked")

    def store(self, session, label, secret, **attributes):
        """secret-tool store; raises on failure."""
        argv = ["secret-tool", "store", "--label=" + label]
        for k, v in attributes.items():
            argv += [k, v]
        r = session.run(argv, input=secret)
        if r.returncode != 0:
            raise RuntimeError(f"secret-tool store failed ({r.returncode}): {r.stderr}")

    def lookup(self, session, **attributes):
        """secret-tool lookup: the secret, or None when there is none."""
        argv = ["secret-tool", "lookup"]
        for k, v in attributes.items():
            argv += [k, v]
        r = session.run(argv, timeout=20)
        return r.stdout if r.returncode == 0 else None

    def clear(self, session, **attributes):
        """secret-tool clear: removes every matching item."""
        argv = ["secret-tool", "clear"]
        for k, v in attributes.items():
            argv += [k, v]
        session.run(argv, timeout=20)

    def search(self, session, **attributes):
        """secret-tool search --all: a list of {attribute: value} dicts
        (with "label" and "secret" keys too)."""
        argv = ["secret-tool", "search", "--all", "--unlock"]
        for k, v in attributes.items():
            argv += [k, v]
        r = session.run(argv, timeout=20)
        items, current = [], None
        for line in (r.stdout + "\n" + r.stderr).splitlines():
            if line.startswith("["):
                current = {}
                items.append(current)
            elif current is not None and " = " in line:
                k, _, v = line.partition(" = ")
                k = k.strip()
                current[k[len("attribute.") :] if k.startswith("attribute.") else k] = v
        return items


# --------------------------------------------------------------------------
# calls with a{sv} options


def gvariant_string(s):
    """@s as a GVariant text-format string literal (for gdbus call)."""
    out = []
    for ch in s:
        if ch in "\\'":
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def options_for(timeout_ms=None, operation_id=None, **extra):
    """The options dict: {key: (D-Bus type, value)}."""
    options = {}
    if timeout_ms is not None:
        options["timeout-ms"] = ("u", timeout_ms)
    if operation_id is not None:
        options["operation-id"] = ("s", operation_id)
    for k, v in extra.items():
        options[k.replace("_", "-")] = v if isinstance(v, tuple) else ("s", v)
    return options


def _busctl_asv(options):
    args = [str(len(options))]
    for k, (t, v) in options.items():
        args += [k, t, str(v)]
    return args


def _gvariant_asv(options):
    if not options:
        return "@a{sv} {}"
    parts = []
    for k, (t, v) in options.items():
        if t == "s":
            value = gvariant_string(v)
        elif t in ("u", "q", "t", "i", "x", "y", "n"):
            value = {"u": "uint32", "q": "uint16", "t": "uint64", "i": "int32", "x": "int64", "y": "byte", "n": "int16"}[
                t
            ] + f" {int(v)}"
        elif t == "b":
            value = "true" if v else "false"
        else:
            raise ValueError(f"type {t} not supported")
        parts.append(f"{gvariant_string(k)}: <{value}>")
    return "{" + ", ".join(parts) + "}"


def _call_timeout(options):
    t = options.get("timeout-ms", ("u", 20000))[1]
    return t / 1000 + 15


def call_with_options(session, method, args, options, *, timeout=None):
    """Calls Manager.@method(s..., a{sv}) with busctl; returns the first
    out argument as plain Python values.  Raises DBusCallError (message
    only: busctl does not print error names)."""
    timeout = timeout or _call_timeout(options)
    sig = "s" * len(args) + "a{sv}"
    argv = ["--timeout", f"{int(timeout)}", "call", BUS_NAME, OBJECT_PATH, MANAGER_IFACE, method, sig]
    argv += list(args) + _busctl_asv(options)
    r = session.busctl(*argv, timeout=timeout + 10)
    if r.returncode != 0:
        raise DBusCallError(None, re.sub(r"^Call failed: ", "", r.stderr.strip()), r.stderr)
    reply = json.loads(r.stdout)
    return harness.plain(reply["data"][0])


def call_error_with_options(session, method, args, options, *, timeout=None):
    """Makes a call that must fail, with gdbus (which prints the error
    name).  Returns (error name, message).  AssertionError if it
    succeeded."""
    timeout = timeout or _call_timeout(options)
    argv = [
        "call",
        "--session",
        "--dest",
        BUS_NAME,
        "--object-path",
        OBJECT_PATH,
        "--timeout",
        str(int(timeout)),
        "--method",
        f"{MANAGER_IFACE}.{method}",
    ]
    argv += [gvariant_string(a) for a in args] + [_gvariant_asv(options)]
    r = session.gdbus(*argv, timeout=timeout + 10)
    if r.returncode == 0:
        raise AssertionError(f"{method} succeeded:\n{r.stdout}")
    m = re.match(r"Error: GDBus\.Error:([^:\s]+): (.*)", r.stderr.strip(), re.S)
    if not m:
        raise AssertionError(f"unexpected gdbus output:\n{r.stderr}")
    return m.group(1), m.group(2)


def validate(session, address, password, timeout_ms=None, operation_id=None, **extra):
    """ValidateCredentials → the report (plain dict)."""
    return call_with_options(
        session, "ValidateCredentials", [address, password], options_for(timeout_ms, operation_id, **extra)
    )


def validate_error(session, address, password, timeout_ms=None, operation_id=None, **extra):
    """ValidateCredentials that must fail → (error name, message)."""
    return call_error_with_options(
        session, "ValidateCredentials", [address, password], options_for(timeout_ms, operation_id, **extra)
    )


def validate_argv(address, password, timeout_ms=None, operation_id=None):
    """busctl arguments (after "busctl --user") of a ValidateCredentials
    call, for tests that run it in the background."""
    options = options_for(timeout_ms, operation_id)
    return [
        "busctl",
        "--user",
        "--json=short",
        "--timeout",
        str(int(_call_timeout(options))),
        "call",
        BUS_NAME,
        OBJECT_PATH,
        MANAGER_IFACE,
        "ValidateCredentials",
        "ssa{sv}",
        address,
        password,
    ] + _busctl_asv(options)


def password_forms(user, password):
    """The password and the encodings a client may send it in: AUTH PLAIN
    "\\0user\\0password" (with and without the authorisation identity) and
    AUTH LOGIN base64(password)."""
    forms = {password}
    p = password.encode()
    for authz in ("", user):
        forms.add(base64.b64encode(authz.encode() + b"\0" + user.encode() + b"\0" + p).decode())
    forms.add(base64.b64encode(p).decode())
    return forms


# --------------------------------------------------------------------------
# watching signals


class SignalMonitor:
    """dbus-monitor on the session bus for signals matching @match (a match
    rule), started in the background; .signals() parses what it printed so
    far into (member, path, [args...]) tuples (string, object path and
    integer arguments only)."""

    def __init__(self, session, match="type='signal'"):
        self.session = session
        self.path = os.path.join(session.log_dir, f"dbus-monitor-{id(self)}.log")
        self._out = open(self.path, "wb")
        self.proc = session.spawn(["dbus-monitor", "--session", match], stdout=self._out, stderr=self._out)
        # dbus-monitor prints the bus's NameAcquired/NameLost of its own
        # connection once it is a monitor.
        wait_for(lambda: "member=NameLost" in self.text() or "member=NameAcquired" in self.text(), 10,
                 what="dbus-monitor ready")

    def text(self):
        with open(self.path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def signals(self, member=None):
        result, current = [], None
        for line in self.text().splitlines():
            if line.startswith(("signal ", "method call ", "method return ", "error ")):
                current = None
                if line.startswith("signal "):
                    m = re.search(r"path=([^;]*); interface=([^;]*); member=(\S+)", line)
                    if m and (member is None or m.group(3) == member):
                        current = (m.group(3), m.group(1), [])
                        result.append(current)
            elif current is not None:
                m = re.match(r'\s+(?:string|object path) "(.*)"$', line)
                if m:
                    current[2].append(m.group(1))
                    continue
                m = re.match(r"\s+(?:u?int\d+|byte|boolean) (\S+)$", line)
                if m:
                    current[2].append(m.group(1))
        return result

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=harness.STOP_GRACE)
        self.session.forget(self.proc)
        self._out.close()
