#!/usr/bin/env python3
"""The translations are complete and in step with the sources.

- po/POTFILES names every source file with strings marked for translation
  (and only files that exist);
- every language of po/LINGUAS passes "msgfmt --check" with no fuzzy and
  no untranslated message, also after merging in the messages the sources
  have now (so a message added without translations fails here, not in
  front of a Malay or Hong Kong reader);
- the plural forms and format strings agree (msgfmt --check).

Python 3 standard library, xgettext, msgmerge and msgfmt."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE_ROOT = os.environ.get("MAILSETUP_SOURCE_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
PO_DIR = os.path.join(SOURCE_ROOT, "po")

# As meson's i18n.gettext(preset: 'glib') calls xgettext.
XGETTEXT_ARGS = [
    "--from-code=UTF-8",
    "--add-comments",
    "--keyword=_",
    "--keyword=N_",
    "--keyword=C_:1c,2",
    "--keyword=NC_:1c,2",
    "--keyword=g_dcgettext:2",
    "--keyword=g_dngettext:2,3",
    "--keyword=g_dpgettext2:2c,3",
    "--flag=N_:1:pass-c-format",
    "--flag=C_:2:pass-c-format",
    "--flag=NC_:2:pass-c-format",
    "--flag=g_dngettext:2:pass-c-format",
    "--flag=g_strdup_printf:1:c-format",
    "--flag=g_string_printf:2:c-format",
    "--flag=g_string_append_printf:2:c-format",
    "--flag=g_error_new:3:c-format",
    "--flag=g_set_error:4:c-format",
    "--flag=g_markup_printf_escaped:1:c-format",
    "--flag=g_log:3:c-format",
    "--flag=g_print:1:c-format",
    "--flag=g_printerr:1:c-format",
    "--flag=g_printf:1:c-format",
    "--flag=g_fprintf:2:c-format",
    "--flag=g_sprintf:2:c-format",
    "--flag=g_snprintf:3:c-format",
]

MARKED = re.compile(r"\b(?:N?C?_|ngettext|g_dngettext|g_dcgettext|g_dpgettext2)\s*\(\s*\"")


def lines_of(path):
    with open(path, encoding="utf-8") as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]


def languages():
    return lines_of(os.path.join(PO_DIR, "LINGUAS"))


def statistics(po_file):
    """(translated, fuzzy, untranslated) per msgfmt --check --statistics;
    raises AssertionError with msgfmt's output when it finds errors."""
    r = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", os.devnull, po_file],
        capture_output=True,
        text=True,
        env=dict(os.environ, LC_ALL="C"),
    )
    if r.returncode != 0:
        raise AssertionError(f"msgfmt --check {po_file} failed:\n{r.stderr}")
    counts = {}
    for n, what in re.findall(r"(\d+) (translated|fuzzy|untranslated)", r.stderr):
        counts[what] = int(n)
    return counts.get("translated", 0), counts.get("fuzzy", 0), counts.get("untranslated", 0)


class Potfiles(unittest.TestCase):
    def test_every_marked_file_is_listed(self):
        listed = set(lines_of(os.path.join(PO_DIR, "POTFILES")))
        marked = set()
        for top in ("daemon", "client"):
            for dirpath, _, files in os.walk(os.path.join(SOURCE_ROOT, top)):
                for name in files:
                    if not name.endswith((".c", ".h")):
                        continue
                    path = os.path.join(dirpath, name)
                    with open(path, encoding="utf-8", errors="replace") as f:
                        if MARKED.search(f.read()):
                            marked.add(os.path.relpath(path, SOURCE_ROOT))
        self.assertEqual(sorted(marked - listed), [], "files with _() missing from po/POTFILES")

    def test_listed_files_exist(self):
        for name in lines_of(os.path.join(PO_DIR, "POTFILES")):
            self.assertTrue(os.path.isfile(os.path.join(SOURCE_ROOT, name)), f"po/POTFILES: {name} does not exist")

    def test_provider_files_are_listed(self):
        listed = set(lines_of(os.path.join(PO_DIR, "POTFILES")))
        providers = os.path.join(SOURCE_ROOT, "data", "providers")
        for name in sorted(os.listdir(providers)):
            if name.endswith(".xml"):
                with open(os.path.join(providers, name), encoding="utf-8") as f:
                    if "<ms:hint" in f.read():
                        self.assertIn(f"data/providers/{name}", listed)


class Translations(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mailsetup-po-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        # The messages of the sources as they are now.
        cls.pot = os.path.join(cls.tmp, "mailsetup.pot")
        r = subprocess.run(
            ["xgettext", "--package-name=mailsetup", "--directory=" + SOURCE_ROOT,
             "--files-from=" + os.path.join(PO_DIR, "POTFILES"), "--output=" + cls.pot]
            + XGETTEXT_ARGS,
            capture_output=True,
            text=True,
            env=dict(os.environ, GETTEXTDATADIRS=PO_DIR),
        )
        if r.returncode != 0:
            raise AssertionError("xgettext failed:\n" + r.stderr)

    def test_languages(self):
        self.assertIn("ms", languages())
        self.assertIn("zh_HK", languages())
        for lang in languages():
            self.assertTrue(os.path.isfile(os.path.join(PO_DIR, lang + ".po")), lang)

    def test_complete(self):
        for lang in languages():
            with self.subTest(lang=lang):
                translated, fuzzy, untranslated = statistics(os.path.join(PO_DIR, lang + ".po"))
                self.assertGreater(translated, 0)
                self.assertEqual((fuzzy, untranslated), (0, 0), f"{lang}.po")

    def test_in_step_with_the_sources(self):
        for lang in languages():
            with self.subTest(lang=lang):
                merged = os.path.join(self.tmp, lang + ".po")
                r = subprocess.run(
                    ["msgmerge", "--quiet", "--no-fuzzy-matching", "--output-file=" + merged,
                     os.path.join(PO_DIR, lang + ".po"), self.pot],
                    capture_output=True,
                    text=True,
                )
                self.assertEqual(r.returncode, 0, r.stderr)
                _, fuzzy, untranslated = statistics(merged)
                self.assertEqual(
                    (fuzzy, untranslated),
                    (0, 0),
                    f"{lang}.po lacks translations of messages in the sources: "
                    "run \"ninja -C BUILD mailsetup-update-po\" and translate them",
                )

    def test_headers(self):
        for lang in languages():
            with open(os.path.join(PO_DIR, lang + ".po"), encoding="utf-8") as f:
                text = f.read()
            self.assertIn(f'"Language: {lang}\\n"', text)
            self.assertIn('"Content-Type: text/plain; charset=UTF-8\\n"', text)
            self.assertIn('"Plural-Forms: ', text)


if __name__ == "__main__":
    prog = unittest.main(exit=False, verbosity=2)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
