#!/usr/bin/env python3
"""The manual pages, the D-Bus API reference and the bash completion.

    test_docs.py [TestClass...]

- ManPages: each page renders without warnings (man --warnings, groff
  -ww) at 80 columns, and names every command and option of mailsetupctl
  and every error of the daemon;
- ApiReference: dbus-doc.py finds nothing undocumented, the generated page
  lists every member that the running daemon's introspection shows (on the
  Manager and on a real account, added against Dovecot with the keyring
  running), every error of daemon/mailsetup-error.c and every option key
  the daemon reads;
- Completion: bash with the completion sourced offers the commands and
  each command's options as "mailsetupctl --help" lists them, and with a
  daemon running the accounts' addresses and the export formats;
- Installed: meson install --destdir puts the pages, the reference, the
  completion and the .mo files where they belong.

Python 3 standard library."""

import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness  # noqa: E402
from components import (  # noqa: E402
    PASSWORD,
    DovecotServer,
    GnomeKeyring,
    ProviderOverride,
    TestCertificates,
)
from harness import SessionTestCase  # noqa: E402

PATHS = harness.Paths()
SOURCE = PATHS.source_root
BUILD = PATHS.build_root
MAN_PAGES = ("mailsetupctl.1", "mailsetupd.8", "mailsetup-providers.5")
ACCOUNT_IFACE = "org.mailsetup.MailSetup1.Account"
OUR_PREFIX = "org.mailsetup.MailSetup1."


def c_env(**extra):
    env = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="")
    env.update(extra)
    return env


def ctl_help(*args):
    r = subprocess.run(
        [PATHS.mailsetupctl] + list(args) + ["--help"], capture_output=True, text=True, env=c_env()
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def ctl_commands():
    """The commands, from "mailsetupctl --help", in order."""
    text = ctl_help()
    block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.startswith("  ")]


def ctl_options(command):
    """The long options a command takes, from its --help."""
    options = set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]*)", ctl_help(command), re.M))
    return options - {"--help", "--help-all"}


def error_names():
    with open(os.path.join(SOURCE, "daemon", "mailsetup-error.c"), encoding="utf-8") as f:
        return re.findall(r'ERROR_PREFIX "(\w+)"', f.read())


def option_keys():
    """The keys of the a{sv} options that the daemon reads."""
    with open(os.path.join(SOURCE, "daemon", "call-options.c"), encoding="utf-8") as f:
        text = f.read()
    keys = set(re.findall(r'read_string \(dict, "([a-z-]+)"', text))
    keys |= set(re.findall(r'g_variant_lookup_value \(dict, "([a-z-]+)"', text))
    return keys


# --------------------------------------------------------------------------


class ManPages(unittest.TestCase):
    def page(self, name):
        path = os.path.join(BUILD, "man", name)
        if not os.path.exists(path):
            self.fail(f"{path} was not built: is scdoc installed (tools/install-deps)?")
        return path

    def render(self, name):
        r = subprocess.run(
            ["man", "--warnings", "-l", self.page(name)],
            capture_output=True,
            text=True,
            env=c_env(MANWIDTH="80", MAN_KEEP_FORMATTING="", PAGER="cat", MANPAGER="cat"),
        )
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def test_render_without_warnings(self):
        for name in MAN_PAGES:
            with self.subTest(page=name):
                r = self.render(name)
                self.assertEqual(r.stderr, "", f"man --warnings {name}")
                g = subprocess.run(
                    ["groff", "-ww", "-z", "-man", self.page(name)], capture_output=True, text=True, env=c_env()
                )
                self.assertEqual((g.returncode, g.stderr), (0, ""), f"groff -ww {name}")
                self.assertNotIn("@", re.sub(r"\S+@\S+", "", r.stdout), "an @VARIABLE@ left")

    def test_mailsetupctl_names_commands_and_options(self):
        text = self.render("mailsetupctl.1").stdout
        for command in ctl_commands():
            self.assertRegex(text, rf"\n\s+{command}\b", f"command {command}")
            for option in ctl_options(command):
                self.assertIn(option, text, f"{command} {option}")
        for option in ("--json", "--version"):
            self.assertIn(option, text)
        for code in range(10, 10 + len(error_names())):
            self.assertRegex(text, rf"\b{code} {error_names()[code - 10]}\b")

    def test_mailsetupd_names_errors_and_environment(self):
        text = self.render("mailsetupd.8").stdout
        for name in error_names():
            self.assertIn(OUR_PREFIX + "Error." + name, text)
        for variable in ("MAILSETUP_DATADIR", "MAILSETUP_OFFLINE", "MAILSETUP_LOCALEDIR", "accounts.conf"):
            self.assertIn(variable, text)

    def test_providers_page(self):
        text = self.render("mailsetup-providers.5").stdout
        for element in ("usernameCandidate", "ms:password", "ms:hint", "ms:url", "statusPage", "mxDomain",
                        "https://mailsetup.org/ns/provider/1"):
            self.assertIn(element, text)

    def test_providers_example_is_a_provider_file(self):
        """The page's example parses as XML and defines a provider that is
        not iCloud."""
        with open(os.path.join(SOURCE, "man", "mailsetup-providers.5.scd"), encoding="utf-8") as f:
            source = f.read()
        example = re.search(r"```\n(<\?xml.*?</clientConfig>)\n```", source, re.S).group(1)
        root = ET.fromstring(example)
        self.assertEqual(root.tag, "clientConfig")
        self.assertNotIn("icloud.com", [d.text for d in root.iter("domain")])


# --------------------------------------------------------------------------


class ApiPage(html.parser.HTMLParser):
    """The ids and signature lines of the generated page."""

    def __init__(self, text):
        super().__init__()
        self.ids = set()
        self.codes = []
        self.signatures = []
        self._in = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "pre":
            self._in = "pre"
            self.signatures.append("")
        elif tag == "code":
            self._in = "code"
            self.codes.append("")

    def handle_endtag(self, tag):
        if tag in ("pre", "code"):
            self._in = None

    def handle_data(self, data):
        if self._in == "pre":
            self.signatures[-1] += data
        elif self._in == "code":
            self.codes[-1] += data


def introspected_members(xml_text):
    """{interface: {member: (kind, [arg types] or type)}} of our interfaces."""
    found = {}
    for iface in ET.fromstring(xml_text).findall("interface"):
        name = iface.get("name")
        if not name.startswith(OUR_PREFIX):
            continue
        members = {}
        for el in iface:
            if el.tag in ("method", "signal"):
                members[el.get("name")] = (el.tag, [a.get("type") for a in el.findall("arg")])
            elif el.tag == "property":
                members[el.get("name")] = (el.tag, [el.get("type")])
        found[name] = members
    return found


def interface_files():
    d = os.path.join(SOURCE, "dbus-interfaces")
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith(OUR_PREFIX) and f.endswith(".xml"))


class LiveSession(SessionTestCase):
    """A daemon with the keyring and one real account (against Dovecot)."""

    certs = TestCertificates()
    dovecot = DovecotServer()
    components = [GnomeKeyring(), certs, dovecot, ProviderOverride(dovecot=dovecot)]
    address = "jane@icloud.com"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        reply = cls.session.call("AddAccount", "ssa{sv}", cls.address, PASSWORD, "0", timeout=60)
        cls.account_path = harness.plain(reply)[0]

    def introspect(self, path):
        reply = self.s.call("Introspect", interface="org.freedesktop.DBus.Introspectable", path=path)
        return harness.plain(reply)[0]


class ApiReference(LiveSession):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(os.path.join(BUILD, "docs", "dbus-api.html"), encoding="utf-8") as f:
            cls.page = ApiPage(f.read())
        with open(os.path.join(BUILD, "docs", "dbus-api.md"), encoding="utf-8") as f:
            cls.markdown = f.read()

    def test_nothing_undocumented(self):
        out = os.path.join(self.s.tmp, "check.html")
        r = subprocess.run(
            [sys.executable, os.path.join(SOURCE, "docs", "dbus-doc.py"), "--check", "--format", "html",
             "--output", out] + interface_files(),
            capture_output=True,
            text=True,
        )
        self.assertEqual((r.returncode, r.stderr), (0, ""))

    def check_members(self, members):
        for iface, names in members.items():
            for name, (kind, types) in names.items():
                with self.subTest(member=f"{iface}.{name}"):
                    self.assertIn(f"{iface}-{name}", self.page.ids)
                    self.assertRegex(self.markdown, rf"#### {kind.capitalize()} {name} ")
                    signature = [s for s in self.page.signatures if s.startswith(name + " ")]
                    self.assertEqual(len(signature), 1, name)
                    for t in types:
                        self.assertIn(t, signature[0])

    def test_manager_members(self):
        members = introspected_members(self.introspect(harness.OBJECT_PATH))
        self.assertIn(harness.MANAGER_IFACE, members)
        self.check_members(members)

    def test_account_members(self):
        members = introspected_members(self.introspect(self.account_path))
        self.assertIn(ACCOUNT_IFACE, members)
        self.check_members(members)

    def test_every_interface_file_is_introspected(self):
        live = set(introspected_members(self.introspect(harness.OBJECT_PATH)))
        live |= set(introspected_members(self.introspect(self.account_path)))
        in_files = set()
        for path in interface_files():
            with open(path, encoding="utf-8") as f:
                in_files |= set(introspected_members(f.read()))
        self.assertEqual(live, in_files)

    def test_errors(self):
        for name in error_names():
            self.assertIn(OUR_PREFIX + "Error." + name, self.page.codes)
        documented = {c[len(OUR_PREFIX + "Error."):] for c in self.page.codes if c.startswith(OUR_PREFIX + "Error.")}
        self.assertEqual(documented, set(error_names()))

    def test_option_keys(self):
        keys = option_keys()
        self.assertTrue(keys)
        for key in keys:
            self.assertIn(f'"{key}" (', " ".join(self.page.codes), f"option {key}")


# --------------------------------------------------------------------------


COMPLETION = os.path.join(SOURCE, "completion", "mailsetupctl")


def complete(words, env=None):
    """COMPREPLY for the command line @words (the last one being typed)."""
    script = (
        f"source {COMPLETION!r} || exit 9\n"
        "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1))\n"
        "_mailsetupctl mailsetupctl\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    r = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script, "bash"] + list(words),
        capture_output=True,
        text=True,
        env=env or c_env(),
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    return [l for l in r.stdout.splitlines() if l]


class Completion(unittest.TestCase):
    def test_commands(self):
        self.assertEqual(complete(["mailsetupctl", ""]), ctl_commands())

    def test_prefix(self):
        self.assertEqual(complete(["mailsetupctl", "ex"]), ["export"])
        self.assertEqual(complete(["mailsetupctl", "--json", "li"]), ["list"])

    def test_global_options(self):
        self.assertEqual(set(complete(["mailsetupctl", "--"])), {"--json", "--version", "--help"})

    def test_command_options(self):
        for command in ctl_commands():
            with self.subTest(command=command):
                offered = set(complete(["mailsetupctl", command, "--"]))
                self.assertEqual(offered - {"--json", "--help"}, ctl_options(command) - {"--json"})

    def test_no_completion_for_values(self):
        self.assertEqual(complete(["mailsetupctl", "validate", "--timeout", ""]), [])

    def test_domains(self):
        self.assertEqual(complete(["mailsetupctl", "add", "jane@m"]), ["jane@me.com", "jane@mac.com"])

    def test_install_formats(self):
        self.assertEqual(
            complete(["mailsetupctl", "export", "--install", "jane@icloud.com", ""]),
            ["msmtp", "mbsync", "neomutt", "aerc"],
        )


class LiveCompletion(LiveSession):
    """Addresses and formats from the running daemon."""

    def env(self):
        env = dict(self.s.env)
        env["PATH"] = os.path.dirname(PATHS.mailsetupctl) + os.pathsep + env.get("PATH", "")
        return env

    def test_addresses(self):
        for command in ("show", "check", "passwd", "remove", "export", "diagnose"):
            with self.subTest(command=command):
                self.assertEqual(complete(["mailsetupctl", command, ""], self.env()), [self.address])
        self.assertEqual(complete(["mailsetupctl", "show", "j"], self.env()), [self.address])
        self.assertEqual(complete(["mailsetupctl", "show", "x"], self.env()), [])

    def test_export_formats(self):
        formats = harness.plain(
            self.s.call("Get", "ss", harness.MANAGER_IFACE, "ExportFormats",
                        interface="org.freedesktop.DBus.Properties")
        )[0]
        self.assertEqual(complete(["mailsetupctl", "export", self.address, ""], self.env()), formats)


# --------------------------------------------------------------------------


class Installed(unittest.TestCase):
    """meson install --destdir: the files for people land where meson.build
    says (absolute folders in MAILSETUP_INSTALL_*, set by tests/docs)."""

    def test_install(self):
        meson = PATHS.meson
        if not meson:
            self.skipTest("meson not found")
        folders = {k: os.environ.get("MAILSETUP_INSTALL_" + k) for k in ("MANDIR", "DOCDIR", "LOCALEDIR", "COMPLETIONSDIR")}
        if None in folders.values():
            self.skipTest("run through meson test")
        with open(os.path.join(SOURCE, "po", "LINGUAS"), encoding="utf-8") as f:
            languages = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        with tempfile.TemporaryDirectory(prefix="mailsetup-install-") as dest:
            r = subprocess.run(
                [meson, "install", "-C", BUILD, "--no-rebuild", "--quiet", "--destdir", dest],
                capture_output=True,
                text=True,
                env=c_env(),
            )
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            expected = {
                "man1/mailsetupctl.1": (folders["MANDIR"], "man1", "mailsetupctl.1"),
                "man8/mailsetupd.8": (folders["MANDIR"], "man8", "mailsetupd.8"),
                "man5/mailsetup-providers.5": (folders["MANDIR"], "man5", "mailsetup-providers.5"),
                "dbus-api.html": (folders["DOCDIR"], "dbus-api.html"),
                "completion": (folders["COMPLETIONSDIR"], "mailsetupctl"),
            }
            for lang in languages:
                expected[lang + ".mo"] = (folders["LOCALEDIR"], lang, "LC_MESSAGES", "mailsetup.mo")
            for what, parts in expected.items():
                path = dest + os.path.join(*parts)
                self.assertTrue(os.path.isfile(path), f"{what}: {path}")
            # The installed catalogues are the built ones.
            for lang in languages:
                with open(dest + os.path.join(folders["LOCALEDIR"], lang, "LC_MESSAGES", "mailsetup.mo"), "rb") as f:
                    installed = f.read()
                with open(os.path.join(BUILD, "po", lang, "LC_MESSAGES", "mailsetup.mo"), "rb") as f:
                    self.assertEqual(installed, f.read(), lang)


if __name__ == "__main__":
    harness.main()
