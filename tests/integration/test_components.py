#!/usr/bin/env python3
"""The test components themselves work: the keyring on the private bus,
Dovecot, the fault servers, the provider override, the test CA."""

import socket
import ssl

import harness
from components import (
    DovecotServer,
    FaultServers,
    GnomeKeyring,
    ProviderOverride,
    TestCertificates,
)
from harness import SessionTestCase


def greeting(port, certs, tls, host="127.0.0.1"):
    """The first line a server sends, over verified TLS when @tls."""
    with socket.create_connection((host, port), timeout=10) as raw:
        if not tls:
            with raw.makefile("rb") as f:
                return f.readline().decode()
        ctx = ssl.create_default_context(cafile=certs.ca)
        with ctx.wrap_socket(raw, server_hostname="localhost") as sock, sock.makefile("rb") as f:
            return f.readline().decode()


class Keyring(SessionTestCase):
    components = [GnomeKeyring()]

    @property
    def keyring(self):
        return self.components[0]

    def test_a_store_and_lookup(self):
        self.assertTrue(self.s.name_has_owner("org.freedesktop.secrets"))
        self.keyring.store(self.s, "test secret", "s3cret-value", service="mailsetup-test", user="jane")
        self.assertEqual(self.keyring.lookup(self.s, service="mailsetup-test", user="jane"), "s3cret-value")
        self.assertIsNone(self.keyring.lookup(self.s, service="mailsetup-test", user="nobody"))
        items = self.keyring.search(self.s, service="mailsetup-test")
        self.assertEqual(len(items), 1, items)
        self.assertEqual(items[0].get("user"), "jane")
        # The keyring lives in the throw-away HOME.
        self.assertTrue(self.keyring.default_collection(self.s).startswith("/org/freedesktop/secrets/collection/"))

    def test_b_lock(self):
        self.assertFalse(self.keyring.is_locked(self.s))
        self.keyring.lock(self.s)
        self.assertTrue(self.keyring.is_locked(self.s))
        # Nothing can answer the unlock prompt: the secret is out of reach.
        self.assertIsNone(self.keyring.lookup(self.s, service="mailsetup-test", user="jane"))

    def test_c_locked_from_the_start_and_clear(self):
        keyring = GnomeKeyring(locked=True)
        s = self.new_session(components=[keyring])
        self.assertTrue(keyring.is_locked(s))
        self.assertIsNone(keyring.lookup(s, service="mailsetup-test"))

        keyring = GnomeKeyring()
        s = self.new_session(components=[keyring])
        keyring.store(s, "one", "1", service="mailsetup-test", n="1")
        keyring.store(s, "two", "2", service="mailsetup-test", n="2")
        self.assertEqual(len(keyring.search(s, service="mailsetup-test")), 2)
        keyring.clear(s, service="mailsetup-test")
        self.assertEqual(keyring.search(s, service="mailsetup-test"), [])


class Servers(SessionTestCase):
    certs = TestCertificates()
    dovecot = DovecotServer()
    faults = FaultServers()
    override = ProviderOverride(dovecot=dovecot)
    components = [certs, dovecot, faults, override]

    def test_dovecot_answers(self):
        ports = self.dovecot.ports
        self.assertTrue(greeting(ports["imaps"], self.certs, True).startswith("* OK"))
        self.assertTrue(greeting(ports["submissions"], self.certs, True).startswith("220 "))
        self.assertTrue(greeting(ports["submission"], self.certs, False).startswith("220 "))
        self.assertTrue(greeting(ports["imap_starttls"], self.certs, False).startswith("* OK"))

    def test_fault_server_records(self):
        fs = self.faults.start_server("smtp-421")
        self.assertTrue(greeting(fs.port, self.certs, False).startswith("421 "))
        fs.wait_connections(1)
        fs.wait_idle()
        fs = self.faults.start_server("imap-icloud", cert="expired")
        with self.assertRaises(ssl.SSLError):
            greeting(fs.port, self.certs, True)
        self.assertEqual(fs.recorded(), "")

    def test_refused_port(self):
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", self.faults.refused_port()), timeout=5)

    def test_override_and_ca_reach_the_daemon(self):
        ports = self.dovecot.ports
        settings = harness.plain(self.s.call("LookupProvider", "s", "jane@icloud.com"))[0]
        self.assertEqual(settings["imap-host"], "127.0.0.1")
        self.assertEqual(settings["imap-port"], ports["imaps"])
        self.assertEqual(settings["smtp-port"], ports["submission"])
        self.assertEqual(settings["smtp-alternatives"][0]["port"], ports["submissions"])
        pid = self.s.name_owner_pid()
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
        self.assertEqual(env[b"SSL_CERT_FILE"].decode(), self.certs.ca)

        # write() points the domains elsewhere and restarts the daemon.
        self.override.write(self.s, imap=4242, smtp=[4243, 4244])
        settings = harness.plain(self.s.call("LookupProvider", "s", "jane@me.com"))[0]
        self.assertEqual(settings["imap-port"], 4242)
        self.assertEqual(settings["smtp-port"], 4243)
        self.assertNotEqual(self.s.name_owner_pid(), pid)
        self.override.write(self.s, imap=ports["imaps"], smtp=[ports["submission"], ports["submissions"]])


if __name__ == "__main__":
    harness.main()
