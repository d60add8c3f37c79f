#!/usr/bin/env python3
"""Crash safety: mailsetupd is killed with SIGKILL at random moments of
AddAccount and Remove, over and over.  After every restart the account
file parses, every account in it has its password or says
"needs-password", and once the daemon's start-up clean-up has run no
password of mailsetup's schema is left without an account.

And without a crash: adds, removals and changes whose saves overlap (on a
disk made slow) all reach the file, so a restart brings back exactly the
accounts the bus showed.

MAILSETUP_CRASH_ROUNDS and MAILSETUP_CRASH_SEED repeat a run."""

import os
import random
import signal
import subprocess
import time

import harness
from accounts_support import (
    GOOD_ADDRESSES,
    SCHEMA,
    account_call,
    account_path,
    accounts_dir,
    add_account,
    lookup_secret,
    mailsetup_secrets,
    managed_objects,
    prop,
    properties,
    read_accounts,
)
from components import (
    PASSWORD,
    DovecotServer,
    GnomeKeyring,
    ProviderOverride,
    TestCertificates,
    restart_daemon,
    sanitized,
    wait_for,
)
from harness import BUS_NAME, MANAGER_IFACE, OBJECT_PATH, SessionTestCase

ROUNDS = int(os.environ.get("MAILSETUP_CRASH_ROUNDS") or (50 if sanitized() else 60))


def add_argv(address):
    return ["busctl", "--user", "--json=short", "--timeout=30", "call", BUS_NAME, OBJECT_PATH, MANAGER_IFACE,
            "AddAccount", "ssa{sv}", address, PASSWORD, "0"]


def remove_argv(address):
    return ["busctl", "--user", "--json=short", "--timeout=30", "call", BUS_NAME, account_path(address),
            "org.mailsetup.MailSetup1.Account", "Remove"]


class CrashTestCase(SessionTestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = TestCertificates()
        cls.dovecot = DovecotServer()
        cls.keyring = GnomeKeyring()
        cls.components = [cls.certs, cls.dovecot, ProviderOverride(dovecot=cls.dovecot), cls.keyring]
        super().setUpClass()

    def run_call(self, argv):
        """Starts @argv in the background; returns (process, start time)."""
        proc = self.s.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return proc, time.monotonic()

    def finish_call(self, proc):
        out, err = proc.communicate(timeout=40)
        self.s.forget(proc)
        return proc.returncode, out + err

    def timed(self, argv):
        proc, started = self.run_call(argv)
        rc, out = self.finish_call(proc)
        self.assertEqual(rc, 0, out)
        return time.monotonic() - started

    def daemon_pid(self, where):
        """Starts mailsetupd if needed; its pid.  A daemon that dies right
        away fails with the end of the bus log."""
        try:
            return self.s.activate()
        except harness.DBusCallError as e:
            tail = "\n".join(self.s.log().splitlines()[-15:])
            raise AssertionError(
                f"{where}: mailsetupd did not stay up ({e}); the end of the bus log:\n{tail}") from None

    def kill_daemon(self, pid):
        os.kill(pid, signal.SIGKILL)
        self.assertIn(self.s.wait_exit(pid, timeout=10), (-signal.SIGKILL, None))

        # The bus has noticed when the name is gone or has a new owner (a
        # call sent after the kill starts a new daemon, which serves it).
        def noticed():
            try:
                return self.s.name_owner_pid() != pid
            except harness.DBusCallError:
                return True

        wait_for(noticed, 10, what=f"the bus noticed that mailsetupd (pid {pid}) died")

    def check_consistent(self, where):
        """The invariants after a restart; returns the addresses that have an
        account."""
        accounts = read_accounts(self.s)  # parses, or raises
        by_id = {account_id: entry["Address"] for account_id, entry in accounts.items()}
        self.assertEqual(len(set(by_id.values())), len(by_id), f"{where}: an address twice in the file: {accounts}")
        self.daemon_pid(where)
        objects = managed_objects(self.s)
        self.assertEqual(sorted(objects), sorted(account_path(a) for a in by_id.values()),
                         f"{where}: the bus and the file disagree")

        # The start-up clean-up: no secret of ours without an account, and
        # every account has its secret or says that it has none.
        def settled():
            secrets = mailsetup_secrets(self.s, self.keyring)
            ids = {item.get("account-id") for item in secrets}
            if not ids <= set(by_id):
                return None
            for account_id, address in by_id.items():
                if account_id in ids:
                    continue
                if properties(self.s, account_path(address))["Status"] != "needs-password":
                    return None
                self.needs_password += 1
            return [secrets]  # true even when empty

        try:
            secrets = wait_for(settled, 10, interval=0.05, what="start-up clean-up")[0]
        except AssertionError:
            secrets = mailsetup_secrets(self.s, self.keyring)
            states = {a: properties(self.s, account_path(a))["Status"] for a in by_id.values()}
            raise AssertionError(f"{where}: after the start-up clean-up, secrets {secrets}, "
                                 f"accounts {by_id}, statuses {states}") from None
        for item in secrets:
            if item.get("account-id") in by_id:
                self.assertEqual(item.get("address"), by_id[item["account-id"]], where)
                attributes = {k: item[k] for k in ("xdg:schema", "address", "account-id")}
                self.assertEqual(lookup_secret(self.s, attributes), PASSWORD, where)
        self.assertEqual(len(secrets), len({i.get("account-id") for i in secrets}), f"{where}: {secrets}")
        return set(by_id.values())

    def assertNoCriticals(self, what):
        bad = self.s.bad_log_lines()
        self.assertEqual(bad, [], f"mailsetupd reported a critical or sanitizer error during {what}")


class KillAtRandom(CrashTestCase):
    def test_kill_during_add_and_remove(self):
        seed = int(os.environ.get("MAILSETUP_CRASH_SEED") or time.time_ns() % 1000000)
        rng = random.Random(seed)
        print(f"crash test: {ROUNDS} rounds, MAILSETUP_CRASH_SEED={seed}")
        self.needs_password = 0
        started = time.monotonic()

        # How long the calls take here: kills are spread over that time.
        # (john signs in with the local part, after the whole address was
        # refused: his adds take longer.)
        self.s.activate()
        duration = {}
        for address in ("jane@icloud.com", "john@icloud.com"):
            duration["add", address.split("@")[0]] = self.timed(add_argv(address))
            duration["remove", address.split("@")[0]] = self.timed(remove_argv(address))
        present = self.check_consistent("calibration")
        self.assertEqual(present, set())

        outcomes = {}
        for n in range(ROUNDS):
            address = rng.choice(["jane@icloud.com"] * 3 + [a for a in GOOD_ADDRESSES if a.startswith("john")])
            kind = "remove" if address in present else "add"
            where = f"round {n} ({kind} {address}, seed {seed})"
            pid = self.daemon_pid(where)
            delay = rng.uniform(0, max(0.03, 1.5 * duration[kind, address.split("@")[0]]))
            proc, _ = self.run_call(remove_argv(address) if kind == "remove" else add_argv(address))
            time.sleep(delay)
            self.kill_daemon(pid)
            rc, out = self.finish_call(proc)

            now = self.check_consistent(where)
            self.assertNoCriticals(where)
            done = (address in now) == (kind == "add")
            if rc == 0:
                # A call that was answered was done.
                self.assertTrue(done, f"{where}: the call succeeded but was undone: {out}")
            self.assertEqual(now - {address}, present - {address}, f"{where}: other accounts changed")
            if os.environ.get("MAILSETUP_CRASH_VERBOSE"):
                print(f"{where}: killed after {delay * 1000:.0f} ms, call status {rc}, done {done}")
            key = f"{kind} {'done' if done else 'not done'}"
            outcomes[key] = outcomes.get(key, 0) + 1
            present = now

        leftovers = sorted(n for n in os.listdir(accounts_dir(self.s))
                           if n.startswith("accounts.conf") and n != "accounts.conf")
        print("crash test: without a kill, calls took "
              + ", ".join(f"{k[0]} {k[1]} {v * 1000:.0f} ms" for k, v in duration.items()))
        print(f"crash test: outcomes {outcomes}; accounts left {sorted(present)}; "
              f"needs-password seen {self.needs_password}; temporary files left {leftovers}; "
              f"{time.monotonic() - started:.1f} s")
        self.assertNoCriticals("the rounds")
        # The kills fell both before and after the accounts were saved.
        self.assertTrue(outcomes.get("add done") and outcomes.get("add not done"), outcomes)


class OverlappingSaves(CrashTestCase):
    """Every fsync() of the daemon takes 300 ms longer (a slow disk, through
    tests/integration/slow-fsync.c), so saves queue up behind each other."""

    daemon_env = {
        "LD_PRELOAD": os.environ["MAILSETUP_SLOW_FSYNC"],
        "SLOW_FSYNC_MS": "300",
        # The sanitizers' runtime wants to be first; the shim is harmless.
        "ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":"),
    }

    def test_overlapping_adds_removals_and_changes_all_reach_the_file(self):
        self.needs_password = 0
        # Four adds at once: each one's save overlaps the others'.
        calls = [self.run_call(add_argv(address)) for address in GOOD_ADDRESSES]
        for proc, _ in calls:
            rc, out = self.finish_call(proc)
            self.assertEqual(rc, 0, out)
        self.assertEqual(sorted(read_accounts_addresses(self.s)), sorted(GOOD_ADDRESSES))

        # A removal, a rename and a new add, all at once.
        removed, renamed = GOOD_ADDRESSES[0], GOOD_ADDRESSES[1]
        calls = [self.run_call(remove_argv(removed)),
                 self.run_call(["busctl", "--user", "--timeout=30", "set-property", BUS_NAME,
                                account_path(renamed), "org.mailsetup.MailSetup1.Account",
                                "DisplayName", "s", "Renamed"])]
        for proc, _ in calls:
            rc, out = self.finish_call(proc)
            self.assertEqual(rc, 0, out)
        expected = sorted(set(GOOD_ADDRESSES) - {removed})
        wait_for(lambda: sorted(read_accounts_addresses(self.s)) == expected, 10,
                 what="the file holds the accounts the bus shows")

        restart_daemon(self.s)
        self.assertEqual(sorted(self.check_consistent("after a restart")), expected)
        self.assertEqual(self.needs_password, 0, "an account lost its password")
        self.assertEqual(prop(self.s, account_path(renamed), "DisplayName"), "Renamed")
        self.assertNoCriticals("overlapping saves")


def read_accounts_addresses(session):
    return [entry["Address"] for entry in read_accounts(session).values()]


class RemoveAtStartUp(CrashTestCase):

    def test_remove_while_starting(self):
        """Remove is the call that starts the daemon, so the Remove and the
        start-up clean-up of the keyring run at the same time.  The
        clean-up must still remove a password that has no account, and the
        two must not trip over each other."""
        self.needs_password = 0
        orphans = []
        for n in range(8):
            where = f"round {n}"
            path = add_account(self.s, "jane@icloud.com")
            attributes = prop(self.s, path, "SecretAttributes")
            orphan = {"xdg:schema": SCHEMA, "address": "john@icloud.com", "account-id": "%032x" % (0xdead0000 + n)}
            self.keyring.store(self.s, "iCloud Mail password for john@icloud.com", PASSWORD, **orphan)
            orphans.append(orphan)
            restart_daemon(self.s)
            account_call(self.s, path, "Remove")
            self.assertIsNone(lookup_secret(self.s, attributes), where)
            try:
                wait_for(lambda: all(lookup_secret(self.s, o) is None for o in orphans), 5, what="clean-up")
            except AssertionError:
                left = [o["account-id"] for o in orphans if lookup_secret(self.s, o) is not None]
                raise AssertionError(
                    f"{where}: a password without an account ({', '.join(left)}) was not removed when the "
                    "daemon started; its log says:\n"
                    + "\n".join(l for l in self.s.log().splitlines() if "mailsetupd" in l)[-2000:]) from None
            self.check_consistent(where)
            self.assertEqual(read_accounts(self.s), {}, where)
            self.assertNoCriticals(where)


if __name__ == "__main__":
    harness.main()
