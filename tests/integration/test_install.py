#!/usr/bin/env python3
"""`meson install` puts every file under the prefix, where its peers look."""

import os
import subprocess
import tempfile

import harness
from harness import BUS_NAME


class Install(harness.unittest.TestCase):
    def test_install_layout(self):
        paths = harness.Paths()
        env = os.environ
        prefix = env["MAILSETUP_PREFIX"]
        if paths.meson is None:
            self.skipTest("meson is not in PATH")
        with tempfile.TemporaryDirectory(prefix="mailsetup-install-") as dest:
            r = subprocess.run(
                [paths.meson, "install", "-C", paths.build_root, "--no-rebuild",
                 "--destdir", dest, "--quiet"],
                capture_output=True, text=True, timeout=120,
            )
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

            def installed(path):
                self.assertTrue(os.path.isabs(path), path)
                return os.path.join(dest, path.lstrip("/"))

            daemon = os.path.join(env["MAILSETUP_LIBEXECDIR"], "mailsetupd")
            unit_dir = env["MAILSETUP_SYSTEMD_USER_UNIT_DIR"]
            service_dir = env["MAILSETUP_DBUS_SESSION_SERVICE_DIR"]
            expected = {
                daemon: os.X_OK,
                os.path.join(env["MAILSETUP_BINDIR"], "mailsetupctl"): os.X_OK,
                os.path.join(unit_dir, "mailsetupd.service"): os.R_OK,
                os.path.join(service_dir, BUS_NAME + ".service"): os.R_OK,
                os.path.join(env["MAILSETUP_PKGDATADIR"], "providers", "icloud.xml"): os.R_OK,
            }
            for path, mode in expected.items():
                with self.subTest(path=path):
                    self.assertTrue(os.access(installed(path), mode), path)
            # Nothing left the prefix unless an option asked for it.
            for root, _, files in os.walk(dest):
                for name in files:
                    path = os.path.join(root, name)[len(dest):]
                    if env.get("MAILSETUP_DIRS_FROM_OPTIONS") != "1":
                        self.assertTrue(path.startswith(prefix.rstrip("/") + "/"), path)
            with open(installed(os.path.join(service_dir, BUS_NAME + ".service"))) as f:
                self.assertIn("Exec=" + daemon + "\n", f.read())
            with open(installed(os.path.join(unit_dir, "mailsetupd.service"))) as f:
                self.assertIn("ExecStart=" + daemon + "\n", f.read())


if __name__ == "__main__":
    harness.main()
