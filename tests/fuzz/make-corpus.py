#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the generated part of the seed corpora in tests/fuzz/corpus/.

Run it again after changing what it writes; files it does not write (the
crash regressions that tools/fuzz keeps, named crash-*) are left alone.
Server lines are the ones of DESIGN.md §1, tests/servers/faultserver.py
and Dovecot 2.3; the provider seeds are copies of the shipped and test
files plus variants; the D-Bus seeds are marshalled here.
"""

import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")

written = []


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)
    written.append((target, name))


def lines(*items):
    return "".join(item + "\r\n" for item in items)


# -- IMAP ----------------------------------------------------------------

ICLOUD_CAPS = ("st11p00mm-iscream009 1S XAPPLEPUSHSERVICE IMAP4 IMAP4rev1 "
               "SASL-IR AUTH=ATOKEN AUTH=PLAIN ")
DOVECOT_CAPS = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
                "AUTH=PLAIN")

put("imap-response", "icloud-login-ok", lines(
    "* OK [CAPABILITY %s] iCloud IMAP4 service" % ICLOUD_CAPS,
    "* CAPABILITY %s" % ICLOUD_CAPS,
    "ms1 OK !!",
    "ms2 OK !!",
    "* BYE Logging out",
    "ms3 OK !!"))
put("imap-response", "icloud-login-failed", lines(
    "* OK [CAPABILITY %s] iCloud IMAP4 service" % ICLOUD_CAPS,
    "ms1 NO [AUTHENTICATIONFAILED] Authentication Failed"))
put("imap-response", "icloud-authenticate-plain", lines(
    "* OK [CAPABILITY %s] iCloud IMAP4 service" % ICLOUD_CAPS,
    "+",
    "ms1 NO [AUTHENTICATIONFAILED] Authentication failed",
    "1000 OK !!"))
put("imap-response", "icloud-starttls", lines(
    "* OK [CAPABILITY %s STARTTLS LOGINDISABLED] iCloud IMAP4 service"
    % ICLOUD_CAPS.strip(),
    "ms1 OK Begin TLS negotiation now",
    "* CAPABILITY %s" % ICLOUD_CAPS,
    "ms2 OK !!"))
put("imap-response", "dovecot-starttls", lines(
    "* OK [CAPABILITY %s STARTTLS LOGINDISABLED] Dovecot (Debian) ready."
    % DOVECOT_CAPS,
    "ms1 OK Begin TLS negotiation now.",
    "* CAPABILITY %s" % DOVECOT_CAPS,
    "ms2 OK Pre-login capabilities listed, post-login capabilities have more.",
    "ms3 OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT "
    "SORT=DISPLAY THREAD=REFERENCES THREAD=REFS MULTIAPPEND UNSELECT "
    "CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC "
    "ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE "
    "SNIPPET=FUZZY PREVIEW=FUZZY STATUS=SIZE SAVEDATE LITERAL+ NOTIFY "
    "SPECIAL-USE] Logged in",
    "* BYE Logging out",
    "ms4 OK Logout completed (0.001 + 0.000 secs)."))
put("imap-response", "dovecot-login-failed", lines(
    "* OK [CAPABILITY %s] Dovecot (Debian) ready." % DOVECOT_CAPS,
    "ms1 NO [AUTHENTICATIONFAILED] Authentication failed."))
put("imap-response", "textbook-literal", lines(
    "* OK [CAPABILITY IMAP4rev1 SASL-IR ID AUTH=PLAIN AUTH=LOGIN] fault-server ready",
    "+ Ready",
    "+ Ready",
    "ms1 OK completed",
    "* ID NIL",
    "ms2 OK completed"))
put("imap-response", "bye-greeting", lines(
    "* BYE Service temporarily unavailable"))
put("imap-response", "preauth", lines(
    "* PREAUTH [CAPABILITY IMAP4rev1 IDLE] Logged in as someone"))
put("imap-response", "unavailable", lines(
    "* OK IMAP4rev1 ready",
    "* CAPABILITY IMAP4rev1 AUTH=PLAIN",
    "ms1 OK done",
    "ms2 NO [UNAVAILABLE] Temporary authentication failure"))
put("imap-response", "privacy-required", lines(
    "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready",
    "ms1 NO [PRIVACYREQUIRED] Use STARTTLS first",
    "* BAD Missing command",
    "ms2 BAD Command unrecognized"))
put("imap-response", "hostile-structure", lines(
    "* OK [CAPABILITY",
    "* OK [CAPABILITY]",
    "* OK [CAPABILITY ]",
    "* OK []",
    "* OK [ ] x",
    "* OK [CAPABILITY a [b] c] x",
    "* ok [capability imap4rev1 auth=plain] lower case",
    "* CAPABILITY",
    "* CAPABILITY  IMAP4rev1   AUTH=PLAIN  ",
    "* OKAY",
    "*",
    "*x",
    "+x",
    "+ ",
    " OK",
    "ms1",
    "ms1 OKAY",
    "ms1 BYE no",
    "ms1 PREAUTH no",
    "ms1  OK double space",
    "ms10 OK not ours",
    "* 3 EXISTS",
    "* NO [ALERT] Quota exceeded"))
put("imap-response", "hostile-bytes",
    b"* OK [CAPABILITY IMAP4rev1\x01\x7f\xff\xfe] \x1b[31mred\r\n"
    b"ms1 NO abcd-efgh-ijkl-mnop is wrong\r\n"
    b"ms2 NO [AUTHENTICATIONFAILED] abcd-efgh-ijkl-mnopabcd-efgh-ijkl-mnop\r\n"
    b"\r\n\r\n\n\r"
    b"ms3 OK \xe2\x80\x9cquoted\xe2\x80\x9d\n"
    b"* BYE \x00 after a NUL the connection gives up\r\n")
put("imap-response", "long-lines", lines(
    "* OK " + "x" * 2000,
    "* OK [CAPABILITY " + " ".join("X-CAP-%d" % i for i in range(100)) + "] many",
    "ms1 NO " + "abcd-efgh-ijkl-mnop " * 20))
put("imap-response", "flood", lines(*(["* OK x"] * 60 + ["ms1 OK done"])))
rng = random.Random(20260101)
put("imap-response", "garbage", bytes(rng.randrange(256) for _ in range(512)))

# -- SMTP ----------------------------------------------------------------

put("smtp-reply", "fault-server-starttls", lines(
    "220 localhost ESMTP fault-server",
    "250-localhost", "250-PIPELINING", "250-SIZE 20971520", "250-STARTTLS",
    "250-ENHANCEDSTATUSCODES", "250 8BITMIME",
    "220 2.0.0 Go ahead",
    "250-localhost", "250-PIPELINING", "250-SIZE 20971520",
    "250-AUTH PLAIN LOGIN", "250-ENHANCEDSTATUSCODES", "250 8BITMIME",
    "235 2.7.0 Authentication successful",
    "221 2.0.0 Bye"))
put("smtp-reply", "icloud-like", lines(
    "220 p00-icloudmta-asmtp-us-west-1a-10-percent-0.p00-icloudmta-asmtp-vip."
    "icloud-mail-production.svc.kube.us-west-1a.k8s.cloud.apple.com ESMTP",
    "250-p00-icloudmta-asmtp-us-west-1a-10-percent-0",
    "250-PIPELINING", "250-SIZE 28311552", "250-ETRN", "250-STARTTLS",
    "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN",
    "250 SMTPUTF8",
    "220 2.0.0 Ready to start TLS",
    "250-p00-icloudmta-asmtp-us-west-1a-10-percent-0",
    "250-PIPELINING", "250-SIZE 28311552", "250-ETRN",
    "250-AUTH LOGIN PLAIN ATOKEN WSTOKEN WETOKEN",
    "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN", "250 SMTPUTF8",
    "535 5.7.8 Authentication failed"))
put("smtp-reply", "dovecot-submission", lines(
    "220 localhost Dovecot ready.",
    "250-localhost", "250-8BITMIME", "250-AUTH PLAIN", "250-BURL imap",
    "250-CHUNKING", "250-ENHANCEDSTATUSCODES", "250-SIZE",
    "250-SMTPUTF8", "250 PIPELINING",
    "334 ",
    "535 5.7.8 Authentication failed",
    "221 2.0.0 Bye"))
put("smtp-reply", "auth-login", lines(
    "220 mail.example.org ESMTP",
    "250-mail.example.org", "250-AUTH=PLAIN LOGIN", "250 AUTH LOGIN",
    "334 VXNlcm5hbWU6",
    "334 UGFzc3dvcmQ6",
    "235 2.7.0 Accepted"))
put("smtp-reply", "errors", lines(
    "421 Service not available, closing transmission channel",
    "454 TLS not available due to temporary reason",
    "530 5.7.0 Must issue a STARTTLS command first",
    "534 5.7.9 Please log in with your web browser and then try again",
    "535 5.7.8 Authentication credentials invalid",
    "554 5.7.1 No SMTP service here",
    "501 5.7.0 Authentication aborted",
    "504 5.5.4 Unrecognized authentication type",
    "502 5.5.2 Command not recognized"))
put("smtp-reply", "hostile", lines(
    "250-first", "251 second code differs",
    "250", "250x", "2500 four digits", "199 low", "600 high", "260 x",
    "2", "25", "",
    "250-host", "250-SIZE -1", "250-SIZE 99999999999999999999999",
    "250-SIZE 0x10", "250-SIZE  12", "250-SIZE 123 ", "250-SIZE 0",
    "250-size 1e6", "250-AUTH", "250-AUTH ", "250-AUTH=", "250-auth plain",
    "250-AUTH  PLAIN  LOGIN ", "250 STARTTLSX",
    "220 2.0.0 Go ahead", "250 injected",
    "535 abcd-efgh-ijkl-mnop was wrong"))
put("smtp-reply", "long-reply", lines(
    *(["250-X-FILLER-%06d" % i for i in range(120)] + ["250 END"])))
put("smtp-reply", "bytes",
    b"220 \x01\x02\xff\xfe hello\r\n250-\x1b[0m\r\n250 SIZE 1\x00 0\r\n")
put("smtp-reply", "garbage", bytes(rng.randrange(256) for _ in range(512)))

# -- providers -----------------------------------------------------------

with open(os.path.join(ROOT, "data", "providers", "icloud.xml"), "rb") as f:
    put("provider", "icloud.xml", f.read())
override = os.path.join(ROOT, "tests", "unit", "data", "providers-override")
for name in sorted(os.listdir(override)):
    with open(os.path.join(override, name), "rb") as f:
        put("provider", "override-" + name, f.read())

SERVERS = """
    <incomingServer type="imap">
      <hostname>imap.example.org</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.org</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
"""


def provider_file(inside, namespaces=""):
    return ('<?xml version="1.0"?>\n<clientConfig version="1.1"%s>\n'
            '  <emailProvider id="example.org">\n'
            '    <domain>example.org</domain>\n%s'
            '  </emailProvider>\n</clientConfig>\n' % (namespaces, inside))


put("provider", "minimal.xml", provider_file(SERVERS))
put("provider", "thunderbird-full.xml", provider_file(
    """    <domain>example.net</domain>
    <displayName>Example Mail</displayName>
    <displayShortName>Example</displayShortName>
    <incomingServer type="pop3">
      <hostname>pop.example.org</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
      <pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>oauth.example.org</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>OAuth2</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>plain.example.org</hostname>
      <port>143</port>
      <socketType>plain</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>""" + SERVERS + """
    <documentation url="https://example.org/help">
      <descr lang="en">Setting up</descr>
    </documentation>
    <webMail><loginPage url="https://mail.example.org/"/></webMail>
"""))
put("provider", "mailsetup-elements.xml", provider_file(
    SERVERS + """
    <x:usernameCandidate>%EMAILLOCALPART%@%EMAILDOMAIN%</x:usernameCandidate>
    <x:usernameCandidate>%REALNAME%</x:usernameCandidate>
    <x:password kind="app-specific" xml:lang="en">
      <x:hint>  Make an   app-specific password.  </x:hint>
      <x:url>https://appleid.apple.com/</x:url>
    </x:password>
    <x:statusPage>https://www.apple.com/support/systemstatus/</x:statusPage>
    <x:mxDomain>MAIL.ICLOUD.COM</x:mxDomain>
    <x:mxDomain>mx.example.org.</x:mxDomain>
    <x:mxDomain></x:mxDomain>
""", ' xmlns:x="https://mailsetup.org/ns/provider/1"'))
put("provider", "namespace-rebinding.xml", provider_file(
    SERVERS + """
    <ms:password xmlns:ms="urn:other">ignored</ms:password>
    <a xmlns="https://mailsetup.org/ns/provider/1"><hint>default ns</hint></a>
    <usernameCandidate xmlns="https://mailsetup.org/ns/provider/1">%EMAILADDRESS%</usernameCandidate>
"""))
put("provider", "hostile-values.xml", provider_file(
    """
    <incomingServer type="imap">
      <hostname>\u00e9xample.org</hostname>
      <port>99999</port>
      <socketType>SSL</socketType>
    </incomingServer>
    <incomingServer type="imap">
      <hostname></hostname>
      <port>-1</port>
      <socketType>STARTTLS</socketType>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.example.org</hostname>
      <port>0x3e1</port>
      <socketType>TLS</socketType>
    </incomingServer>""" + SERVERS))
put("provider", "entities.xml", provider_file(
    SERVERS.replace("imap.example.org", "imap&#46;example&amp;org")
    + "<![CDATA[ <hostname>x</hostname> ]]>"))
put("provider", "not-ispdb.xml", "<html><body>404</body></html>\n")
put("provider", "truncated.xml", provider_file(SERVERS)[:300])
put("provider", "deep.xml", provider_file(SERVERS + "<a>" * 200 + "</a>" * 200))

# -- accounts.conf -------------------------------------------------------

HEADER = ("# Written by mailsetupd; edits are lost when it saves.\n"
          "# Passwords are kept in the Secret Service, not here.\n\n")


def account(id_, address, **extra):
    keys = {
        "Address": address, "Provider": "icloud.com",
        "ImapHost": "imap.mail.me.com", "ImapPort": "993",
        "ImapSecurity": "tls", "ImapUsername": address,
        "SmtpHost": "smtp.mail.me.com", "SmtpPort": "587",
        "SmtpSecurity": "starttls", "SmtpUsername": address,
        "SmtpMaxMessageSize": "20971520", "LastChecked": "1767225600",
    }
    keys.update(extra)
    body = "".join("%s=%s\n" % (k, v) for k, v in keys.items() if v is not None)
    return "[Account %s]\n%s\n" % (id_, body)


GOOD = account("0123456789abcdef0123456789abcdef", "johnsmith@icloud.com")
put("account-file", "good-one", HEADER + GOOD)
put("account-file", "good-two", HEADER + GOOD + account(
    "fedcba9876543210fedcba9876543210", "jane@me.com",
    DisplayName="Jane \u2013 personal", ImapUsername="jane",
    SmtpPort="465", SmtpSecurity="tls", SmtpMaxMessageSize=None,
    LastChecked="0"))
put("account-file", "empty", "")
put("account-file", "other-groups", "[General]\nVersion=1\n\n" + GOOD)
put("account-file", "escapes", HEADER + account(
    "00ff", "x@icloud.com", DisplayName=r"tab\there\nnewline \\ \s lead"))
put("account-file", "bad-id", GOOD.replace("0123456789abcdef", "not-hex!", 1))
put("account-file", "empty-id", account("", "johnsmith@icloud.com"))
put("account-file", "missing-key", account("aa", "a@icloud.com", SmtpHost=None))
put("account-file", "bad-port", account("aa", "a@icloud.com", ImapPort="70000"))
put("account-file", "port-not-number", account("aa", "a@icloud.com", SmtpPort="587x"))
put("account-file", "bad-security", account("aa", "a@icloud.com", ImapSecurity="plain"))
put("account-file", "bad-address", account("aa", "John Smith <js@icloud.com>"))
put("account-file", "address-not-normal", account("aa", "JS@ICLOUD.COM"))
put("account-file", "duplicate", GOOD + account("bb", "johnsmith@icloud.com"))
put("account-file", "duplicate-group", GOOD + GOOD)
put("account-file", "negative-numbers", account(
    "aa", "a@icloud.com", SmtpMaxMessageSize="-1", LastChecked="-5"))
put("account-file", "huge-numbers", account(
    "aa", "a@icloud.com", SmtpMaxMessageSize="18446744073709551616",
    LastChecked="99999999999999999999"))
put("account-file", "not-a-key-file", "this is not\na key file\n")
put("account-file", "bad-utf8", b"[Account aa]\nAddress=\xff\xfe@icloud.com\n")
put("account-file", "nul-byte", GOOD.encode().replace(b"Provider", b"Prov\x00ider"))
put("account-file", "locale-keys", account(
    "aa", "a@icloud.com") + "DisplayName[de]=Konto\nDisplayName[zh_HK]=\u5e33\u6236\n")

# -- D-Bus ---------------------------------------------------------------


def complete_type(sig, i):
    """The end of the complete type starting at sig[i]."""
    c = sig[i]
    if c == "a":
        return complete_type(sig, i + 1)
    if c in "({":
        close = ")" if c == "(" else "}"
        i += 1
        while sig[i] != close:
            i = complete_type(sig, i)
        return i + 1
    return i + 1


def split_types(sig):
    out, i = [], 0
    while i < len(sig):
        j = complete_type(sig, i)
        out.append(sig[i:j])
        i = j
    return out


ALIGN = {"y": 1, "b": 4, "n": 2, "q": 2, "i": 4, "u": 4, "x": 8, "t": 8,
         "d": 8, "s": 4, "o": 4, "g": 1, "v": 1, "a": 4, "(": 8, "{": 8,
         "h": 4}
FIXED = {"y": "<B", "b": "<I", "n": "<h", "q": "<H", "i": "<i", "u": "<I",
         "x": "<q", "t": "<Q", "d": "<d", "h": "<I"}


class Writer:
    def __init__(self, start=0):
        self.buf = bytearray()
        self.start = start  # offset of buf[0] in the message

    def pad(self, n):
        while (self.start + len(self.buf)) % n:
            self.buf.append(0)

    def write(self, t, value):
        c = t[0]
        self.pad(ALIGN[c])
        if c in FIXED:
            self.buf += struct.pack(FIXED[c], value)
        elif c in "so":
            data = value.encode() if isinstance(value, str) else value
            self.buf += struct.pack("<I", len(data)) + data + b"\0"
        elif c == "g":
            data = value.encode()
            self.buf += bytes([len(data)]) + data + b"\0"
        elif c == "v":
            inner, v = value
            self.write("g", inner)
            self.write(inner, v)
        elif c == "a":
            elem = t[1:]
            self.buf += b"\0\0\0\0"
            at = len(self.buf)
            self.pad(ALIGN[elem[0]])
            first = len(self.buf)
            for v in value:
                self.write(elem, v)
            self.buf[at - 4:at] = struct.pack("<I", len(self.buf) - first)
        elif c in "({":
            for sub, v in zip(split_types(t[1:-1]), value):
                self.write(sub, v)
        else:
            raise ValueError(t)


def body(sig, values):
    w = Writer()
    for t, v in zip(split_types(sig), values):
        w.write(t, v)
    return bytes(w.buf)


def structured(member, sig, values):
    return b">" + member.encode() + b"\0" + sig.encode() + b"\0" + body(sig, values)


MANAGER = "org.mailsetup.MailSetup1.Manager"


def wire(member, sig, values, interface=MANAGER, path="/org/mailsetup/MailSetup1",
         serial=7, sender=":1.42"):
    data = body(sig, values)
    fields = [(1, ("o", path)), (2, ("s", interface)), (3, ("s", member)),
              (6, ("s", "org.mailsetup.MailSetup1")), (7, ("s", sender))]
    if sig:
        fields.append((8, ("g", sig)))
    w = Writer()
    w.buf += b"l\x01\x00\x01" + struct.pack("<II", len(data), serial)
    w.write("a(yv)", fields)
    w.pad(8)
    return bytes(w.buf) + data


PASSWORD = "abcd-efgh-ijkl-mnop"
ADDRESS = "johnsmith@icloud.com"
TYPICAL_OPTIONS = [("timeout-ms", ("u", 20000)),
                   ("operation-id", ("s", "op-1")),
                   ("display-name", ("s", "John (iCloud)"))]
HOSTILE_OPTIONS = [("timeout-ms", ("s", "20000")),
                   ("timeout-ms", ("x", -1)),
                   ("timeout-ms", ("t", 2 ** 64 - 1)),
                   ("login", ("s", "not an address")),
                   ("password", ("s", PASSWORD + "\r\nA1 LOGOUT")),
                   ("display-name", ("s", "a\nb")),
                   ("operation-id", ("i", 5)),
                   ("unknown", ("as", ["x", "y"])),
                   ("nested", ("v", ("v", ("s", "deep"))))]

put("dbus-args", "lookup-provider", structured("LookupProvider", "s", [ADDRESS]))
put("dbus-args", "lookup-provider-custom-domain",
    structured("LookupProvider", "s", ["  Someone@Example.ORG  "]))
put("dbus-args", "validate-typical", structured(
    "ValidateCredentials", "ssa{sv}", [ADDRESS, PASSWORD, TYPICAL_OPTIONS]))
put("dbus-args", "validate-login-option", structured(
    "ValidateCredentials", "ssa{sv}",
    ["me@custom.example", PASSWORD, [("login", ("s", "primary@icloud.com")),
                                     ("timeout-ms", ("x", 5000))]]))
put("dbus-args", "add-account-typical", structured(
    "AddAccount", "ssa{sv}", [ADDRESS, PASSWORD, TYPICAL_OPTIONS]))
put("dbus-args", "diagnose-typical", structured(
    "Diagnose", "sa{sv}", [ADDRESS, [("password", ("s", PASSWORD)),
                                     ("timeout-ms", ("i", 10000))]]))
put("dbus-args", "validate-hostile-options", structured(
    "ValidateCredentials", "ssa{sv}", [ADDRESS, PASSWORD, HOSTILE_OPTIONS]))
for i, option in enumerate(HOSTILE_OPTIONS):
    put("dbus-args", "diagnose-hostile-option-%d" % i,
        structured("Diagnose", "sa{sv}", [ADDRESS, [option]]))
put("dbus-args", "validate-crlf-password", structured(
    "ValidateCredentials", "ssa{sv}", [ADDRESS, PASSWORD + "\r\n", []]))
put("dbus-args", "validate-long-password", structured(
    "ValidateCredentials", "ssa{sv}", [ADDRESS, "x" * 1025, []]))
put("dbus-args", "validate-empty", structured(
    "ValidateCredentials", "ssa{sv}", ["", "", []]))
put("dbus-args", "add-account-newline-address", structured(
    "AddAccount", "ssa{sv}", ["john\nsmith@icloud.com", PASSWORD, []]))
put("dbus-args", "add-account-long-address", structured(
    "AddAccount", "ssa{sv}", ["a" * 300 + "@icloud.com", PASSWORD, []]))
put("dbus-args", "lookup-odd-addresses", structured(
    "LookupProvider", "s", ["a@b@icloud.com"]))
put("dbus-args", "lookup-unicode", structured(
    "LookupProvider", "s", ["j\u00f6rg@b\u00fccher.example"]))
put("dbus-args", "lookup-bad-domain", structured(
    "LookupProvider", "s", ["x@-icloud..com."]))
put("dbus-args", "wrong-signature", structured(
    "ValidateCredentials", "ss", [ADDRESS, PASSWORD]))
put("dbus-args", "wrong-types", structured(
    "AddAccount", "sia{sv}", [ADDRESS, 5, []]))
put("dbus-args", "extra-argument", structured(
    "Diagnose", "sa{sv}s", [ADDRESS, [], "extra"]))
put("dbus-args", "all-types", structured(
    "Diagnose", "ybnqiuxtdsogv(is)a{ss}aay",
    [1, True, -2, 3, -4, 5, -6, 7, 0.5, "s", "/o", "sig", ("u", 9),
     (1, "x"), [("k", "v")], [[1, 2], []]]))
put("dbus-args", "set-password", structured("SetPassword", "s", [PASSWORD]))
put("dbus-args", "export", structured("Export", "s", ["thunderbird"]))
put("dbus-args", "unknown-member", structured("Frobnicate", "s", ["x"]))

put("dbus-args", "wire-validate", wire(
    "ValidateCredentials", "ssa{sv}", [ADDRESS, PASSWORD, TYPICAL_OPTIONS]))
put("dbus-args", "wire-add-account", wire(
    "AddAccount", "ssa{sv}", [ADDRESS, PASSWORD, [("display-name", ("s", "Me"))]]))
put("dbus-args", "wire-lookup", wire("LookupProvider", "s", [ADDRESS]))
put("dbus-args", "wire-diagnose", wire("Diagnose", "sa{sv}", [ADDRESS, []]))
put("dbus-args", "wire-hostile-options", wire(
    "ValidateCredentials", "ssa{sv}", [ADDRESS, PASSWORD, HOSTILE_OPTIONS]))
put("dbus-args", "wire-bad-utf8", wire(
    "LookupProvider", "s", [b"j\xffs@icloud.com"]))
put("dbus-args", "wire-no-interface",
    wire("LookupProvider", "s", [ADDRESS], interface="org.freedesktop.DBus.Peer"))
put("dbus-args", "wire-properties-set", wire(
    "Set", "ssv", [MANAGER, "Version", ("s", "9")],
    interface="org.freedesktop.DBus.Properties"))
put("dbus-args", "wire-wrong-endianness",
    b"B" + wire("LookupProvider", "s", [ADDRESS])[1:])

# -- done ----------------------------------------------------------------

print("make-corpus: wrote %d files in %s" % (len(written), CORPUS),
      file=sys.stderr)
