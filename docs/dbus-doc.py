#!/usr/bin/env python3
"""dbus-doc.py: the D-Bus API reference, from the comments in the interface XML.

    dbus-doc.py --format html|md --output FILE [--check] XML...

The interface files in dbus-interfaces/ are the single source of the API:
the daemon serves its Introspect replies from them, and their comments are
its documentation.  A comment describes the element that follows it:

    <!--
      MemberName: an optional first sentence
      @arg: what the argument is (indented lines continue it)
        - "key" (type): a key of the argument's dictionary
          (indented lines continue it)

      Paragraphs of text.

      Errors: ErrorName, ErrorName.
    -->

The comment before <node> describes the file's interface ("InterfaceName:
summary"); in it, "Errors:" followed by "- Name: text" items defines the
errors (org.mailsetup.MailSetup1.Error.Name).  A line with
"SPDX-License-Identifier" is left out.

--check makes anything undocumented (a member without a comment, an
argument without @arg, a comment that names no element) an error instead of
a warning.  Python 3 standard library only.
"""

import argparse
import html
import os
import re
import sys
import textwrap
import xml.etree.ElementTree as ET

ERROR_PREFIX = "org.mailsetup.MailSetup1.Error."


class Problems:
    def __init__(self, strict):
        self.strict = strict
        self.count = 0

    def report(self, where, what):
        self.count += 1
        kind = "error" if self.strict else "warning"
        print(f"dbus-doc.py: {kind}: {where}: {what}", file=sys.stderr)


# ---------------------------------------------------------------------------
# comments


class Doc:
    """A parsed comment."""

    def __init__(self):
        self.name = None
        self.summary = None  # the text on the "Name:" line and its continuation
        self.paragraphs = []
        self.args = {}  # name: {"text": str, "keys": [(key, type, text)]}
        self.errors_text = None  # "Errors:" of a member, as written
        self.error_defs = []  # [(name, text)] of the interface comment
        self.errors_intro = None


def _join(lines):
    return " ".join(l.strip() for l in lines if l.strip())


def _indent(line):
    return len(line) - len(line.lstrip(" "))


ARG_RE = re.compile(r"^@([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$")
KEY_RE = re.compile(r'^- "([^"]+)" \(([^)]+)\):\s*(.*)$')
ITEM_RE = re.compile(r"^- ([A-Za-z][A-Za-z0-9]*):\s*(.*)$")
HEAD_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*):\s*(.*)$")


def parse_comment(text):
    lines = text.expandtabs().split("\n")
    lines = [l for l in lines if "SPDX-License-Identifier" not in l]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return None
    first = lines[0].strip()
    m = HEAD_RE.match(first)
    if not m:
        return None
    doc = Doc()
    doc.name = m.group(1)
    rest = textwrap.dedent("\n".join(lines[1:])).split("\n")

    # The first sentence: the rest of the head line and what continues it.
    summary = [m.group(2)]
    i = 0
    while i < len(rest) and rest[i].strip() and not ARG_RE.match(rest[i].strip()):
        summary.append(rest[i])
        i += 1
    if _join(summary):
        text = _join(summary)
        doc.summary = text[0].upper() + text[1:]

    # The rest, block by block.
    block = []
    for line in rest[i:] + [""]:
        if line.strip():
            block.append(line)
        elif block:
            _parse_block(doc, block)
            block = []
    return doc


def _parse_block(doc, block):
    base = min(_indent(l) for l in block)
    block = [l[base:] for l in block]
    head = block[0]

    if ARG_RE.match(head):
        arg = None
        key = None
        for line in block:
            m = ARG_RE.match(line)
            if m and _indent(line) == 0:
                arg = {"text": [m.group(2)], "keys": []}
                doc.args[m.group(1)] = arg
                key = None
                continue
            k = KEY_RE.match(line.strip())
            if k:
                key = [k.group(1), k.group(2), [k.group(3)], _indent(line)]
                arg["keys"].append(key)
            elif key is not None and _indent(line) > key[3]:
                key[2].append(line)
            else:
                key = None
                arg["text"].append(line)
        for arg in doc.args.values():
            if isinstance(arg["text"], list):
                arg["text"] = _join(arg["text"])
                arg["keys"] = [(k[0], k[1], _join(k[2])) for k in arg["keys"]]
        return

    if head.startswith("Errors:"):
        intro = [head[len("Errors:"):]]
        item = None
        for line in block[1:]:
            m = ITEM_RE.match(line)
            if m:
                item = [m.group(1), [m.group(2)]]
                doc.error_defs.append(item)
            elif item is not None:
                item[1].append(line)
            else:
                intro.append(line)
        doc.error_defs = [(n, _join(t)) for n, t in doc.error_defs]
        if doc.error_defs:
            text = _join(intro)
            doc.errors_intro = text[:1].upper() + text[1:]
        else:
            doc.errors_text = _join(intro)
        return

    doc.paragraphs.append(_join(block))


# ---------------------------------------------------------------------------
# the XML


class Member:
    def __init__(self, kind, element, doc):
        self.kind = kind  # "method", "signal", "property"
        self.name = element.get("name")
        self.element = element
        self.doc = doc
        self.args = []  # (name, type, direction)
        for a in element.findall("arg"):
            direction = a.get("direction") or ("out" if kind == "signal" else "in")
            self.args.append((a.get("name"), a.get("type"), direction))
        self.type = element.get("type")
        self.access = element.get("access")
        self.annotations = {
            a.get("name"): a.get("value") for a in element.findall("annotation")
        }


class Interface:
    def __init__(self, name, doc, source):
        self.name = name
        self.doc = doc
        self.source = source
        self.members = []


def read_interfaces(path, problems):
    builder = ET.TreeBuilder(insert_comments=True)
    parser = ET.XMLParser(target=builder)
    with open(path, "rb") as f:
        parser.feed(f.read())
    root = parser.close()
    source = os.path.basename(path)

    # ElementTree drops comments outside the root element: read the one
    # before <node> from the text.
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head = text[: text.index("<node")]
    comments = re.findall(r"<!--(.*?)-->", head, re.S)
    file_doc = parse_comment(comments[-1]) if comments else None

    interfaces = []
    for iface in root.findall("interface"):
        name = iface.get("name")
        doc = file_doc if file_doc is not None and file_doc.name == name else None
        if doc is None:
            problems.report(source, f"no comment describes interface {name}")
            doc = Doc()
        interface = Interface(name, doc, source)
        pending = None
        for child in iface:
            if child.tag is ET.Comment:
                pending = parse_comment(child.text or "")
                continue
            if child.tag not in ("method", "signal", "property"):
                pending = None
                continue
            name = child.get("name")
            doc = pending
            pending = None
            if doc is None or doc.name != name:
                if doc is not None:
                    problems.report(source, f"the comment of {doc.name} stands before {name}")
                problems.report(source, f"{child.tag} {name} has no comment")
                doc = Doc()
            member = Member(child.tag, child, doc)
            for arg_name, _, _ in member.args:
                if arg_name not in doc.args:
                    problems.report(source, f"{child.tag} {name}: argument {arg_name} has no @{arg_name}")
            for documented in doc.args:
                if documented not in [a[0] for a in member.args]:
                    problems.report(source, f"{child.tag} {name}: @{documented} is not an argument")
            if not doc.summary and not doc.paragraphs and not doc.args:
                problems.report(source, f"{child.tag} {name} has an empty comment")
            interface.members.append(member)
        interfaces.append(interface)
    return interfaces


# ---------------------------------------------------------------------------
# output: a small document model, written as Markdown or HTML


def signature(member):
    if member.kind == "property":
        return f"{member.name}  {member.type}  ({member.access})"
    args = ", ".join(
        (f"{d.upper()} " if member.kind == "method" else "") + f"{t} {n}" for n, t, d in member.args
    )
    return f"{member.name} ({args})"


def anchor(*parts):
    return "-".join(parts)


def build(interfaces):
    """[(kind, ...)] blocks: ("h", level, text, id), ("p", text),
    ("pre", text), ("ul", [(head, text, [(head, text)])])."""
    out = []
    out.append(("h", 1, "mailsetup D-Bus API reference", "top"))
    out.append(
        (
            "p",
            "mailsetupd serves the name org.mailsetup.MailSetup1 on the session "
            "bus. This page is generated from the interface descriptions in "
            "dbus-interfaces/, which are also what the daemon's Introspect "
            "replies are made from, so the two cannot disagree.",
        )
    )
    contents = []
    for iface in interfaces:
        subs = [(m.name, f"#{anchor(iface.name, m.name)}", []) for m in iface.members]
        contents.append((iface.name, f"#{anchor(iface.name)}", subs))
    error_defs = [d for i in interfaces for d in i.doc.error_defs]
    if error_defs:
        contents.append(("Errors", "#errors", []))
    out.append(("toc", contents))

    for iface in interfaces:
        out.append(("h", 2, f"Interface {iface.name}", anchor(iface.name)))
        if iface.doc.summary:
            out.append(("p", iface.doc.summary))
        for p in iface.doc.paragraphs:
            out.append(("p", p))
        out.append(("p", f"Source: dbus-interfaces/{iface.source}"))
        for kind, title in (("method", "Methods"), ("signal", "Signals"), ("property", "Properties")):
            members = [m for m in iface.members if m.kind == kind]
            if not members:
                continue
            out.append(("h", 3, title, anchor(iface.name, title.lower())))
            for m in members:
                out.append(("h", 4, f"{kind.capitalize()} {m.name}", anchor(iface.name, m.name)))
                out.append(("pre", signature(m)))
                if m.kind == "property":
                    flags = []
                    changed = m.annotations.get("org.freedesktop.DBus.Property.EmitsChangedSignal")
                    if changed == "const":
                        flags.append("constant")
                    elif changed in (None, "true"):
                        flags.append("announced with PropertiesChanged")
                    elif changed == "invalidates":
                        flags.append("invalidated with PropertiesChanged")
                    out.append(("p", f"Type {m.type}, {m.access}; " + ", ".join(flags) + "."))
                if m.doc.summary:
                    out.append(("p", m.doc.summary))
                if m.args:
                    items = []
                    for n, t, d in m.args:
                        arg = m.doc.args.get(n, {"text": "", "keys": []})
                        head = f"{n} ({t}, {d})" if m.kind == "method" else f"{n} ({t})"
                        keys = [(f'"{k}" ({kt})', kx) for k, kt, kx in arg["keys"]]
                        items.append((head, arg["text"], keys))
                    out.append(("ul", items))
                for p in m.doc.paragraphs:
                    out.append(("p", p))
                if m.doc.errors_text:
                    out.append(("p", "Errors: " + m.doc.errors_text))

    if error_defs:
        out.append(("h", 2, "Errors", "errors"))
        for iface in interfaces:
            if iface.doc.errors_intro:
                out.append(("p", iface.doc.errors_intro))
        items = [(ERROR_PREFIX + n, t, []) for n, t in error_defs]
        out.append(("ul", items))
    return out


def _fill(text, **kw):
    return textwrap.fill(text, 78, break_on_hyphens=False, break_long_words=False, **kw)


def _md_code(text):
    return f"`{text}`"


def write_markdown(blocks):
    lines = []
    for b in blocks:
        kind = b[0]
        if kind == "h":
            _, level, text, ident = b
            lines += ["#" * level + " " + text + f' <a id="{ident}"></a>', ""]
        elif kind == "p":
            lines += [_fill(b[1]), ""]
        elif kind == "pre":
            lines += ["```", b[1], "```", ""]
        elif kind == "toc":
            for head, link, subs in b[1]:
                lines.append(f"- [{head}]({link})")
                for sh, sl, _ in subs:
                    lines.append(f"  - [{sh}]({sl})")
            lines.append("")
        elif kind == "ul":
            for head, text, subs in b[1]:
                lines.append(_fill(f"- {_md_code(head)}: {text}", subsequent_indent="  "))
                for sh, st in subs:
                    lines.append(
                        _fill(f"  - {_md_code(sh)}: {st}", subsequent_indent="    ")
                    )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


CSS = """
body { font-family: sans-serif; max-width: 50em; margin: 2em auto; padding: 0 1em;
       line-height: 1.45; color: #222; }
pre, code { font-family: monospace; }
pre { background: #f4f4f4; padding: .5em .8em; overflow-x: auto; }
h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
h4 { margin-bottom: .3em; }
li { margin: .2em 0; }
"""


def write_html(blocks):
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        "<title>mailsetup D-Bus API reference</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
    ]
    for b in blocks:
        kind = b[0]
        if kind == "h":
            _, level, text, ident = b
            out.append(f'<h{level} id="{e(ident)}">{e(text)}</h{level}>')
        elif kind == "p":
            out.append(f"<p>{e(b[1])}</p>")
        elif kind == "pre":
            out.append(f'<pre class="signature">{e(b[1])}</pre>')
        elif kind == "toc":
            out.append('<ul class="contents">')
            for head, link, subs in b[1]:
                out.append(f'<li><a href="{e(link)}">{e(head)}</a>')
                if subs:
                    out.append("<ul>")
                    for sh, sl, _ in subs:
                        out.append(f'<li><a href="{e(sl)}">{e(sh)}</a></li>')
                    out.append("</ul>")
                out.append("</li>")
            out.append("</ul>")
        elif kind == "ul":
            out.append("<ul>")
            for head, text, subs in b[1]:
                out.append(f"<li><code>{e(head)}</code>: {e(text)}")
                if subs:
                    out.append("<ul>")
                    for sh, st in subs:
                        out.append(f"<li><code>{e(sh)}</code>: {e(st)}</li>")
                    out.append("</ul>")
                out.append("</li>")
            out.append("</ul>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--format", choices=("html", "md"), required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--check", action="store_true", help="undocumented parts are errors")
    ap.add_argument("xml", nargs="+")
    args = ap.parse_args()

    problems = Problems(args.check)
    interfaces = []
    for path in args.xml:
        interfaces += read_interfaces(path, problems)
    # The Manager, the entry point, first.
    interfaces.sort(key=lambda i: (not i.name.endswith(".Manager"), i.name))

    blocks = build(interfaces)
    text = write_html(blocks) if args.format == "html" else write_markdown(blocks)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    return 1 if args.check and problems.count else 0


if __name__ == "__main__":
    sys.exit(main())
