#!/usr/bin/env python3
"""mailsetupctl export: the settings on stdout, --json, exit codes, and
--install, which writes each program's file where the program reads it
(mode 0600, folders made), never over an existing file without --force,
and refuses Thunderbird (it reads no per-user file of this kind).  The
programs then find the installed files without being told where: NeoMutt
through a "source" line that --install adds to the neomuttrc it reads (or
to a new one), leaving the person's own lines as they are."""

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
SOURCE_LINE = f'source "~/.config/neomutt/accounts/{ADDRESS}"'


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

    # NeoMutt reads one settings file, the first of these that exists
    # (neomutt(1), FILES), and the account's file only if that one says
    # "source".
    NEOMUTTRC_PLACES = [
        ("config", "neomutt/neomuttrc"), ("config", "neomutt/muttrc"),
        ("config", "mutt/neomuttrc"), ("config", "mutt/muttrc"),
        ("home", ".neomutt/neomuttrc"), ("home", ".neomutt/muttrc"),
        ("home", ".mutt/neomuttrc"), ("home", ".mutt/muttrc"),
        ("home", ".neomuttrc"), ("home", ".muttrc"),
    ]

    def neomuttrc_places(self):
        return [os.path.join(self.s.config_home if base == "config" else self.s.home, name)
                for base, name in self.NEOMUTTRC_PLACES]

    def neomutt_query(self, *variables):
        """What NeoMutt, started with the person's own files (-n: not the
        system's), has for @variables: its "set NAME = VALUE" lines."""
        harness.need_program("neomutt")
        m = self.s.run(["neomutt", "-n", *[a for v in variables for a in ("-Q", v)]])
        self.assertEqual(m.returncode, 0, m.stdout + m.stderr)
        return m.stdout.splitlines()

    def assertNeomuttUsesAccount(self, *own):
        """NeoMutt, started as the person starts it, has the account's
        settings (the password from the keyring), and the person's own
        @own "set" lines."""
        imaps, submission = self.dovecot.ports["imaps"], self.dovecot.ports["submission"]
        wanted = [
            f'set from = "{ADDRESS}"',
            f'set imap_user = "{ADDRESS}"',
            f'set imap_pass = "{PASSWORD}"',
            f'set folder = "imaps://{ADDRESS}@localhost:{imaps}/"',
            f'set spool_file = "imaps://{ADDRESS}@localhost:{imaps}/INBOX"',
            f'set smtp_url = "smtp://{ADDRESS.replace("@", "%40")}@localhost:{submission}/"',
            f'set smtp_pass = "{PASSWORD}"',
            *own,
        ]
        self.assertEqual(self.neomutt_query(*(line.split(" ")[1] for line in wanted)), wanted)

    def install_neomutt(self, *options, json_output=False):
        """--install neomutt → (result, the account's file), checked."""
        file = self.config("neomutt", "accounts", ADDRESS)
        json_option = ["--json"] if json_output else []
        r = ctl(self.s, *json_option, "export", "--install", *options, ADDRESS, "neomutt")
        if not json_output:
            self.assertInstalled(r, file, "neomutt")
        return r, file

    def test_install_neomutt(self):
        # Nothing set up for NeoMutt yet: the account's file, and a
        # neomuttrc that reads it, where NeoMutt looks first.
        harness.need_program("neomutt")
        r, file = self.install_neomutt()
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(file)).st_mode), 0o700)
        rc = self.config("neomutt", "neomuttrc")
        self.assertEqual(mode_of(rc), 0o600)
        self.assertEqual([p for p in self.neomuttrc_places() if os.path.lexists(p)], [rc])
        self.assertEqual(self.read(rc).count(SOURCE_LINE), 1)
        self.assertEqual([line for line in self.read(rc).splitlines() if not line.startswith("#")],
                         [SOURCE_LINE])
        self.assertIn("~/.config/neomutt/neomuttrc", r.stdout)
        self.assertIn(SOURCE_LINE, r.stdout)
        self.assertNeomuttUsesAccount()

        # Again: the file is left alone; with --force it is replaced, and
        # the neomuttrc, which reads it already, stays as it is.
        kept = self.read(rc)
        self.assertRefused(ctl(self.s, "export", "--install", ADDRESS, "neomutt"), file, self.read(file))
        self.write(file, "# mine\n")
        r, file = self.install_neomutt("--force")
        self.assertEqual(self.read(rc), kept)
        self.assertIn("~/.config/neomutt/neomuttrc", r.stdout)
        self.assertNotIn(SOURCE_LINE, r.stdout)
        self.assertNeomuttUsesAccount()

    def test_install_neomutt_own_neomuttrc(self):
        # The person's ~/.neomuttrc gets one line at its end; their lines
        # stay as they are, and they keep working.
        harness.need_program("neomutt")
        rc = self.home(".neomuttrc")
        own = 'set editor = "vim"\nset sort = "threads"'  # no newline at the end
        self.write(rc, own)
        os.chmod(rc, 0o644)
        r, file = self.install_neomutt()
        text = self.read(rc)
        self.assertTrue(text.startswith(own + "\n"), text)
        self.assertEqual(text.count(SOURCE_LINE), 1)
        self.assertTrue(text.endswith(SOURCE_LINE + "\n"), text)
        self.assertEqual([line for line in text[len(own):].splitlines() if line and not line.startswith("#")],
                         [SOURCE_LINE])
        self.assertEqual(mode_of(rc), 0o644)
        self.assertIn("~/.neomuttrc", r.stdout)
        self.assertIn(SOURCE_LINE, r.stdout)
        # No neomuttrc of mailsetup's own that NeoMutt would read instead.
        self.assertEqual([p for p in self.neomuttrc_places() if os.path.lexists(p)], [rc])
        self.assertNeomuttUsesAccount(*own.splitlines())

        # Installing again adds nothing twice, with --force or after the
        # account's file was removed.
        r, file = self.install_neomutt("--force")
        self.assertEqual(self.read(rc), text)
        os.unlink(file)
        r, file = self.install_neomutt()
        self.assertEqual(self.read(rc), text)
        self.assertIn("~/.neomuttrc", r.stdout)
        self.assertNeomuttUsesAccount(*own.splitlines())

    def test_install_neomutt_file_in_use(self):
        # With several, NeoMutt reads the first it finds: the line goes
        # there, and the others are not touched.
        harness.need_program("neomutt")
        first, later = self.config("mutt", "muttrc"), self.home(".neomuttrc")
        self.write(first, 'set editor = "nano"\n')
        self.write(later, 'set editor = "vim"\n')
        r, file = self.install_neomutt()
        self.assertEqual(self.read(first), 'set editor = "nano"\n\n'
                         f'# {ADDRESS}, installed by "mailsetupctl export --install":\n{SOURCE_LINE}\n')
        self.assertEqual(self.read(later), 'set editor = "vim"\n')
        self.assertIn("~/.config/mutt/muttrc", r.stdout)
        self.assertNeomuttUsesAccount('set editor = "nano"')

    def test_install_neomutt_read_already(self):
        # A neomuttrc that reads the file already, the way people write it
        # (as the old instructions said, relative to the neomuttrc, through
        # a file of their own, or in a hook), is left as it is.
        harness.need_program("neomutt")
        rc = self.config("neomutt", "neomuttrc")
        other = self.config("neomutt", "accounts.rc")
        cases = [
            (f"source ~/.config/neomutt/accounts/{ADDRESS}\n", True),
            (f"set editor = vim; source 'accounts/{ADDRESS}' # mine\n", True),
            ("source ~/.config/neomutt/accounts.rc\n", True),
            (f"folder-hook . 'source \"{self.s.config_home}/neomutt/accounts/{ADDRESS}\"'\n", False),
        ]
        self.write(other, f"source {SOURCE_LINE.split(' ', 1)[1]}\n")
        for text, at_start in cases:
            with self.subTest(neomuttrc=text):
                self.write(rc, text)
                r, file = self.install_neomutt("--force")
                self.assertEqual(self.read(rc), text)
                self.assertIn("~/.config/neomutt/neomuttrc", r.stdout)
                self.assertNotIn("source", r.stdout)
                if at_start:
                    self.assertNeomuttUsesAccount()

        # --json says the same.
        r, file = self.install_neomutt("--force", json_output=True)
        self.assertEqual(r.returncode, EXIT_OK, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout),
                         {"address": ADDRESS, "format": "neomutt", "path": file, "source-line": SOURCE_LINE,
                          "neomuttrc": rc, "neomuttrc-change": "unchanged"})
        os.unlink(rc)
        r, file = self.install_neomutt("--force", json_output=True)
        self.assertEqual(json.loads(r.stdout)["neomuttrc-change"], "created")
        self.assertNeomuttUsesAccount()

    def test_install_neomutt_unreadable_neomuttrc(self):
        # The settings are saved, and what is missing is said: the line to
        # add by hand.  (A folder stands for a neomuttrc that cannot be
        # read or written: the tests may run as root.)
        rc = self.home(".neomuttrc")
        os.mkdir(rc)
        try:
            r = ctl(self.s, "export", "--install", ADDRESS, "neomutt")
            file = self.config("neomutt", "accounts", ADDRESS)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertEqual(self.read(file), export(self.s, self.path, "neomutt"))
            self.assertIn(f"~/.config/neomutt/accounts/{ADDRESS}", r.stderr)
            self.assertIn(SOURCE_LINE, r.stderr)
            self.assertEqual(os.listdir(rc), [])
            self.assertFalse(os.path.lexists(self.config("neomutt", "neomuttrc")))
        finally:
            os.rmdir(rc)

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
