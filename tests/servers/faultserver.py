#!/usr/bin/env python3
"""Scripted misbehaving IMAP/SMTP servers for mailsetup's tests.

Real Dovecot covers the well-behaved server; these cover what it will not
do on demand: iCloud's quirks, hanging, trickling, flooding, overlong lines,
garbage, bad and oversized certificates, TLS renegotiation, TLS 1.1 only,
STARTTLS stripping and injection, hang-up after a failed login, and login
paths Dovecot does not force (IMAP LOGINDISABLED over TLS, SMTP AUTH LOGIN
only, no usable mechanism).

Command line (fault-server.py is the same program):

    fault-server.py --scenario NAME --certs DIR [--cert good|expired|notyet|
        wronghost|selfsigned|bigchain|hugecert|hugechain]
        [--user U --password P] [--record FILE] [--tls implicit|plain]
        [--host 127.0.0.1|::1] [--line-length N]

binds HOST:0, prints "PORT <n>" on stdout and serves connections (one thread
each) until SIGTERM/SIGINT.  --record appends every line the client sent,
decoded, one per line (IMAP literals on a line of their own), so a test can
check that no credentials went out.  Scenario `refused` prints the port of a
socket that was bound and closed, and exits.

Python's ssl module cannot renegotiate, so the *-renegotiate scenarios run
their TLS (1.2 only) on libssl itself through ctypes (LibsslSession).

As a module:

    port, stop = faultserver.start("imap-icloud", certdir, user=..., ...)
    ...
    stop()
    # or: with faultserver.FaultServer("smtp-421", certdir) as fs: fs.port
"""

import argparse
import base64
import ctypes
import ctypes.util
import os
import re
import select
import signal
import socket
import ssl
import sys
import threading
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testca  # noqa: E402

DEFAULT_USER = "jane@icloud.com"
DEFAULT_PASSWORD = "abcd-efgh-ijkl-mnop"
MAX_LINE = 64 * 1024  # longer client lines are cut (and recorded) in pieces
LONGLINE = 1024 * 1024  # default length of the *-longline scenarios' line


class Closed(Exception):
    """The client went away (or the server is stopping)."""


def _family(host):
    """AF_INET6 for an IPv6 address such as "::1", else AF_INET."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host="127.0.0.1"):
    """A port nothing listens on (bound, then closed): connecting to it is
    refused -- unless someone grabs it in between, which is unlikely."""
    with socket.socket(_family(host)) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# -- TLS through libssl itself, for renegotiation ----------------------------

class TlsFailure(OSError):
    """A libssl call failed (the text is OpenSSL's reason)."""


class _LibSsl:
    """The few libssl calls a renegotiating server needs, through ctypes:
    Python's ssl module cannot start a TLS 1.2 renegotiation.  It is the
    same libssl that Python's ssl module and the daemon use."""

    _lock = threading.Lock()
    _instance = None

    WANT_READ, WANT_WRITE, ZERO_RETURN = 2, 3, 6
    CTRL_SET_MIN_PROTO_VERSION, CTRL_SET_MAX_PROTO_VERSION = 123, 124
    TLS1_2_VERSION = 0x0303
    FILETYPE_PEM = 1

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self):
        P, I, L = ctypes.c_void_p, ctypes.c_int, ctypes.c_long
        ssl_lib = ctypes.CDLL(ctypes.util.find_library("ssl") or "libssl.so.3")
        crypto = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
        for lib, name, restype, argtypes in [
                (ssl_lib, "TLS_server_method", P, []),
                (ssl_lib, "SSL_CTX_new", P, [P]),
                (ssl_lib, "SSL_CTX_ctrl", L, [P, I, L, P]),
                (ssl_lib, "SSL_CTX_use_certificate_chain_file", I, [P, ctypes.c_char_p]),
                (ssl_lib, "SSL_CTX_use_PrivateKey_file", I, [P, ctypes.c_char_p, I]),
                (ssl_lib, "SSL_new", P, [P]),
                (ssl_lib, "SSL_free", None, [P]),
                (ssl_lib, "SSL_set_fd", I, [P, I]),
                (ssl_lib, "SSL_accept", I, [P]),
                (ssl_lib, "SSL_do_handshake", I, [P]),
                (ssl_lib, "SSL_read", I, [P, P, I]),
                (ssl_lib, "SSL_peek", I, [P, P, I]),
                (ssl_lib, "SSL_write", I, [P, P, I]),
                (ssl_lib, "SSL_get_error", I, [P, I]),
                (ssl_lib, "SSL_renegotiate", I, [P]),
                (ssl_lib, "SSL_renegotiate_pending", I, [P]),
                (crypto, "ERR_get_error", ctypes.c_ulong, []),
                (crypto, "ERR_clear_error", None, []),
                (crypto, "ERR_error_string_n", None,
                 [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_size_t])]:
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes
            setattr(self, name, fn)

    def error_text(self, what):
        """@what and OpenSSL's reasons, emptying this thread's error queue."""
        reasons = []
        while True:
            code = self.ERR_get_error()
            if code == 0:
                break
            buf = ctypes.create_string_buffer(256)
            self.ERR_error_string_n(code, buf, len(buf))
            reasons.append(buf.value.decode(errors="replace"))
        return "%s: %s" % (what, "; ".join(reasons) or "no reason given")

    def server_context(self, certfile, keyfile):
        """An SSL_CTX for TLS 1.2 only: renegotiation does not exist in 1.3.
        Lives as long as the process (a test server's few)."""
        ctx = self.SSL_CTX_new(self.TLS_server_method())
        if not ctx:
            raise TlsFailure(self.error_text("SSL_CTX_new"))
        for cmd in (self.CTRL_SET_MIN_PROTO_VERSION, self.CTRL_SET_MAX_PROTO_VERSION):
            self.SSL_CTX_ctrl(ctx, cmd, self.TLS1_2_VERSION, None)
        if (self.SSL_CTX_use_certificate_chain_file(ctx, certfile.encode()) != 1
                or self.SSL_CTX_use_PrivateKey_file(ctx, keyfile.encode(),
                                                    self.FILETYPE_PEM) != 1):
            raise TlsFailure(self.error_text("loading %s" % certfile))
        return ctx


class LibsslSession:
    """The server side of a TLS 1.2 session run by libssl over the
    (non-blocking) socket @sock, with what Conn needs of a socket (recv,
    sendall, close) and renegotiate().  Every wait is a select() on the
    socket, so shutting the socket down (FaultServer.stop) ends it."""

    def __init__(self, ctx, sock):
        self.lib = _LibSsl.get()
        self.sock = sock
        self.sock.setblocking(False)
        self.ssl = self.lib.SSL_new(ctx)
        if not self.ssl:
            raise TlsFailure(self.lib.error_text("SSL_new"))
        self.lib.SSL_set_fd(self.ssl, sock.fileno())
        try:
            self._run(lambda: self.lib.SSL_accept(self.ssl), "TLS handshake")
        except OSError:
            self.lib.SSL_free(self.ssl)
            self.ssl = None
            raise

    def _run(self, call, what, want_read_ends=False):
        """Repeats @call until it succeeds (returns its result), waiting on
        the socket as libssl asks.  With @want_read_ends, a WANT_READ
        returns None instead of waiting."""
        while True:
            self.lib.ERR_clear_error()
            ret = call()
            if ret > 0:
                return ret
            err = self.lib.SSL_get_error(self.ssl, ret)
            if err == self.lib.ZERO_RETURN:
                return 0
            if err == self.lib.WANT_READ:
                if want_read_ends:
                    return None
                select.select([self.sock], [], [])
            elif err == self.lib.WANT_WRITE:
                select.select([], [self.sock], [])
            else:
                raise TlsFailure(self.lib.error_text(what))

    def recv(self, n):
        buf = ctypes.create_string_buffer(n)
        got = self._run(lambda: self.lib.SSL_read(self.ssl, buf, n), "reading")
        return buf.raw[:got]

    def sendall(self, data):
        # Without SSL_MODE_ENABLE_PARTIAL_WRITE a write is all or nothing,
        # and a retry must repeat the same arguments.
        buf = ctypes.create_string_buffer(bytes(data), len(data))
        if data:
            self._run(lambda: self.lib.SSL_write(self.ssl, buf, len(data)), "writing")

    def renegotiate(self):
        """Sends a HelloRequest and waits until the client has renegotiated
        (or sends application data instead).  A client that refuses with a
        no_renegotiation alert ends the session here: libssl answers it with
        a fatal handshake_failure alert and raises TlsFailure."""
        if self.lib.SSL_renegotiate(self.ssl) != 1:
            raise TlsFailure(self.lib.error_text("SSL_renegotiate"))
        self._run(lambda: self.lib.SSL_do_handshake(self.ssl), "sending HelloRequest")
        byte = ctypes.create_string_buffer(1)
        while True:
            # Reading runs the server's side of the new handshake.
            if self._run(lambda: self.lib.SSL_peek(self.ssl, byte, 1),
                         "renegotiating", want_read_ends=True) is not None:
                return False  # data (or a close) came instead
            if not self.lib.SSL_renegotiate_pending(self.ssl):
                return True
            select.select([self.sock], [], [])

    def close(self):
        if self.ssl:
            self.lib.SSL_free(self.ssl)
            self.ssl = None
        self.sock.close()


# -- one client connection ------------------------------------------------

class Conn:
    """A client connection: line reading with recording, STARTTLS."""

    def __init__(self, server, sock):
        self.server = server
        self.raw = sock          # the TCP socket (shut down by stop())
        self.sock = sock         # the same, or its TLS wrapper
        self.buf = b""
        self.tls_active = False
        # Renegotiate after this many more lines from the client over TLS.
        self.renegotiate_after = None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            raise Closed(str(e))

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except (OSError, ssl.SSLError) as e:
            raise Closed(str(e))
        if not data:
            if self.buf:  # an unterminated last line still counts
                self.server.record(self.buf)
                self.buf = b""
            raise Closed("client closed the connection")
        self.buf += data

    def readline(self):
        """One line without its CRLF (or LF); raises Closed at EOF."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0 or len(self.buf) >= MAX_LINE:
                end = i + 1 if i >= 0 else MAX_LINE
                line, self.buf = self.buf[:end], self.buf[end:]
                line = line.rstrip(b"\r\n")
                self.server.record(line)
                if self.tls_active and self.renegotiate_after is not None:
                    self.renegotiate_after -= 1
                    if self.renegotiate_after == 0:
                        self.renegotiate_after = None
                        self.renegotiate()
                return line
            self._fill()

    def read_exact(self, n):
        """N bytes (an IMAP literal), recorded as one line."""
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        self.server.record(data)
        return data

    def drain(self):
        """Read (and record) until the client closes or the server stops."""
        while True:
            self._fill()
            while b"\n" in self.buf or len(self.buf) >= MAX_LINE:
                self.readline()

    def start_tls(self):
        """Server side of a TLS handshake (implicit TLS or after STARTTLS)."""
        if self.buf:
            # Plaintext the client sent after STARTTLS, before the handshake:
            # it stays recorded, but never counts as part of the TLS session.
            self.server.log("client sent %d bytes after STARTTLS" % len(self.buf))
            self.server.record(self.buf)
            self.buf = b""
        if self.server.scenario in OLD_HELLO_SCENARIOS:
            self._old_server_hello()
        ctx = self.server.tls_context()
        if ctx is None:
            raise Closed("TLS needed but no --certs given")
        try:
            if self.server.libssl_context is not None:
                self.sock = LibsslSession(self.server.libssl_context, self.raw)
            else:
                self.sock = ctx.wrap_socket(self.raw, server_side=True)
        except (OSError, ssl.SSLError) as e:
            raise Closed("TLS handshake failed: %s" % e)
        self.tls_active = True

    def _tls_record(self):
        """One TLS record, unencrypted: (content type, body)."""
        while len(self.buf) < 5:
            self._fill()
        end = 5 + int.from_bytes(self.buf[3:5], "big")
        while len(self.buf) < end:
            self._fill()
        record, self.buf = self.buf[:end], self.buf[end:]
        return record[0], record[5:]

    def _old_server_hello(self):
        """Answers the ClientHello as a server from before TLS 1.3 that
        speaks at most TLS 1.1 does: it ignores supported_versions and picks
        TLS 1.1 in a ServerHello (ECDHE-ECDSA-AES128-SHA).  Never returns:
        a client that refuses says so with an alert (70 protocol_version,
        or 40 handshake_failure...) and hangs up; one that does not waits for
        a Certificate that never comes."""
        kind, body = self._tls_record()
        if kind != 22 or body[:1] != b"\x01":
            raise Closed("TLS 1.1 ServerHello: no ClientHello (record type %d)"
                         % kind)
        hello = b"\x03\x02" + os.urandom(32) + b"\x00" + b"\xc0\x09" + b"\x00"
        message = b"\x02" + len(hello).to_bytes(3, "big") + hello
        self.send(b"\x16\x03\x02" + len(message).to_bytes(2, "big") + message)
        try:
            kind, body = self._tls_record()
        except Closed:
            raise Closed("TLS 1.1 ServerHello: the client hung up")
        if kind == 21 and len(body) >= 2:
            raise Closed("TLS 1.1 ServerHello: the client sent alert %d"
                         % body[1])
        raise Closed("TLS 1.1 ServerHello: the client went on (record type %d)"
                     % kind)

    def renegotiate(self):
        """Asks the client for a TLS renegotiation and waits for it (only
        in the scenarios whose TLS runs on libssl)."""
        if not isinstance(self.sock, LibsslSession):
            raise Closed("renegotiation needs TLS through libssl")
        self.server.log("requesting renegotiation")
        try:
            done = self.sock.renegotiate()
        except OSError as e:
            raise Closed("renegotiation failed: %s" % e)
        self.server.log("renegotiated" if done else
                        "the client sent data instead of renegotiating")
        if done:
            with self.server._lock:
                self.server.renegotiations += 1


# -- helpers ----------------------------------------------------------------

def _b64decode(data):
    try:
        return base64.b64decode(data, validate=True)
    except ValueError:
        return None


def _plain_credentials(response):
    """(user, password) from a SASL PLAIN response (base64), or None."""
    raw = _b64decode(response)
    if raw is None or raw.count(b"\0") != 2:
        return None
    _, user, password = raw.split(b"\0")
    return user, password


def _imap_tokens(text):
    """Split an IMAP command line into atoms and (unquoted) quoted strings."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i:i + 1] == b" ":
            i += 1
        elif text[i:i + 1] == b'"':
            i += 1
            s = bytearray()
            while i < n and text[i:i + 1] != b'"':
                if text[i:i + 1] == b"\\" and i + 1 < n:
                    i += 1
                s += text[i:i + 1]
                i += 1
            out.append(bytes(s))
            i += 1
        else:
            j = text.find(b" ", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
    return out


_LITERAL = re.compile(rb"\{(\d+)(\+?)\}$")


def _legacy_tls_context(certfile, keyfile):
    """A server context for TLS 1.0 and 1.1 only.  OpenSSL 3 allows them
    only at security level 0 (their signatures use SHA-1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


# -- IMAP ------------------------------------------------------------------

class ImapProfile:
    """How a server words things; iCloud's differ from the textbook's."""

    def __init__(self, caps, greeting_text, ok_text, cont,
                 auth_fail, login_fail, plain_authenticate_works,
                 hangup_after_login_fail, hangup_after_auth_fail,
                 trailing_space=False, greeting_caps=True,
                 login_disabled=False, auth_skips_response=False):
        self.caps = caps
        self.greeting_text = greeting_text
        self.ok_text = ok_text
        self.cont = cont
        self.auth_fail = auth_fail
        self.login_fail = login_fail
        self.plain_authenticate_works = plain_authenticate_works
        self.hangup_after_login_fail = hangup_after_login_fail
        self.hangup_after_auth_fail = hangup_after_auth_fail
        self.trailing_space = trailing_space
        self.greeting_caps = greeting_caps
        # LOGINDISABLED over TLS too, and LOGIN refused: the client must
        # use AUTHENTICATE.
        self.login_disabled = login_disabled
        # AUTHENTICATE answered with OK at once, without asking for the
        # response (so without seeing a password).
        self.auth_skips_response = auth_skips_response

    def capability(self, tls_active, implicit):
        caps = list(self.caps)
        if not tls_active and not implicit:
            caps += ["STARTTLS", "LOGINDISABLED"]
        elif self.login_disabled:
            caps.append("LOGINDISABLED")
        return " ".join(caps) + (" " if self.trailing_space else "")


ICLOUD = ImapProfile(
    # As seen from imap.mail.me.com: no AUTH=LOGIN (yet LOGIN works), a
    # trailing space before "]", "OK !!", bare "+" continuations.
    caps=["st11p00mm-iscream009", "1S", "XAPPLEPUSHSERVICE", "IMAP4",
          "IMAP4rev1", "SASL-IR", "AUTH=ATOKEN", "AUTH=PLAIN"],
    greeting_text="iCloud IMAP4 service", ok_text="!!", cont=b"+\r\n",
    auth_fail="NO [AUTHENTICATIONFAILED] Authentication failed",
    login_fail="NO [AUTHENTICATIONFAILED] Authentication Failed",
    plain_authenticate_works=False, hangup_after_login_fail=True,
    hangup_after_auth_fail=False, trailing_space=True)

TEXTBOOK = ImapProfile(
    caps=["IMAP4rev1", "SASL-IR", "ID", "AUTH=PLAIN", "AUTH=LOGIN"],
    greeting_text="fault-server ready", ok_text="completed",
    cont=b"+ Ready\r\n",
    auth_fail="NO [AUTHENTICATIONFAILED] Authentication failed.",
    login_fail="NO [AUTHENTICATIONFAILED] Authentication failed.",
    plain_authenticate_works=True, hangup_after_login_fail=True,
    hangup_after_auth_fail=True)


def _imap_command(c, profile):
    """Read a command (with its literals); return a list of tokens."""
    tokens = []
    line = c.readline()
    while True:
        m = _LITERAL.search(line)
        tokens += _imap_tokens(line[:m.start()] if m else line)
        if not m:
            return tokens
        if not m.group(2):  # {n} waits for a continuation, {n+} does not
            c.send(profile.cont)
        tokens.append(c.read_exact(int(m.group(1))))
        line = c.readline()


def _imap_sasl(c, profile, tag, args, server):
    """AUTHENTICATE; True on success, False on failure, None if refused."""
    mech = args[0].upper() if args else b""
    initial = args[1] if len(args) > 1 else None

    def response(prompt):
        nonlocal initial
        if initial is not None:  # SASL-IR
            line, initial = initial, None
            return b"" if line == b"=" else line
        c.send(prompt)
        return c.readline()

    if profile.auth_skips_response:
        c.send("%s OK %s\r\n" % (tag, profile.ok_text))
        return True
    if initial is not None and "SASL-IR" not in profile.caps:
        # RFC 4959: an initial response only where SASL-IR is advertised.
        c.send("%s BAD SASL-IR not supported\r\n" % tag)
        return None
    if mech == b"PLAIN" and "AUTH=PLAIN" in profile.caps:
        creds = _plain_credentials(response(profile.cont))
        ok = (profile.plain_authenticate_works and creds is not None
              and server.check(*creds))
    elif mech == b"LOGIN" and "AUTH=LOGIN" in profile.caps:
        user = _b64decode(response(b"+ VXNlcm5hbWU6\r\n"))
        password = _b64decode(response(b"+ UGFzc3dvcmQ6\r\n"))
        ok = user is not None and password is not None and \
            server.check(user, password)
    else:
        c.send("%s NO Unsupported authentication mechanism\r\n" % tag)
        return None
    if ok:
        c.send("%s OK %s\r\n" % (tag, profile.ok_text))
    else:
        c.send("%s %s\r\n" % (tag, profile.auth_fail))
    return ok


def imap_session(c, profile, greeting=True):
    """A small IMAP4rev1 login-state server."""
    server = c.server
    implicit = c.tls_active
    if greeting and profile.greeting_caps:
        c.send("* OK [CAPABILITY %s] %s\r\n"
               % (profile.capability(c.tls_active, implicit),
                  profile.greeting_text))
    elif greeting:
        c.send("* OK %s\r\n" % profile.greeting_text)
    while True:
        tokens = _imap_command(c, profile)
        if len(tokens) < 2:
            c.send("* BAD Missing command\r\n")
            continue
        tag = tokens[0].decode(errors="replace")
        cmd, args = tokens[1].upper(), tokens[2:]
        if cmd == b"CAPABILITY":
            c.send("* CAPABILITY %s\r\n%s OK %s\r\n"
                   % (profile.capability(c.tls_active, implicit), tag,
                      profile.ok_text))
        elif cmd == b"NOOP":
            c.send("%s OK %s\r\n" % (tag, profile.ok_text))
        elif cmd == b"ID":
            c.send("* ID NIL\r\n%s OK %s\r\n" % (tag, profile.ok_text))
        elif cmd == b"LOGOUT":
            c.send("* BYE Logging out\r\n%s OK %s\r\n" % (tag, profile.ok_text))
            return
        elif cmd == b"STARTTLS" and not c.tls_active:
            c.send("%s OK Begin TLS negotiation now\r\n" % tag)
            c.start_tls()
        elif cmd == b"LOGIN":
            if len(args) != 2:
                c.send("%s BAD Invalid arguments\r\n" % tag)
            elif profile.login_disabled and c.tls_active:
                c.send("%s NO [PRIVACYREQUIRED] LOGIN is disabled\r\n" % tag)
            elif not c.tls_active:
                c.send("%s NO [PRIVACYREQUIRED] Use STARTTLS first\r\n" % tag)
            elif server.check(*args):
                c.send("%s OK %s\r\n" % (tag, profile.ok_text))
            else:
                c.send("%s %s\r\n" % (tag, profile.login_fail))
                if profile.hangup_after_login_fail:
                    return
        elif cmd == b"AUTHENTICATE":
            if not c.tls_active:
                c.send("%s NO [PRIVACYREQUIRED] Use STARTTLS first\r\n" % tag)
            elif _imap_sasl(c, profile, tag, args, server) is False and \
                    profile.hangup_after_auth_fail:
                return
        else:
            c.send("%s BAD Command unrecognized\r\n" % tag)


def imap_icloud(c):
    imap_session(c, ICLOUD)


def imap_icloud_auth_hangup(c):
    # Also hangs up after the failed AUTHENTICATE PLAIN.
    imap_session(c, ImapProfile(**dict(vars(ICLOUD),
                                       hangup_after_auth_fail=True)))


def imap_hangup_first(c):
    # Textbook wording; the only quirk is the hang-up after a failed login,
    # so a client must reconnect to try the next user name.
    imap_session(c, TEXTBOOK)


# After TLS: LOGINDISABLED, so AUTHENTICATE PLAIN is the only way in.
AUTHENTICATE_ONLY = ImapProfile(**dict(
    vars(TEXTBOOK), caps=["IMAP4rev1", "SASL-IR", "AUTH=PLAIN"],
    login_disabled=True))


def imap_authplain_ir(c):
    # SASL-IR: the response comes on the AUTHENTICATE line.
    imap_session(c, AUTHENTICATE_ONLY)


def imap_authplain(c):
    # No SASL-IR: an initial response is BAD; a bare "+" asks for it.
    imap_session(c, ImapProfile(**dict(vars(AUTHENTICATE_ONLY),
                                       caps=["IMAP4rev1", "AUTH=PLAIN"],
                                       cont=b"+\r\n")))


def imap_authplain_space(c):
    # The same, with "+ " (a space and no text) as the continuation.
    imap_session(c, ImapProfile(**dict(vars(AUTHENTICATE_ONLY),
                                       caps=["IMAP4rev1", "AUTH=PLAIN"],
                                       cont=b"+ \r\n")))


def imap_auth_skip(c):
    # No SASL-IR, and "AUTHENTICATE PLAIN" gets OK without a "+": the
    # password is never asked for, so never checked.
    imap_session(c, ImapProfile(**dict(vars(AUTHENTICATE_ONLY),
                                       caps=["IMAP4rev1", "AUTH=PLAIN"],
                                       auth_skips_response=True)))


def imap_noauth(c):
    # LOGINDISABLED and no AUTH=PLAIN: no way in that a password opens.
    imap_session(c, ImapProfile(**dict(
        vars(AUTHENTICATE_ONLY),
        caps=["IMAP4rev1", "SASL-IR", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER"])))


def imap_bye(c):
    c.send("* BYE Service temporarily unavailable\r\n")


def silent(c):
    c.drain()


def imap_trickle(c):
    for byte in b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] trickle ready\r\n":
        c.send(bytes([byte]))
        if c.server.stopping.wait(1.0):
            return
    imap_session(c, TEXTBOOK, greeting=False)


def imap_longline(c):
    c.send(b"* OK " + b"x" * c.server.line_length + b"\r\n")
    c.drain()


def imap_flood(c):
    c.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] flood ready\r\n")
    c.readline()
    chunk = b"* OK x\r\n" * 8192
    while not c.server.stopping.is_set():
        c.send(chunk)


def imap_garbage(c):
    while not c.server.stopping.wait(0.05):
        c.send(os.urandom(4096))


def tls_renegotiate(c):
    # A HelloRequest right after the handshake, before a word of IMAP; once
    # renegotiated, textbook IMAP.
    c.renegotiate()
    imap_session(c, TEXTBOOK)


def imap_renegotiate(c):
    # A greeting without capabilities, so that the client's first command
    # is CAPABILITY, not a login; the HelloRequest comes before its answer.
    c.renegotiate_after = 1
    imap_session(c, ImapProfile(**dict(vars(TEXTBOOK), greeting_caps=False)))


# -- SMTP --------------------------------------------------------------------

SIZE = 20971520


def smtp_session(c, starttls=True, auth_ok=True, plaintext_auth=False,
                 inject=None, starttls_reply=None, long_ehlo=0,
                 auth_mechs="PLAIN LOGIN", auth_skip=False):
    """A small ESMTP submission server.

    starttls: offer STARTTLS before TLS (ignored once TLS is up)
    auth_ok: AUTH can succeed at all (else 535 always)
    plaintext_auth: offer and accept AUTH without TLS
    inject: bytes sent in the same write as the STARTTLS 220 reply
    starttls_reply: reply to STARTTLS instead of starting TLS
    long_ehlo: this many extra 250- lines in the first EHLO reply
    auth_mechs: the mechanisms offered (and the only ones accepted) where
        AUTH is allowed; "" offers no AUTH at all
    auth_skip: AUTH answered with 235 at once, without asking for anything
    """
    server = c.server
    c.send("220 localhost ESMTP fault-server\r\n")
    ehlos = 0
    while True:
        line = c.readline()
        verb, _, rest = line.partition(b" ")
        verb = verb.upper()
        auth_allowed = c.tls_active or plaintext_auth
        if verb == b"EHLO":
            ehlos += 1
            lines = ["localhost", "PIPELINING", "SIZE %d" % SIZE]
            if long_ehlo and ehlos == 1:
                c.send("".join("250-X-FILLER-%06d\r\n" % i
                               for i in range(long_ehlo)))
            if starttls and not c.tls_active:
                lines.append("STARTTLS")
            if auth_allowed and auth_mechs:
                lines.append("AUTH %s" % auth_mechs)
            lines += ["ENHANCEDSTATUSCODES", "8BITMIME"]
            c.send("".join("250-%s\r\n" % l for l in lines[:-1])
                   + "250 %s\r\n" % lines[-1])
        elif verb == b"HELO":
            c.send("250 localhost\r\n")
        elif verb == b"STARTTLS" and starttls and not c.tls_active:
            if starttls_reply:
                c.send(starttls_reply)
                continue
            c.send(b"220 2.0.0 Go ahead\r\n" + (inject or b""))
            c.start_tls()
        elif verb == b"AUTH":
            if not auth_allowed:
                c.send("530 5.7.0 Must issue a STARTTLS command first\r\n")
                continue
            if auth_skip:
                c.send("235 2.7.0 Authentication successful\r\n")
                continue
            ok = _smtp_auth(c, rest, auth_mechs.split())
            if ok is None:
                continue
            if ok and auth_ok:
                c.send("235 2.7.0 Authentication successful\r\n")
            else:
                c.send("535 5.7.8 Authentication credentials invalid\r\n")
        elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            c.send("250 2.0.0 OK\r\n")
        elif verb == b"DATA":
            c.send("354 End data with <CR><LF>.<CR><LF>\r\n")
            while c.readline() != b".":
                pass
            c.send("250 2.0.0 Discarded\r\n")
        elif verb == b"QUIT":
            c.send("221 2.0.0 Bye\r\n")
            return
        else:
            c.send("502 5.5.2 Command not recognized\r\n")


def _smtp_auth(c, rest, offered=("PLAIN", "LOGIN")):
    """AUTH PLAIN/LOGIN exchange; True/False, or None if already answered.
    A mechanism that is not @offered is refused with 504."""
    args = rest.split()
    mech = args[0].upper() if args else b""
    initial = args[1] if len(args) > 1 else None
    if mech.decode(errors="replace") not in offered:
        mech = b""

    def response(prompt):
        c.send(prompt)
        line = c.readline()
        if line == b"*":
            c.send("501 5.7.0 Authentication aborted\r\n")
            raise _Aborted()
        return line

    try:
        if mech == b"PLAIN":
            if initial is None:
                initial = response(b"334 \r\n")
            creds = _plain_credentials(b"" if initial == b"=" else initial)
            return creds is not None and c.server.check(*creds)
        if mech == b"LOGIN":
            user = _b64decode(initial if initial is not None
                              else response(b"334 VXNlcm5hbWU6\r\n"))
            password = _b64decode(response(b"334 UGFzc3dvcmQ6\r\n"))
            return (user is not None and password is not None
                    and c.server.check(user, password))
    except _Aborted:
        return None
    c.send("504 5.5.4 Unrecognized authentication type\r\n")
    return None


class _Aborted(Exception):
    pass


def smtp_ok(c):
    smtp_session(c)


def smtp_no_starttls(c):
    # STARTTLS stripped: AUTH is offered in the clear; the record shows
    # whether the client fell for it.
    smtp_session(c, starttls=False, plaintext_auth=True)


def smtp_starttls_inject(c):
    # CVE-2011-0411 class: plaintext arriving with the STARTTLS reply must
    # not be taken as a reply inside TLS.
    smtp_session(c, inject=b"250 injected\r\n")


def smtp_authlogin(c):
    # Only AUTH LOGIN over TLS: PLAIN is not offered, and refused (504).
    smtp_session(c, auth_mechs="LOGIN")


def smtp_auth_unsupported(c):
    # AUTH over TLS, but neither PLAIN nor LOGIN (both refused with 504).
    smtp_session(c, auth_mechs="CRAM-MD5 XOAUTH2")


def smtp_noauth(c):
    # No AUTH at all, even over TLS (a relay, not a submission server).
    smtp_session(c, auth_mechs="")


def smtp_auth_skip(c):
    # Only AUTH LOGIN, and it gets 235 at once, before any 334: the
    # password is never asked for, so never checked.
    smtp_session(c, auth_mechs="LOGIN", auth_skip=True)


def smtp_421(c):
    c.send("421 Service not available, closing transmission channel\r\n")


def smtp_authfail(c):
    smtp_session(c, auth_ok=False)


def smtp_longreply(c):
    smtp_session(c, long_ehlo=100000)


def smtp_454(c):
    smtp_session(c, starttls_reply="454 TLS not available due to temporary reason\r\n")


def smtp_longline(c):
    c.send(b"220 " + b"x" * c.server.line_length + b"\r\n")
    c.drain()


def smtp_flood(c):
    # A greeting whose continuation lines never end.
    chunk = b"220-x\r\n" * 8192
    while not c.server.stopping.is_set():
        c.send(chunk)


def smtp_renegotiate(c):
    # The HelloRequest comes before the answer to the first command over
    # TLS (EHLO), so before any AUTH.
    c.renegotiate_after = 1
    smtp_session(c)


# name: (handler, default TLS mode: "implicit" or "plain")
SCENARIOS = {
    "imap-icloud": (imap_icloud, "implicit"),
    "imap-icloud-auth-hangup": (imap_icloud_auth_hangup, "implicit"),
    "imap-hangup-first": (imap_hangup_first, "implicit"),
    "imap-authplain-ir": (imap_authplain_ir, "implicit"),
    "imap-authplain": (imap_authplain, "implicit"),
    "imap-authplain-space": (imap_authplain_space, "implicit"),
    "imap-noauth": (imap_noauth, "implicit"),
    "imap-auth-skip": (imap_auth_skip, "implicit"),
    "imap-bye": (imap_bye, "implicit"),
    "imap-silent": (silent, "plain"),
    "smtp-silent": (silent, "plain"),
    "tls-silent": (silent, "implicit"),
    "imap-trickle": (imap_trickle, "implicit"),
    "imap-longline": (imap_longline, "implicit"),
    "imap-flood": (imap_flood, "implicit"),
    "imap-garbage": (imap_garbage, "implicit"),
    "tls-renegotiate": (tls_renegotiate, "implicit"),
    "imap-renegotiate": (imap_renegotiate, "implicit"),
    "smtp-starttls-ok": (smtp_ok, "plain"),
    "smtps-ok": (smtp_ok, "implicit"),
    "smtp-no-starttls": (smtp_no_starttls, "plain"),
    "smtp-starttls-inject": (smtp_starttls_inject, "plain"),
    "smtp-421": (smtp_421, "plain"),
    "smtp-authfail": (smtp_authfail, "plain"),
    "smtp-authlogin": (smtp_authlogin, "plain"),
    "smtp-auth-unsupported": (smtp_auth_unsupported, "plain"),
    "smtp-noauth": (smtp_noauth, "plain"),
    "smtp-auth-skip": (smtp_auth_skip, "plain"),
    "imap-tls11": (imap_hangup_first, "implicit"),
    "smtp-tls11": (smtp_ok, "plain"),
    "imap-tls11-hello": (imap_hangup_first, "implicit"),
    "smtp-tls11-hello": (smtp_ok, "plain"),
    "smtp-longreply": (smtp_longreply, "plain"),
    "smtp-454": (smtp_454, "plain"),
    "smtp-longline": (smtp_longline, "plain"),
    "smtp-flood": (smtp_flood, "plain"),
    "smtp-renegotiate": (smtp_renegotiate, "plain"),
}

# Scenarios whose TLS runs on libssl through ctypes (TLS 1.2 only), for
# what Python's ssl module cannot do: renegotiation.
LIBSSL_SCENARIOS = frozenset(
    ["tls-renegotiate", "imap-renegotiate", "smtp-renegotiate"])

# Scenarios whose TLS is 1.0/1.1 only (Python's ssl at security level 0).
LEGACY_TLS_SCENARIOS = frozenset(["imap-tls11", "smtp-tls11"])

# Scenarios that answer the ClientHello with a TLS 1.1 ServerHello of
# their own making, as a server from before TLS 1.3 does.
OLD_HELLO_SCENARIOS = frozenset(["imap-tls11-hello", "smtp-tls11-hello"])


# -- the server ----------------------------------------------------------------

class FaultServer:
    """Serve SCENARIO on HOST:0 in background threads."""

    def __init__(self, scenario, certdir=None, cert="good",
                 user=DEFAULT_USER, password=DEFAULT_PASSWORD, record=None,
                 tls=None, host="127.0.0.1", verbose=False,
                 line_length=LONGLINE):
        if scenario not in SCENARIOS:
            raise ValueError("unknown scenario %r" % scenario)
        self.scenario = scenario
        self.handler, default_tls = SCENARIOS[scenario]
        self.tls = tls or default_tls
        self.user = user.encode() if isinstance(user, str) else user
        self.password = (password.encode() if isinstance(password, str)
                         else password)
        self.host = host
        self.verbose = verbose
        self.line_length = line_length
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._conns = set()
        self._record = open(record, "a", encoding="utf-8") if record else None
        self.renegotiations = 0  # completed by a client
        self.endings = []        # why connections ended (Closed's text)
        self._ctx = None
        self.libssl_context = None
        if certdir is not None:
            certfile, keyfile = testca.cert_and_key(
                testca.ensure(certdir)["dir"], cert)
            if scenario in LEGACY_TLS_SCENARIOS:
                self._ctx = _legacy_tls_context(certfile, keyfile)
            else:
                self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                self._ctx.minimum_version = ssl.TLSVersion.TLSv1_2
                self._ctx.load_cert_chain(certfile, keyfile)
            if scenario in LIBSSL_SCENARIOS:
                self.libssl_context = _LibSsl.get().server_context(certfile, keyfile)
        elif self.tls == "implicit":
            raise ValueError("scenario %s needs certificates (--certs)"
                             % scenario)
        self.listener = None
        self.port = None

    # -- for Conn --
    def tls_context(self):
        return self._ctx

    def check(self, user, password):
        return user == self.user and password == self.password

    def record(self, data):
        with self._lock:
            if self._record is None:
                return
            self._record.write(data.decode("utf-8", "backslashreplace") + "\n")
            self._record.flush()

    def log(self, msg):
        if self.verbose:
            sys.stderr.write("fault-server[%s]: %s\n" % (self.scenario, msg))
            sys.stderr.flush()

    # -- public --
    def start(self):
        self.listener = socket.socket(_family(self.host))
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((self.host, 0))
        self.listener.listen(64)
        self.listener.settimeout(0.1)  # lets the accept loop notice stop()
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept_loop, daemon=True,
                         name="fault-accept").start()
        return self.port

    def stop(self):
        self.stopping.set()
        with self._lock:
            wakers = list(self._conns)
        for waker in wakers:  # wakes up threads blocked in recv/send
            try:
                waker.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.listener is not None:
            self.listener.close()
        if self._record is not None:
            with self._lock:
                self._record.close()
                self._record = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                sock, peer = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(None)
            threading.Thread(target=self._serve, args=(sock, peer),
                             daemon=True, name="fault-conn").start()

    def _serve(self, sock, peer):
        # A duplicate descriptor of the same socket: TLS wrapping takes
        # `sock` over, but shutting down the waker still ends the session.
        waker = sock.dup()
        with self._lock:
            self._conns.add(waker)
        if self.stopping.is_set():
            waker.shutdown(socket.SHUT_RDWR)
        c = Conn(self, sock)
        self.log("connection from %s port %d" % peer[:2])
        try:
            if self.tls == "implicit":
                c.start_tls()
            self.handler(c)
        except Closed as e:
            self.log(str(e))
            with self._lock:
                self.endings.append(str(e))
        except Exception as e:  # a test server must not die of one client
            self.log("error: %r" % e)
        finally:
            with self._lock:
                self._conns.discard(waker)
            for s in (c.sock, sock, waker):
                try:
                    s.close()
                except OSError:
                    pass


def start(scenario, certdir=None, **kwargs):
    """Start SCENARIO in the background: returns (port, stop_fn)."""
    fs = FaultServer(scenario, certdir, **kwargs)
    return fs.start(), fs.stop


# -- command line --------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Scripted misbehaving IMAP/SMTP servers for tests.")
    ap.add_argument("--scenario", required=True,
                    choices=sorted(SCENARIOS) + ["refused"])
    ap.add_argument("--certs", help="test CA directory (see testca.py)")
    ap.add_argument("--cert", default="good", choices=testca.LEAVES)
    ap.add_argument("--user", default=DEFAULT_USER)
    ap.add_argument("--password", default=DEFAULT_PASSWORD)
    ap.add_argument("--record", help="append the client's lines to FILE")
    ap.add_argument("--tls", choices=["implicit", "plain"],
                    help="override the scenario's default")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--line-length", type=int, default=LONGLINE,
                    help="bytes in the *-longline scenarios' line")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="log connections and errors on stderr")
    args = ap.parse_args(argv)

    if args.scenario == "refused":
        print("PORT %d" % free_port(args.host), flush=True)
        return 0

    try:
        fs = FaultServer(args.scenario, args.certs, cert=args.cert,
                         user=args.user, password=args.password,
                         record=args.record, tls=args.tls, host=args.host,
                         verbose=args.verbose, line_length=args.line_length)
    except ValueError as e:
        ap.error(str(e))
    # Waits for SIGTERM / SIGINT with sigwait(), not a handler: a handler
    # that sets a threading.Event can deadlock, for it runs in the main
    # thread, possibly while that holds the Event's lock in Event.wait().
    # Blocked before the server's threads exist, so they inherit the mask.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    print("PORT %d" % fs.start(), flush=True)
    signal.sigwait(stop_signals)
    fs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
