#!/usr/bin/env python3
"""The generated systemd user unit and activation file.

`systemd-analyze verify` insists that ExecStart= exists, and the generated
unit names the installed path, which a build does not have.  So the check
runs on a copy of the generated unit in which only ExecStart= is changed to
the daemon just built; every other line is what gets installed."""

import os
import re
import shutil
import subprocess
import tempfile

import harness
from harness import BUS_NAME


def parse_unit(text):
    """{section: [(key, value)]} of a systemd unit or D-Bus service file."""
    sections, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


class SystemdUnit(harness.unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.paths = harness.Paths()
        with open(cls.paths.systemd_unit) as f:
            cls.unit_text = f.read()
        cls.unit = parse_unit(cls.unit_text)
        cls.service = dict(cls.unit["Service"])

    def test_type_dbus_and_names(self):
        self.assertEqual(self.service["Type"], "dbus")
        self.assertEqual(self.service["BusName"], BUS_NAME)
        self.assertEqual(self.service["ExecStart"], os.path.join(self.paths.libexecdir, "mailsetupd"))
        self.assertNotIn("Install", self.unit, "a bus-activated service needs no [Install]")

    def test_activation_file_names_this_unit(self):
        build_copy = os.path.join(self.paths.dbus_services_dir, BUS_NAME + ".service")
        installed = os.path.join(self.paths.build_root, "data", BUS_NAME + ".service")
        for path, exec_dir in ((installed, self.paths.libexecdir),
                               (build_copy, os.path.dirname(self.paths.mailsetupd))):
            with self.subTest(path=path), open(path) as f:
                entries = dict(parse_unit(f.read())["D-BUS Service"])
                self.assertEqual(entries["Name"], self.service["BusName"])
                self.assertEqual(entries["SystemdService"], os.path.basename(self.paths.systemd_unit))
                self.assertEqual(entries["Exec"], os.path.join(exec_dir, "mailsetupd"))

    def test_hardened(self):
        for key, value in (
            ("NoNewPrivileges", "yes"),
            ("RestrictNamespaces", "yes"),
            ("SystemCallArchitectures", "native"),
            ("UMask", "0077"),
        ):
            self.assertEqual(self.service.get(key), value, key)
        # Repeated directives add up; the last one is the deny list.
        self.assertRegex(self.unit_text, r"(?m)^SystemCallFilter=@system-service$")
        families = set(self.service.get("RestrictAddressFamilies", "").split())
        self.assertLessEqual({"AF_UNIX", "AF_INET", "AF_INET6"}, families)
        # The namespace directives come with the user namespace that a
        # user manager needs for them, and keep accounts.conf writable.
        self.assertEqual(self.service.get("PrivateUsers"), "yes")
        self.assertEqual(self.service.get("ProtectSystem"), "strict")
        self.assertEqual(self.service.get("ConfigurationDirectory"), "mailsetup")

    # systemd.exec(5) and systemd.resource-control(5): these protect system
    # services only; a user manager ignores them (DevicePolicy= needs a BPF
    # program a user cannot load).  The rating would count them anyway.
    SYSTEM_ONLY = ("ProtectProc", "ProcSubset", "ProtectControlGroups", "DevicePolicy", "DeviceAllow",
                   "IPAddressDeny", "IPAddressAllow", "SocketBindDeny", "RestrictFileSystems")
    # systemd.exec(5): "only available for system services, or for services
    # running in per-user instances of the service manager when
    # PrivateUsers= is enabled".
    NEEDS_USER_NAMESPACE = ("ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateMounts",
                            "PrivateNetwork", "PrivateIPC", "ProtectKernelTunables",
                            "ProtectKernelModules", "ProtectKernelLogs", "ProtectClock", "ProtectHostname")

    def test_only_directives_a_user_manager_carries_out(self):
        present = [key for key in self.SYSTEM_ONLY if re.search(rf"(?m)^{key}=", self.unit_text)]
        self.assertEqual(present, [], "these do nothing in a user manager")
        # Each directive that needs PrivateUsers= says so, for whoever has
        # to drop them where user namespaces are forbidden.
        lines = self.unit_text.splitlines()
        for i, line in enumerate(lines):
            key = line.split("=", 1)[0]
            if key in self.NEEDS_USER_NAMESPACE:
                with self.subTest(key=key):
                    self.assertEqual(lines[i - 1].strip(), "# [userns]", f"{key} is not marked [userns]")

    def analyze(self, verb):
        """systemd-analyze VERB --user on the generated unit, with ExecStart
        naming the built daemon; returns (returncode, output)."""
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")
        with tempfile.TemporaryDirectory(prefix="mailsetup-analyze-") as tmp:
            runtime = os.path.join(tmp, "runtime")
            os.mkdir(runtime, 0o700)
            unit = os.path.join(tmp, "mailsetupd.service")
            text, n = re.subn(
                r"(?m)^ExecStart=.*$", "ExecStart=" + self.paths.mailsetupd, self.unit_text
            )
            self.assertEqual(n, 1)
            with open(unit, "w") as f:
                f.write(text)
            env = {
                k: v for k, v in os.environ.items()
                if not k.startswith(("XDG_", "DBUS_", "SYSTEMD_"))
            }
            env.update(XDG_RUNTIME_DIR=runtime, HOME=tmp, SYSTEMD_LOG_LEVEL="notice")
            args = ["systemd-analyze", verb, "--user", unit]
            args[3:3] = ["--man=no"] if verb == "verify" else ["--offline=yes", "--no-pager"]
            r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
            return r.returncode, r.stdout + r.stderr

    def test_security_rating(self):
        rc, output = self.analyze("security")
        self.assertEqual(rc, 0, output)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", output)
        self.assertIsNotNone(m, output)
        self.assertLessEqual(float(m.group(1)), 2.0, output)

    def test_systemd_analyze_verify(self):
        rc, output = self.analyze("verify")
        self.assertEqual(rc, 0, output)
        ours = [line for line in output.splitlines() if "mailsetupd" in line]
        self.assertEqual(ours, [], output)


if __name__ == "__main__":
    harness.main()
