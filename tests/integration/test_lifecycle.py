#!/usr/bin/env python3
"""mailsetupd's life: one instance per bus, clean exits, command line."""

import os
import re
import signal
import subprocess

import harness
from harness import BUS_NAME, SessionTestCase


class Lifecycle(SessionTestCase):
    # Every test gets a bus of its own: they start and stop daemons.
    @classmethod
    def setUpClass(cls):
        cls.paths = harness.Paths()

    def start_by_hand(self, s, *args):
        daemon = s.spawn([self.paths.mailsetupd] + list(args))
        s.wait_for_name(BUS_NAME, timeout=20)
        self.assertEqual(s.name_owner_pid(), daemon.pid)
        return daemon

    def test_second_instance_is_refused(self):
        s = self.new_session()
        first = s.activate()
        r = s.run([self.paths.mailsetupd], timeout=20)
        self.assertNotEqual(r.returncode, 0, "a second instance kept running")
        self.assertIn(BUS_NAME, r.stderr)
        self.assertRegex(r.stderr, re.compile("another|already", re.I))
        self.assertEqual(s.name_owner_pid(), first)
        s.call("Ping", interface="org.freedesktop.DBus.Peer")
        s.call("LookupProvider", "s", "jane@icloud.com")

    def exit_on_signal(self, sig):
        s = self.new_session()
        daemon = self.start_by_hand(s)
        s.call("LookupProvider", "s", "jane@icloud.com")
        daemon.send_signal(sig)
        self.assertEqual(daemon.wait(timeout=15), 0, s.read_log("mailsetupd.log"))
        s.forget(daemon)
        self.assertFalse(s.name_has_owner())

    def test_sigterm_exits_zero(self):
        self.exit_on_signal(signal.SIGTERM)

    def test_sigint_exits_zero(self):
        self.exit_on_signal(signal.SIGINT)

    def test_exits_when_the_bus_goes_away(self):
        s = self.new_session()
        daemon = self.start_by_hand(s)
        s.bus.terminate()
        s.bus.wait(timeout=10)
        self.assertEqual(daemon.wait(timeout=15), 0, s.read_log("mailsetupd.log"))
        s.forget(daemon)

    def test_activated_daemon_exits_zero_on_sigterm(self):
        s = self.new_session()
        pid = s.activate()
        os.kill(pid, signal.SIGTERM)
        status = s.wait_exit(pid, timeout=15)
        if status is None:
            self.skipTest("the daemon was not handed to this process; its status is unknown")
        self.assertEqual(status, 0, s.log())
        self.assertFalse(s.name_has_owner())

    def test_version(self):
        r = subprocess.run([self.paths.mailsetupd, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(self.paths.version, r.stdout)

    def test_help(self):
        r = subprocess.run([self.paths.mailsetupd, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--verbose", r.stdout)
        self.assertIn("--version", r.stdout)

    def test_bad_option(self):
        r = subprocess.run(
            [self.paths.mailsetupd, "--no-such-option"],
            capture_output=True, text=True, timeout=10,
            env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"},
        )
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.strip())

    def test_verbose_logs_debug_messages(self):
        s = self.new_session()
        daemon = self.start_by_hand(s, "--verbose")
        s.call("LookupProvider", "s", "jane@icloud.com")
        daemon.terminate()
        self.assertEqual(daemon.wait(timeout=15), 0)
        s.forget(daemon)
        self.assertTrue(s.read_log("mailsetupd.log").strip(), "--verbose logged nothing")


if __name__ == "__main__":
    harness.main()
