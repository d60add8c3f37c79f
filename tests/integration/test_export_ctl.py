#!/usr/bin/env python3
"""mailsetupctl export: the settings on stdout, --json, exit codes, and
--install, which writes each program's file where the program reads it
(mode 0600, folders made), never over an existing file without --force,
and refuses Thunderbird (it reads no per-user file of this kind).  The
programs then find the installed files without being told where."""

import json
import os
import stat

import harness
from components import PASSWORD
from handoff_support import add_account, ctl, export, handoff_case, mode_of

ADDRESS = "jane@icloud.com"
TEXT_FORMATS = ["thunderbird", "msmtp", "mbsync", "neomutt", "aerc"]
EXIT_OK, EXIT_USAGE = 0, 2
EXIT_INVALID_ADDRESS, EXIT_NO_SUCH_ACCOUNT = 10, 22


# isync 1.4 matches certificates by DNS name only (see test_export.py).
class ExportCtl(handoff_case(host="localhost")):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.path = add_account(cls.session, ADDRESS)

    def setUp(self):
        self.made = []

    def tearDown(self):
        for path in self.made:
            if os.path.lexists(path):
                os.unlink(path)

    def home(self, *parts):
        path = os.path.join(self.s.home, *parts)
        self.made.append(path)
        return path

    def config(self, *parts):
        path = os.path.join(self.s.config_home, *parts)
        self.made.append(path)
        return path

    def read(self, path):
        with open(path) as f:
            return f.read()

    def write(self, path, text):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def assertInstalled(self, r, path, format):
        self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
        self.assertEqual(self.read(path), export(self.s, self.path, format))
        self.assertEqual(mode_of(path), 0o600)
        shown = "~" + path[len(self.s.home):]
        self.assertIn(shown, r.stdout)

    def assertRefused(self, r, path, kept):
        """Exit 2, the file as it was, and what to do said."""
        self.assertEqual(r.returncode, EXIT_USAGE, r.stdout + r.stderr)
        self.assertEqual(self.read(path), kept)
        shown = "~" + path[len(self.s.home):]
        self.assertIn(f"{shown} exists already", r.stderr)
        self.assertIn(">>", r.stderr)
        self.assertIn("--force", r.stderr)
        self.assertEqual(r.stdout, "")

    # -- printing ---------------------------------------------------------------

    def test_prints_each_format(self):
        for format in TEXT_FORMATS:
            with self.subTest(format=format):
                r = ctl(self.s, "export", ADDRESS, format)
                self.assertEqual(r.returncode, EXIT_OK, r.stderr)
                self.assertEqual(r.stdout, export(self.s, self.path, format))
                self.assertEqual(r.stderr, "")
                self.assertNotIn(PASSWORD, r.stdout)

    def test_address_as_typed(self):
        r = ctl(self.s, "export", "  jane@ICLOUD.com ", "msmtp")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertEqual(r.stdout, export(self.s, self.path, "msmtp"))

    def test_json(self):
        r = ctl(self.s, "--json", "export", ADDRESS, "aerc")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        self.assertEqual(json.loads(r.stdout),
                         {"address": ADDRESS, "format": "aerc", "text": export(self.s, self.path, "aerc")})

    def test_errors(self):
        cases = [
            (("export", ADDRESS, "pine"), EXIT_USAGE, "thunderbird, msmtp"),
            (("export", "nobody@icloud.com", "msmtp"), EXIT_NO_SUCH_ACCOUNT, "nobody@icloud.com"),
            (("export", "no-at-sign", "msmtp"), EXIT_INVALID_ADDRESS, "no-at-sign"),
            (("export", ADDRESS), EXIT_USAGE, "Usage"),
            (("export", ADDRESS, "msmtp", "extra"), EXIT_USAGE, "Usage"),
            (("export", "--force", ADDRESS, "msmtp"), EXIT_USAGE, "--install"),
        ]
        for args, status, text in cases:
            with self.subTest(args=args):
                r = ctl(self.s, *args)
                self.assertEqual(r.returncode, status, r.stdout + r.stderr)
                self.assertIn(text, r.stderr)
                self.assertEqual(r.stdout, "")

        r = ctl(self.s, "--json", "export", ADDRESS, "pine")
        self.assertEqual(r.returncode, EXIT_USAGE)
        self.assertEqual(json.loads(r.stdout)["error"], "org.freedesktop.DBus.Error.InvalidArgs")

    def test_help(self):
        r = ctl(self.s, "export", "--help")
        self.assertEqual(r.returncode, EXIT_OK, r.stderr)
        for text in ("--install", "--force", "~/.msmtprc", "accounts.conf", "Thunderbird"):
            self.assertIn(text, r.stdout)
        self.assertIn("export ADDRESS FORMAT", ctl(self.s, "--help").stdout)

    # -- installing -------------------------------------------------------------

    def test_install_msmtp(self):
        harness.need_program("msmtp")
        rc = self.home(".msmtprc")
        r = ctl(self.s, "export", "--install", ADDRESS, "msmtp")
        self.assertInstalled(r, rc, "msmtp")

        # msmtp finds it (~/.msmtprc), and the password in the keyring.
        m = self.s.run(["msmtp", "--pretend", "-a", ADDRESS])
        self.assertEqual(m.returncode, 0, m.stdout + m.stderr)
        self.assertIn(f"loaded user configuration file {rc}", m.stdout)
        self.assertIn("host = localhost", m.stdout)
        self.assertIn(f"port = {self.dovecot.ports['submission']}", m.stdout)

        self.write(rc, "# mine\n")
        self.assertRefused(ctl(self.s, "export", "--install", ADDRESS, "msmtp"), rc, "# mine\n")

        r = ctl(self.s, "export", "--install", "--force", ADDRESS, "msmtp")
        self.assertInstalled(r, rc, "msmtp")

    def test_install_msmtp_xdg(self):
        # Without ~/.msmtprc, msmtp reads $XDG_CONFIG_HOME/msmtp/config:
        # that is the file to write, not a ~/.msmtprc that would hide it.
        xdg = self.config("msmtp", "config")
        self.write(xdg, "# mine\n")
        self.assertRefused(ctl(self.s, "export", "--install", ADDRESS, "msmtp"), xdg, "# mine\n")
        self.assertFalse(os.path.exists(os.path.join(self.s.home, ".msmtprc")))

        r = ctl(self.s, "export", "--install", "--force", ADDRESS, "msmtp")
        self.assertInstalled(r, xdg, "msmtp")
        self.assertFalse(os.path.exists(os.path.join(self.s.home, ".msmtprc")))

    def test_install_mbsync(self):
        harness.need_program("mbsync")
        rc = self.home(".mbsyncrc")
        r = ctl(self.s, "export", "--install", ADDRESS, "mbsync")
        self.assertInstalled(r, rc, "mbsync")

        # mbsync reads ~/.mbsyncrc and signs in (password from the keyring).
        os.makedirs(os.path.join(self.s.home, "Mail", ADDRESS), exist_ok=True)
        m = self.s.run(["mbsync", "--list", ADDRESS], timeout=60)
        self.assertEqual(m.returncode, 0, m.stdout + m.stderr)
        self.assertIn("INBOX", m.stdout)

        self.assertRefused(ctl(self.s, "export", "--install", ADDRESS, "mbsync"), rc, self.read(rc))

    def test_install_neomutt(self):
        harness.need_program("neomutt")
        file = self.config("neomutt", "accounts", ADDRESS)
        r = ctl(self.s, "export", "--install", ADDRESS, "neomutt")
        self.assertInstalled(r, file, "neomutt")
        source = f'source "~/.config/neomutt/accounts/{ADDRESS}"'
        self.assertIn(source, r.stdout.splitlines()[-1])
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(file)).st_mode), 0o700)

        # The line it says to add, in the user's neomuttrc, reads it.
        rc = self.config("neomutt", "neomuttrc")
        self.write(rc, source + "\n")
        m = self.s.run(["neomutt", "-n", "-Q", "imap_user", "-Q", "imap_pass"])
        self.assertEqual(m.returncode, 0, m.stdout + m.stderr)
        self.assertIn(f'set imap_user = "{ADDRESS}"', m.stdout)
        self.assertIn(f'set imap_pass = "{PASSWORD}"', m.stdout)

        self.assertRefused(ctl(self.s, "export", "--install", ADDRESS, "neomutt"), file, self.read(file))

    def test_install_aerc(self):
        conf = self.config("aerc", "accounts.conf")
        self.write(conf, "[other]\nsource = imaps://x@example.org\n")
        self.assertRefused(ctl(self.s, "export", "--install", ADDRESS, "aerc"), conf,
                           "[other]\nsource = imaps://x@example.org\n")
        os.unlink(conf)

        r = ctl(self.s, "--json", "export", "--install", ADDRESS, "aerc")
        self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout), {"address": ADDRESS, "format": "aerc", "path": conf})
        self.assertEqual(self.read(conf), export(self.s, self.path, "aerc"))
        self.assertEqual(mode_of(conf), 0o600)

    def test_install_thunderbird_refused(self):
        before = sorted(os.walk(self.s.home))
        r = ctl(self.s, "export", "--install", ADDRESS, "thunderbird")
        self.assertEqual(r.returncode, EXIT_USAGE, r.stdout + r.stderr)
        for text in ("isp/", "autoconfig", f"mailsetupctl export {ADDRESS} thunderbird",
                     "icloud.com.xml", f"mailsetupctl show {ADDRESS}"):
            self.assertIn(text, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(sorted(os.walk(self.s.home)), before)

    def test_install_refuses_dangling_link(self):
        # A link is left alone too, even one that points nowhere.
        rc = self.home(".mbsyncrc")
        os.symlink(os.path.join(self.s.home, "nowhere"), rc)
        r = ctl(self.s, "export", "--install", ADDRESS, "mbsync")
        self.assertEqual(r.returncode, EXIT_USAGE, r.stdout + r.stderr)
        self.assertTrue(os.path.islink(rc))
        self.assertFalse(os.path.exists(os.path.join(self.s.home, "nowhere")))


if __name__ == "__main__":
    harness.main()
