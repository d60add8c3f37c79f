#!/usr/bin/env python3
"""Manager.LookupProvider for the iCloud domains (DESIGN §3)."""

import harness
from harness import SessionTestCase, plain, types

KEY_TYPES = {
    "provider": "s",
    "display-name": "s",
    "address": "s",
    "imap-host": "s",
    "imap-port": "q",
    "imap-security": "s",
    "imap-username": "s",
    "imap-username-candidates": "as",
    "smtp-host": "s",
    "smtp-port": "q",
    "smtp-security": "s",
    "smtp-username": "s",
    "smtp-alternatives": "aa{sv}",
    "password-kind": "s",
    "password-hint": "s",
    "documentation-url": "s",
}


class LookupProvider(SessionTestCase):
    def lookup(self, address):
        reply = self.s.call("LookupProvider", "s", address)
        self.assertEqual(reply["type"], "a{sv}")
        (settings,) = reply["data"]
        return settings

    def check(self, address, normalised, local_part):
        settings = self.lookup(address)
        got_types = types(settings)
        for key, type_ in KEY_TYPES.items():
            self.assertIn(key, settings)
            self.assertEqual(got_types[key], type_, key)
        v = plain(settings)
        self.assertEqual(v["address"], normalised)
        self.assertTrue(v["provider"])
        self.assertIn("iCloud", v["display-name"])

        self.assertEqual(v["imap-host"], "imap.mail.me.com")
        self.assertEqual(v["imap-port"], 993)
        self.assertEqual(v["imap-security"], "tls")
        self.assertEqual(v["imap-username-candidates"], [normalised, local_part])
        self.assertEqual(v["imap-username"], normalised)

        self.assertEqual(v["smtp-host"], "smtp.mail.me.com")
        self.assertEqual(v["smtp-port"], 587)
        self.assertEqual(v["smtp-security"], "starttls")
        self.assertEqual(v["smtp-username"], normalised)

        alternatives = settings["smtp-alternatives"]["data"]
        self.assertTrue(alternatives)
        alt = alternatives[0]
        self.assertEqual(types(alt).get("port"), "q")
        self.assertEqual(
            {k: plain(alt[k]) for k in ("host", "port", "security")},
            {"host": "smtp.mail.me.com", "port": 465, "security": "tls"},
        )

        self.assertEqual(v["password-kind"], "app-specific")
        self.assertIn("app-specific", v["password-hint"])
        self.assertTrue(v["documentation-url"].startswith("https://"))
        # Only the offline lookup: nothing EHLO would have told.
        self.assertNotIn("smtp-max-message-size", v)
        return v

    def test_icloud_com(self):
        self.check("jane@icloud.com", "jane@icloud.com", "jane")

    def test_me_com(self):
        self.check("x@me.com", "x@me.com", "x")

    def test_mac_com(self):
        self.check("x@mac.com", "x@mac.com", "x")

    def test_trimmed_and_domain_lower_cased(self):
        self.check("  Jane.Doe@ICLOUD.COM ", "Jane.Doe@icloud.com", "Jane.Doe")

    def test_same_servers_for_all_three_domains(self):
        def servers(address):
            v = plain(self.lookup(address))
            for alt in v["smtp-alternatives"]:
                alt.pop("username")
            return {k: v[k] for k in v if k.startswith(("imap-", "smtp-")) and "user" not in k}

        self.assertEqual(servers("a@icloud.com"), servers("a@me.com"))
        self.assertEqual(servers("a@icloud.com"), servers("a@mac.com"))


if __name__ == "__main__":
    harness.main()
