#!/usr/bin/env python3
"""Process hardening (issue 7, item 5): the running mailsetupd is not
dumpable (no core dump of a process that holds passwords, no ptrace or
/proc/PID/mem by its peers) and its umask is 077, even when it is started
with umask 000.  (That the files it writes are 0600 in a 0700 folder is in
test_accounts.py.)

Dumpability has no field in /proc/PID/status.  It shows in who may open
/proc/PID/mem: the kernel's ptrace access check ("PTRACE_MODE_ATTACH",
what a debugger or a memory dumper needs) refuses a non-dumpable process
to anyone of the same user without CAP_SYS_PTRACE.  (/proc/PID/environ
is no use: on this kernel, 6.18, it stays readable for a non-dumpable
process of one's own user.)  Root has CAP_SYS_PTRACE, so as root this
test drops it (from its bounding and inheritable sets too) before the
session starts: the bus and the daemon then lack it as well, and the
check means the same as for an ordinary user.  A dumpable process started
the same way (sleep) is the control: its mem must open, or the test
cannot tell and skips.  Sanitizer builds keep the daemon dumpable on
purpose (LeakSanitizer stops threads with ptrace; see daemon/main.c):
there the dumpability check is skipped."""

import ctypes
import errno
import os
import time

import harness
from harness import SessionTestCase

CAP_SYS_PTRACE = 19
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


_libc = ctypes.CDLL(None, use_errno=True)


def _capget():
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if _libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    return header, data


def has_cap(cap):
    _, data = _capget()
    return bool(data[cap // 32].effective & (1 << (cap % 32)))


def drop_cap_for_good(cap):
    """Drops @cap from this process's bounding, ambient, inheritable,
    permitted and effective sets, so that nothing it starts (even as
    root) has it.  Returns None, or why it could not."""
    if _libc.prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1:
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            return f"cannot drop it from the bounding set: {os.strerror(ctypes.get_errno())}"
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header, data = _capget()
    bit, word = 1 << (cap % 32), cap // 32
    data[word].effective &= ~bit
    data[word].permitted &= ~bit
    data[word].inheritable &= ~bit
    if _libc.capset(ctypes.byref(header), data) != 0:
        return f"capset: {os.strerror(ctypes.get_errno())}"
    if has_cap(cap):
        return "still has it after capset"
    return None


def mem_opens(pid):
    """True if /proc/@pid/mem can be opened; False if the kernel refuses
    (EACCES, EPERM)."""
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    except PermissionError:
        return False
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM):
            return False
        raise
    os.close(fd)
    return True


def asan_build(paths):
    """The daemon is built with AddressSanitizer (main.c then leaves it
    dumpable)."""
    try:
        with open(paths.mailsetupd, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


class Hardening(SessionTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cannot_drop = None
        if has_cap(CAP_SYS_PTRACE):
            cls.cannot_drop = drop_cap_for_good(CAP_SYS_PTRACE)
        # The daemon inherits the bus's umask (<keep_umask/>), which is ours.
        cls.old_umask = os.umask(0)
        try:
            super().setUpClass()
        finally:
            os.umask(cls.old_umask)
        cls.pid = cls.session.activate()

    def test_umask(self):
        self.assertEqual(status_field(self.s.bus.pid, "Umask"), "0000", "the bus should have our umask 000")
        self.assertEqual(status_field(self.pid, "Umask"), "0077")

    def test_not_dumpable(self):
        if asan_build(self.paths):
            self.skipTest("AddressSanitizer builds keep mailsetupd dumpable (daemon/main.c)")
        if self.cannot_drop:
            self.skipTest(f"cannot drop CAP_SYS_PTRACE ({self.cannot_drop}): as root every process "
                          "looks dumpable")
        # The control: a dumpable process started the same way.
        control = self.s.spawn(["sleep", "60"])
        try:
            time.sleep(0.1)  # exec'd by then
            if not mem_opens(control.pid):
                self.skipTest("even a dumpable process's /proc/PID/mem does not open here: cannot tell")
        finally:
            control.kill()
            control.wait()
            self.s.forget(control)
        self.assertFalse(mem_opens(self.pid),
                         "mailsetupd's /proc/PID/mem opens: it is dumpable (PR_SET_DUMPABLE not 0)")
        if os.geteuid() != 0:
            # A non-dumpable process's /proc/PID entries belong to root.
            self.assertEqual(os.stat(f"/proc/{self.pid}/mem").st_uid, 0)
        # It still serves.
        self.s.call("LookupProvider", "s", "jane@icloud.com")
        self.assertEqual(self.s.name_owner_pid(), self.pid)


if __name__ == "__main__":
    harness.main()
