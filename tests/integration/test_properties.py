#!/usr/bin/env python3
"""org.freedesktop.DBus.Properties on the Manager."""

import json

import harness
from harness import BUS_NAME, MANAGER_IFACE, OBJECT_PATH, SessionTestCase, plain

PROPERTIES = "org.freedesktop.DBus.Properties"


class Properties(SessionTestCase):
    def get(self, name):
        r = self.s.busctl("get-property", BUS_NAME, OBJECT_PATH, MANAGER_IFACE, name)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_version(self):
        got = self.get("Version")
        self.assertEqual(got["type"], "s")
        self.assertEqual(got["data"], self.paths.version)

    def test_version_through_get(self):
        reply = self.s.call("Get", "ss", MANAGER_IFACE, "Version", interface=PROPERTIES)
        self.assertEqual(reply["type"], "v")
        self.assertEqual(plain(reply), [self.paths.version])

    def test_export_formats(self):
        got = self.get("ExportFormats")
        self.assertEqual(got["type"], "as")
        self.assertIsInstance(got["data"], list)

    def test_get_all(self):
        reply = self.s.call("GetAll", "s", MANAGER_IFACE, interface=PROPERTIES)
        self.assertEqual(reply["type"], "a{sv}")
        (props,) = reply["data"]
        self.assertEqual(harness.types(props), {"Version": "s", "ExportFormats": "as"})
        self.assertEqual(props["Version"]["data"], self.paths.version)

    def test_get_all_of_another_interface_is_empty_or_refused(self):
        r = self.s.busctl(
            "call", BUS_NAME, OBJECT_PATH, PROPERTIES, "GetAll", "s", "org.freedesktop.DBus.Peer"
        )
        if r.returncode == 0:
            self.assertEqual(json.loads(r.stdout)["data"], [{}])


if __name__ == "__main__":
    harness.main()
