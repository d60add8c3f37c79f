#!/usr/bin/env python3
"""What the daemon says about itself matches dbus-interfaces/*.xml."""

import glob
import os
import xml.etree.ElementTree as ET

import harness
from harness import BUS_NAME, MANAGER_IFACE, OBJECT_PATH, SessionTestCase

STANDARD = {
    "org.freedesktop.DBus.Introspectable": {
        "methods": {"Introspect": [("out", "s")]},
    },
    "org.freedesktop.DBus.Peer": {
        "methods": {"Ping": [], "GetMachineId": [("out", "s")]},
    },
    "org.freedesktop.DBus.Properties": {
        "methods": {
            "Get": [("in", "s"), ("in", "s"), ("out", "v")],
            "GetAll": [("in", "s"), ("out", "a{sv}")],
            "Set": [("in", "s"), ("in", "s"), ("in", "v")],
        },
        "signals": {"PropertiesChanged": ["s", "a{sv}", "as"]},
    },
    "org.freedesktop.DBus.ObjectManager": {
        "methods": {"GetManagedObjects": [("out", "a{oa{sa{sv}}}")]},
        "signals": {
            "InterfacesAdded": ["o", "a{sa{sv}}"],
            "InterfacesRemoved": ["o", "as"],
        },
    },
}


def describe(iface):
    """An interface element as comparable data."""

    def annotations(el):
        return {a.get("name"): a.get("value") for a in el.findall("annotation")}

    return {
        "methods": {
            m.get("name"): (
                [(a.get("name"), a.get("type"), a.get("direction", "in")) for a in m.findall("arg")],
                annotations(m),
            )
            for m in iface.findall("method")
        },
        "signals": {
            s.get("name"): (
                [(a.get("name"), a.get("type")) for a in s.findall("arg")],
                annotations(s),
            )
            for s in iface.findall("signal")
        },
        "properties": {
            p.get("name"): (p.get("type"), p.get("access"), annotations(p))
            for p in iface.findall("property")
        },
        "annotations": annotations(iface),
    }


class Introspection(SessionTestCase):
    def introspect_xml(self, path=OBJECT_PATH):
        r = self.s.busctl("--xml-interface", "introspect", BUS_NAME, path, json_output=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        return ET.fromstring(r.stdout)

    def interfaces(self, path=OBJECT_PATH):
        return {i.get("name"): i for i in self.introspect_xml(path).findall("interface")}

    def test_busctl_introspect_lists_the_interfaces(self):
        r = self.s.busctl("introspect", BUS_NAME, OBJECT_PATH, json_output=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = {
            line.split()[0] for line in r.stdout.splitlines() if " interface " in line
        }
        for name in [MANAGER_IFACE] + list(STANDARD):
            self.assertIn(name, listed, r.stdout)
        # busctl also read the properties' values through GetAll.
        self.assertRegex(r.stdout, r'\.Version\s+property\s+s\s+"[^"]+"')

    def test_manager_matches_the_xml(self):
        served = self.interfaces()
        files = glob.glob(os.path.join(self.paths.interfaces_dir, "*.xml"))
        self.assertTrue(files)
        checked = set()
        for path in files:
            for iface in ET.parse(path).getroot().findall("interface"):
                name = iface.get("name")
                if name not in served:
                    # Account and later interfaces live on other objects.
                    continue
                with self.subTest(interface=name):
                    self.assertEqual(describe(served[name]), describe(iface))
                checked.add(name)
        self.assertIn(MANAGER_IFACE, checked)

    def test_standard_interfaces_have_their_signatures(self):
        served = self.interfaces()
        for name, want in STANDARD.items():
            with self.subTest(interface=name):
                got = describe(served[name])
                for method, args in want.get("methods", {}).items():
                    self.assertIn(method, got["methods"])
                    self.assertEqual(
                        [(d, t) for _, t, d in got["methods"][method][0]], args, method
                    )
                for signal, args in want.get("signals", {}).items():
                    self.assertIn(signal, got["signals"])
                    self.assertEqual([t for _, t in got["signals"][signal][0]], args, signal)

    def test_only_the_object_and_its_parents(self):
        r = self.s.busctl("--list", "tree", BUS_NAME, json_output=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        paths = r.stdout.split()
        self.assertIn(OBJECT_PATH, paths)
        self.assertLessEqual(
            set(paths), {"/", "/org", "/org/mailsetup", OBJECT_PATH}, r.stdout
        )

    def test_parents_list_their_child_nodes(self):
        for parent, child in (("/", "org"), ("/org", "mailsetup"), ("/org/mailsetup", "MailSetup1")):
            with self.subTest(path=parent):
                nodes = [n.get("name") for n in self.introspect_xml(parent).findall("node")]
                self.assertIn(child, nodes)

    def test_get_managed_objects(self):
        reply = self.s.call(
            "GetManagedObjects", interface="org.freedesktop.DBus.ObjectManager"
        )
        self.assertEqual(reply["type"], "a{oa{sa{sv}}}")
        (objects,) = reply["data"]
        self.assertIsInstance(objects, dict)
        for path in objects:
            self.assertTrue(path.startswith(OBJECT_PATH + "/"), path)


if __name__ == "__main__":
    harness.main()
