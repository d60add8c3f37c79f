#!/usr/bin/env python3
"""The bus starts mailsetupd through the build tree's activation file."""

import os
import re

import harness
from harness import BUS_NAME, SessionTestCase


class Activation(SessionTestCase):
    def test_first_call_activates_the_daemon(self):
        s = self.new_session()
        self.assertIn(BUS_NAME, s.bus_call("ListActivatableNames")[0])
        self.assertFalse(s.name_has_owner(), "mailsetupd ran before anyone called it")

        reply = s.call("LookupProvider", "s", "jane@icloud.com")
        self.assertEqual(reply["type"], "a{sv}")

        self.assertTrue(s.name_has_owner())
        pid = s.name_owner_pid()
        self.assertIn(pid, s.services(), "the bus did not start the owner")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode()
        self.assertEqual(os.path.realpath(argv0), os.path.realpath(self.paths.mailsetupd))
        self.assertRegex(
            s.log(), r"Successfully activated service '" + re.escape(BUS_NAME) + "'"
        )

    def test_activation_file_points_at_the_build(self):
        path = os.path.join(self.paths.dbus_services_dir, BUS_NAME + ".service")
        with open(path) as f:
            text = f.read()
        self.assertIn("[D-BUS Service]", text)
        self.assertRegex(text, r"(?m)^Name=" + re.escape(BUS_NAME) + "$")
        self.assertRegex(text, r"(?m)^Exec=" + re.escape(self.paths.mailsetupd) + "$")
        self.assertRegex(text, r"(?m)^SystemdService=mailsetupd\.service$")
        services = [n for n in os.listdir(self.paths.dbus_services_dir) if n.endswith(".service")]
        self.assertEqual(services, [BUS_NAME + ".service"])

    def test_activated_daemon_sees_the_session(self):
        s = self.new_session()
        pid = s.activate()
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(
                kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv
            )
        self.assertEqual(env[b"HOME"].decode(), s.home)
        self.assertEqual(env[b"XDG_CONFIG_HOME"].decode(), s.config_home)
        self.assertTrue(env[b"DBUS_SESSION_BUS_ADDRESS"].decode().startswith(s.bus_address))
        self.assertEqual(env[b"MAILSETUP_DATADIR"].decode(), self.paths.datadir)


if __name__ == "__main__":
    harness.main()
