#!/usr/bin/env python3
"""A throw-away user session for mailsetup's integration tests and demo.

A Session makes a private HOME and XDG directories, starts a private session
bus whose only activation directory is the build tree's (so the bus starts
the freshly built mailsetupd, never an installed one), and tears everything
down again, also when a test fails: the bus runs in its own process group,
and this process is made a child subreaper so nothing it started outlives it.

    with Session() as s:
        settings = s.call("LookupProvider", "s", "jane@icloud.com")

Later tests add gnome-keyring, Dovecot or goa-daemon as Components: a
Component may add environment variables and activation directories before
the bus starts, and is started after the bus and stopped before it.

As a command (used by tools/demo):

    harness.py [--build-dir DIR] run [--keep] -- COMMAND [ARG...]

runs COMMAND inside a fresh session and exits with its status.

Paths come from the environment that meson's test() sets (MAILSETUPD,
MAILSETUPCTL, MAILSETUP_DBUS_SERVICES_DIR, ...); anything unset is derived
from MAILSETUP_BUILD_ROOT (or --build-dir) and this file's place in the
source tree.  Python 3 standard library only.
"""

import argparse
import ctypes
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BUS_NAME = "org.mailsetup.MailSetup1"
OBJECT_PATH = "/org/mailsetup/MailSetup1"
MANAGER_IFACE = "org.mailsetup.MailSetup1.Manager"
ERROR_PREFIX = "org.mailsetup.MailSetup1.Error."

DBUS_NAME = "org.freedesktop.DBus"
DBUS_PATH = "/org/freedesktop/DBus"

# A command that bus-activated mailsetupd runs under (valgrind: see
# tests/fuzz/README.md), split like a shell would; empty for none.
DAEMON_WRAPPER = shlex.split(os.environ.get("MAILSETUP_DAEMON_WRAPPER", ""))
# Valgrind makes the daemon 20-50 times slower, its exit (the leak check)
# too.
_SLOW = 10 if DAEMON_WRAPPER else 1

# How long a process gets to exit after SIGTERM before it is killed.
STOP_GRACE = 5.0 * _SLOW
# How long the bus waits for an activated service to take its name.
SERVICE_START_TIMEOUT_MS = 20000 * _SLOW

# Output that means a child went wrong even if every call succeeded.
BAD_LOG_PATTERNS = re.compile(
    r"ERROR: (Address|Leak|Thread|Memory)Sanitizer"
    r"|runtime error:"
    r"|SUMMARY: UndefinedBehaviorSanitizer"
    r"|-(CRITICAL|ERROR) \*\*"
    # valgrind's memcheck
    r"|==\d+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised"
    r"|Syscall param|Mismatched free|Source and destination overlap"
    r"|.* definitely lost in loss record)"
)


# --------------------------------------------------------------------------
# paths


class Paths:
    """Where the built programs and source files are."""

    def __init__(self, build_root=None):
        here = os.path.dirname(os.path.abspath(__file__))
        # An explicit build directory wins over what meson's test() set.
        env = os.environ if build_root is None else {}
        self.source_root = env.get("MAILSETUP_SOURCE_ROOT") or os.path.dirname(
            os.path.dirname(here)
        )
        self.build_root = os.path.abspath(
            build_root
            or env.get("MAILSETUP_BUILD_ROOT")
            or os.path.join(self.source_root, "_build")
        )
        b = self.build_root
        self.mailsetupd = env.get("MAILSETUPD") or os.path.join(b, "daemon", "mailsetupd")
        self.mailsetupctl = env.get("MAILSETUPCTL") or os.path.join(
            b, "client", "mailsetupctl"
        )
        self.dbus_services_dir = env.get("MAILSETUP_DBUS_SERVICES_DIR") or os.path.join(
            b, "data", "dbus-services"
        )
        self.systemd_unit = env.get("MAILSETUP_SYSTEMD_UNIT") or os.path.join(
            b, "systemd", "mailsetupd.service"
        )
        self.datadir = env.get("MAILSETUP_DATADIR") or os.path.join(self.source_root, "data")
        self.interfaces_dir = os.path.join(self.source_root, "dbus-interfaces")
        self.servers_dir = os.path.join(self.source_root, "tests", "servers")
        self.version = env.get("MAILSETUP_VERSION")
        self.libexecdir = env.get("MAILSETUP_LIBEXECDIR")
        self.meson = env.get("MAILSETUP_MESON") or shutil.which("meson")


# --------------------------------------------------------------------------
# processes


PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def _prctl(option, value):
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _set_child_subreaper():
    """Orphans of our children (an activated daemon, once the bus's helper
    process has gone) become our children, so teardown can find them and
    learn their exit status."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM if this process dies, even of
    SIGKILL (a test runner's timeout), so no bus outlives its test."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


# Sessions not yet stopped, for the SIGTERM handler.
_live_sessions = []


def _on_sigterm(signum, frame):
    for s in list(_live_sessions):
        s.stop()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_sigterm_handler():
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def _proc_table():
    """{pid: (ppid, pgid, state, comm)} for every process we can see."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        # comm is in parentheses and may itself contain ") ".
        lpar, rpar = stat.index("("), stat.rindex(")")
        rest = stat[rpar + 2 :].split()
        table[int(entry)] = (int(rest[1]), int(rest[2]), rest[0], stat[lpar + 1 : rpar])
    return table


def descendants(pid):
    """Pids of every live descendant of @pid (not @pid itself)."""
    table = _proc_table()
    children = {}
    for p, (ppid, _, state, _) in table.items():
        if state != "Z":
            children.setdefault(ppid, []).append(p)
    found, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


def alive(pid):
    """True while @pid runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("utf-8", "replace")
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# Exit statuses of processes that were handed to us as subreaper (an
# activated service, once the bus's helper process has gone): {pid: status},
# status as in subprocess (negative: killed by that signal).
exit_statuses = {}

# Pids that subprocess.Popen objects own: their status is Popen's to collect.
_Popen_pids = set()


def _try_reap(pid):
    """Collects @pid's exit status if it is our child and has exited."""
    if pid in exit_statuses or pid in _Popen_pids:
        return pid in exit_statuses
    try:
        got, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    if got == 0:
        return False
    exit_statuses[pid] = (
        -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    )
    return True


def _reap_orphans():
    for pid, (ppid, _, state, _) in _proc_table().items():
        if ppid == os.getpid() and state == "Z":
            _try_reap(pid)


def wait_exit(pid, timeout):
    """Waits until @pid has exited.  Returns its exit status when it was
    handed to us as subreaper, None when it exited elsewhere; raises
    TimeoutError when it is still running."""
    deadline = time.monotonic() + timeout
    while True:
        _reap_orphans()
        if pid in exit_statuses:
            return exit_statuses[pid]
        if not alive(pid):
            _try_reap(pid)
            return exit_statuses.get(pid)
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {pid} still runs after {timeout} s")
        time.sleep(0.02)


def _wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap_orphans()
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.02)
    return False


class DBusCallError(Exception):
    """A call that failed.  name is the D-Bus error name when known."""

    def __init__(self, name, message, stderr=""):
        super().__init__(f"{name}: {message}" if name else message)
        self.name = name
        self.message = message
        self.stderr = stderr


# --------------------------------------------------------------------------
# busctl's typed JSON


def plain(node):
    """busctl --json's {"type": T, "data": D} (recursively) to Python values."""
    if isinstance(node, dict) and set(node) == {"type", "data"}:
        return plain(node["data"])
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def types(dictionary):
    """{key: D-Bus type} of a busctl a{sv} dictionary."""
    return {k: v["type"] for k, v in dictionary.items()}


# --------------------------------------------------------------------------
# the session


class Component:
    """Something that runs in the session besides the bus and mailsetupd.

    Hooks are called in this order: environment() and service_dirs() while
    the session is set up (before the bus starts), start() once the bus is
    up, stop() before the bus goes down (in reverse order of start)."""

    name = "component"

    def environment(self, session):
        return {}

    def service_dirs(self, session):
        return []

    def start(self, session):
        pass

    def stop(self, session):
        pass


BUS_CONFIG = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- A private session bus for mailsetup's tests: the standard session
     policy, but only the listed activation directories. -->
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
{servicedirs}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <limit name="service_start_timeout">{start_timeout}</limit>
</busconfig>
"""


class Session:
    """A private HOME, XDG dirs and session bus.  Use as a context manager,
    or call start() and stop() (stop() is safe to call more than once).
    @daemon_env: variables for the activated mailsetupd alone; None as a
    value means the daemon does not get that variable at all."""

    def __init__(self, components=(), paths=None, env=None, keep=None, daemon_env=None):
        self.paths = paths or Paths()
        self.components = list(components)
        self.extra_env = dict(env or {})
        self.daemon_env = dict(daemon_env or {})
        self.keep = keep if keep is not None else bool(os.environ.get("MAILSETUP_TEST_KEEP"))
        self.tmp = None
        self.bus = None
        self.bus_address = None
        self.bus_log_path = None
        self.env = None
        self.final_log = ""
        self.final_logs = {}
        # (pid, comm, exit status or None if unknown) of every service the
        # bus had started, as found when the session stopped.
        self.service_exits = []
        self._spawned = []
        self._started = []
        self._bus_children = set()

    # -- set-up -----------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _mkdir(self, *parts, mode=0o700):
        path = os.path.join(self.tmp, *parts)
        os.makedirs(path, mode=mode, exist_ok=True)
        os.chmod(path, mode)
        return path

    def start(self):
        _set_child_subreaper()
        _install_sigterm_handler()
        _live_sessions.append(self)
        base = os.environ.get("TMPDIR", "/tmp")
        # AF_UNIX paths are limited to 108 bytes.
        if len(base) > 60:
            base = "/tmp"
        self.tmp = tempfile.mkdtemp(prefix="mailsetup-test-", dir=base)
        self.home = self._mkdir("home")
        self.config_home = self._mkdir("home", ".config")
        self.data_home = self._mkdir("home", ".local", "share")
        self.cache_home = self._mkdir("home", ".cache")
        self.state_home = self._mkdir("home", ".local", "state")
        self.runtime_dir = self._mkdir("runtime")
        self.config_dirs = self._mkdir("etc-xdg")
        self.log_dir = self._mkdir("logs")
        bus_dir = self._mkdir("bus")
        self.bus_socket = os.path.join(bus_dir, "socket")
        self.bus_address = "unix:path=" + self.bus_socket
        self.bus_log_path = os.path.join(self.log_dir, "bus.log")

        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DBUS_", "XDG_", "GNOME_KEYRING", "SSH_AUTH"))
            and k not in ("DISPLAY", "WAYLAND_DISPLAY", "MAILSETUP_DATADIR")
        }
        env.update(
            HOME=self.home,
            XDG_CONFIG_HOME=self.config_home,
            XDG_DATA_HOME=self.data_home,
            XDG_CACHE_HOME=self.cache_home,
            XDG_STATE_HOME=self.state_home,
            XDG_RUNTIME_DIR=self.runtime_dir,
            XDG_CONFIG_DIRS=self.config_dirs,
            DBUS_SESSION_BUS_ADDRESS=self.bus_address,
            MAILSETUP_DATADIR=self.paths.datadir,
            # No DNS queries for unknown domains: tests never leave the machine.
            MAILSETUP_OFFLINE="1",
            # Messages are checked by the tests: keep them untranslated.
            LC_ALL="C.UTF-8",
            LANGUAGE="",
            # A GLib critical is a bug: make it crash loudly.
            G_DEBUG="fatal-criticals",
            SYSTEMD_PAGER="",
            PAGER="cat",
        )
        self.env = env
        service_dirs = [self.paths.dbus_services_dir]
        wrapper = list(DAEMON_WRAPPER)
        if self.daemon_env:
            # GNU env reads options only before the first NAME=VALUE.
            unset = [f"--unset={k}" for k, v in self.daemon_env.items() if v is None]
            assign = [f"{k}={v}" for k, v in self.daemon_env.items() if v is not None]
            wrapper = [shutil.which("env") or "/usr/bin/env"] + unset + assign + wrapper
        if wrapper:
            service_dirs = [self._wrapped_service_dir(bus_dir, wrapper)]
        for c in self.components:
            env.update(c.environment(self))
            service_dirs += c.service_dirs(self)
        env.update(self.extra_env)

        self.bus_config = os.path.join(bus_dir, "session.conf")
        with open(self.bus_config, "w") as f:
            f.write(
                BUS_CONFIG.format(
                    socket=_xml_escape(self.bus_socket),
                    servicedirs="\n".join(
                        f"  <servicedir>{_xml_escape(d)}</servicedir>" for d in service_dirs
                    ),
                    start_timeout=SERVICE_START_TIMEOUT_MS,
                )
            )
        self._start_bus()
        for c in self.components:
            c.start(self)
            self._started.append(c)

    def _wrapped_service_dir(self, bus_dir, wrapper):
        """An activation folder whose mailsetupd runs under @wrapper."""
        folder = os.path.join(bus_dir, "services")
        os.makedirs(folder, exist_ok=True)
        exec_line = " ".join(shlex.quote(a) for a in wrapper + [self.paths.mailsetupd])
        with open(os.path.join(folder, BUS_NAME + ".service"), "w") as f:
            f.write(f"[D-BUS Service]\nName={BUS_NAME}\nExec={exec_line}\n")
        return folder

    def _start_bus(self):
        log = open(self.bus_log_path, "ab")
        read_fd, write_fd = os.pipe()
        try:
            self.bus = subprocess.Popen(
                [
                    "dbus-daemon",
                    "--config-file=" + self.bus_config,
                    "--nofork",
                    f"--print-address={write_fd}",
                ],
                env=self.env,
                stdin=subprocess.DEVNULL,
                # An activated service writes to the bus's stdout and stderr.
                stdout=log,
                stderr=log,
                pass_fds=(write_fd,),
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            os.close(write_fd)
            log.close()
        _Popen_pids.add(self.bus.pid)
        with os.fdopen(read_fd, "rb") as r:
            line = r.readline().decode().strip()
        if not line:
            self.bus.wait(timeout=5)
            raise RuntimeError("dbus-daemon did not start:\n" + self.log())

    # -- tear-down --------------------------------------------------------

    def stop(self):
        if self in _live_sessions:
            _live_sessions.remove(self)
        if self.tmp is None:
            return
        try:
            for c in reversed(self._started):
                try:
                    c.stop(self)
                except Exception as e:  # keep tearing down
                    print(f"harness: stopping {c.name} failed: {e}", file=sys.stderr)
            self._started = []
            self._stop_spawned()
            self._stop_bus()
        finally:
            self.final_log = self.log()
            self.final_logs = self._read_logs()
            if self.keep:
                print(f"harness: kept {self.tmp}", file=sys.stderr)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def _stop_spawned(self):
        for p in self._spawned:
            if p.poll() is None:
                p.terminate()
        for p in self._spawned:
            try:
                p.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            _Popen_pids.discard(p.pid)
        self._spawned = []

    def services(self):
        """{pid: comm} of the processes the bus started that still run: the
        bus's descendants (except its own helpers), and processes in its
        process group, where they start even when they end up our
        children."""
        if self.bus is None:
            return {}
        table = _proc_table()
        pids = set(descendants(self.bus.pid))
        pids |= {p for p, (_, pgid, state, _) in table.items() if pgid == self.bus.pid and state != "Z"}
        pids.discard(self.bus.pid)
        return {p: table[p][3] for p in pids if p in table and table[p][3] != "dbus-daemon"}

    def _stop_bus(self):
        if self.bus is None:
            return
        # Services first, gently, so that they run their exit path (where
        # the sanitizers report leaks) and we learn their exit status.
        services = self.services()
        for p in services:
            _signal(p, signal.SIGTERM)
        if not _wait_gone(services, STOP_GRACE):
            for p in services:
                _signal(p, signal.SIGKILL)
        for p, comm in services.items():
            try:
                status = wait_exit(p, STOP_GRACE)
            except TimeoutError:
                status = "still running"
            self.service_exits.append((p, comm, status))
        self.bus.terminate()
        try:
            self.bus.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.bus.kill()
            self.bus.wait()
        _Popen_pids.discard(self.bus.pid)
        left = self.services()
        try:
            os.killpg(self.bus.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for p in left:
            _signal(p, signal.SIGKILL)
        _wait_gone(left, STOP_GRACE)
        self.bus = None

    # -- running things ---------------------------------------------------

    def run(self, argv, *, env=None, input=None, timeout=30, check=False, cwd=None):
        """Runs @argv in the session; returns a CompletedProcess (text)."""
        full_env = dict(self.env)
        full_env.update(env or {})
        return subprocess.run(
            argv,
            env=full_env,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
            cwd=cwd,
        )

    def spawn(self, argv, *, env=None, stdout=None, stderr=None, **kw):
        """Starts @argv in the background; it is stopped with the session.
        Output goes to logs/<program>.log unless given."""
        full_env = dict(self.env)
        full_env.update(env or {})
        if stdout is None or stderr is None:
            log = open(os.path.join(self.log_dir, os.path.basename(argv[0]) + ".log"), "ab")
        kw.setdefault("preexec_fn", _die_with_parent)
        p = subprocess.Popen(
            argv,
            env=full_env,
            stdin=kw.pop("stdin", subprocess.DEVNULL),
            stdout=log if stdout is None else stdout,
            stderr=log if stderr is None else stderr,
            **kw,
        )
        if stdout is None or stderr is None:
            log.close()
        _Popen_pids.add(p.pid)
        self._spawned.append(p)
        return p

    def forget(self, proc):
        """Stops tracking @proc (a test that waited for it itself)."""
        if proc in self._spawned:
            self._spawned.remove(proc)
        _Popen_pids.discard(proc.pid)

    def log(self):
        """Everything the bus and the services it activated wrote."""
        try:
            with open(self.bus_log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def _read_logs(self):
        logs = {}
        try:
            names = sorted(os.listdir(self.log_dir))
        except (OSError, TypeError):
            return logs
        for name in names:
            with open(os.path.join(self.log_dir, name), encoding="utf-8", errors="replace") as f:
                logs[name] = f.read()
        return logs

    def read_log(self, name):
        """The text of logs/@name (e.g. "mailsetupd.log" of spawn())."""
        if self.tmp is None:
            return self.final_logs.get(name, "")
        return self._read_logs().get(name, "")

    def bad_log_lines(self):
        """Sanitizer reports and GLib criticals in any log, so far or (after
        stop()) in the end."""
        logs = self._read_logs() if self.tmp is not None else self.final_logs
        return [
            f"{name}: {line}"
            for name, text in logs.items()
            for line in text.splitlines()
            if BAD_LOG_PATTERNS.search(line)
        ]

    # -- D-Bus ------------------------------------------------------------

    def busctl(self, *args, json_output=True, timeout=30):
        argv = ["busctl", "--user", "--no-pager"]
        if json_output:
            argv.append("--json=short")
        return self.run(argv + [str(a) for a in args], timeout=timeout)

    def call(
        self,
        method,
        signature="",
        *args,
        interface=MANAGER_IFACE,
        path=OBJECT_PATH,
        dest=BUS_NAME,
        timeout=30,
    ):
        """Calls a method with busctl; returns busctl's typed JSON reply
        ({"type": ..., "data": [...]}, or None for an empty reply).
        Raises DBusCallError (without the error name: busctl only prints
        the message; use call_error() for the name)."""
        argv = ["call", dest, path, interface, method]
        if signature:
            argv.append(signature)
            argv += list(args)
        r = self.busctl(*argv, timeout=timeout)
        if r.returncode != 0:
            msg = r.stderr.strip()
            msg = re.sub(r"^Call failed: ", "", msg)
            raise DBusCallError(None, msg, r.stderr)
        out = r.stdout.strip()
        return json.loads(out) if out else None

    def dbus_send(self, dest, path, member, *args, timeout=30):
        """dbus-send --print-reply; @args in dbus-send's syntax
        ("string:x", "int32:5").  Returns the CompletedProcess."""
        argv = [
            "dbus-send",
            "--session",
            "--print-reply",
            f"--reply-timeout={int(timeout * 1000)}",
            f"--dest={dest}",
            path,
            member,
        ] + list(args)
        return self.run(argv, timeout=timeout + 5)

    def call_error(
        self, method, *args, interface=MANAGER_IFACE, path=OBJECT_PATH, dest=BUS_NAME
    ):
        """Makes a call that must fail (with dbus-send, which prints the
        error name).  Returns (error name, message).  @args in dbus-send's
        syntax."""
        r = self.dbus_send(dest, path, f"{interface}.{method}", *args)
        if r.returncode == 0:
            raise AssertionError(f"{method}{args} succeeded:\n{r.stdout}")
        m = re.match(r"Error (\S+): (.*)", r.stderr.strip(), re.S)
        if not m:
            raise AssertionError(f"unexpected dbus-send output:\n{r.stderr}")
        return m.group(1), m.group(2)

    def gdbus(self, *args, timeout=30):
        return self.run(["gdbus"] + [str(a) for a in args], timeout=timeout)

    def bus_call(self, method, signature="", *args):
        """A call to the bus itself (org.freedesktop.DBus); plain values."""
        reply = self.call(
            method, signature, *args, interface=DBUS_NAME, path=DBUS_PATH, dest=DBUS_NAME
        )
        return plain(reply) if reply else []

    def name_has_owner(self, name=BUS_NAME):
        return self.bus_call("NameHasOwner", "s", name)[0]

    def name_owner_pid(self, name=BUS_NAME):
        return self.bus_call("GetConnectionUnixProcessID", "s", name)[0]

    def wait_for_name(self, name=BUS_NAME, present=True, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.name_has_owner(name) == present:
                return
            time.sleep(0.05)
        raise AssertionError(
            f"{name} {'never appeared' if present else 'did not go away'} "
            f"within {timeout} s\n--- bus log ---\n{self.log()}"
        )

    def wait_exit(self, pid, timeout=STOP_GRACE * 2):
        """See wait_exit(): the exit status of a service the bus started."""
        return wait_exit(pid, timeout)

    def activate(self, name=BUS_NAME):
        """Asks the bus to start @name's service; returns the owner's pid."""
        self.bus_call("StartServiceByName", "su", name, 0)
        return self.name_owner_pid(name)

    # -- files --------------------------------------------------------------

    def provider_override_dir(self):
        return self._mkdir("home", ".config", "mailsetup", "providers")

    def write_provider_override(self, filename, text):
        """Writes a user provider file that overrides the shipped one."""
        path = os.path.join(self.provider_override_dir(), filename)
        with open(path, "w") as f:
            f.write(text)
        return path


def _xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------
# unittest glue


class SessionTestCase(unittest.TestCase):
    """One Session per test class (self.session / cls.session).  At the end
    of the class the bus log is checked for sanitizer reports and GLib
    criticals, and printed to stderr (meson shows it when a test fails)."""

    components = ()
    session_env = None
    daemon_env = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.paths = Paths()
        cls.session = Session(components=cls.components, paths=cls.paths, env=cls.session_env,
                              daemon_env=cls.daemon_env)
        cls.session.__enter__()
        cls.addClassCleanup(cls._finish_session)

    @classmethod
    def _finish_session(cls):
        finish_session(cls.session, cls.__name__)

    def new_session(self, **kw):
        """A fresh Session of this test's own, stopped and checked after it."""
        kw.setdefault("paths", self.paths)
        s = Session(**kw)
        s.__enter__()
        self.addCleanup(finish_session, s, self.id())
        return s

    @property
    def s(self):
        return self.session

    def assertDBusError(self, name, method, *args, **kw):
        """Asserts that @method(@args) fails with @name; returns the message."""
        got, message = self.session.call_error(method, *args, **kw)
        self.assertEqual(got, name, message)
        return message


def finish_session(session, title):
    """Stops @session, prints its logs to stderr (meson shows them when a
    test fails) and fails on sanitizer reports or GLib criticals in them.
    The daemon gets SIGTERM first and runs its exit path, where the
    sanitizers report leaks."""
    session.stop()
    for name, text in session.final_logs.items():
        if text.strip():
            sys.stderr.write(f"--- {name} of {title} ---\n{text}--- end of {name} ---\n")
    bad = session.bad_log_lines()
    bad += [
        f"{comm} (pid {pid}) exited with status {status} when the session stopped"
        for pid, comm, status in session.service_exits
        if status not in (0, None)
    ]
    if bad:
        raise AssertionError("problems in the logs of " + title + ":\n" + "\n".join(bad))


def main():
    """unittest.main() that tells meson "skipped" (77) when every test was."""
    prog = unittest.main(module="__main__", exit=False, verbosity=2)
    result = prog.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0)


def need_program(name):
    """Skips the calling test class or test when @name is not installed."""
    if shutil.which(name) is None:
        raise unittest.SkipTest(f"{name} is not installed")


# --------------------------------------------------------------------------
# command line


def _cli(argv):
    parser = argparse.ArgumentParser(
        prog="harness.py", description="Run a command inside a throw-away mailsetup session."
    )
    parser.add_argument("--build-dir", help="the meson build directory (default: _build)")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run COMMAND on a private session bus")
    run.add_argument("--keep", action="store_true", help="keep the temporary directory")
    run.add_argument("--show-log", action="store_true", help="print the bus log afterwards")
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND")
    args = parser.parse_args(argv)

    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("no COMMAND given")
    paths = Paths(args.build_dir)
    for what in ("mailsetupd", "mailsetupctl"):
        if not os.access(getattr(paths, what), os.X_OK):
            parser.error(f"{getattr(paths, what)} is not built (see --build-dir)")
    if not os.path.isdir(paths.dbus_services_dir):
        parser.error(f"{paths.dbus_services_dir} does not exist (see --build-dir)")

    with Session(paths=paths, keep=args.keep) as s:
        extra = {
            "MAILSETUPD": paths.mailsetupd,
            "MAILSETUPCTL": paths.mailsetupctl,
            # The build tree first, so the command can call mailsetupctl.
            "PATH": os.path.dirname(paths.mailsetupctl) + os.pathsep + s.env.get("PATH", ""),
        }
        try:
            # If this process is killed, the command is told so too.
            rc = subprocess.call(cmd, env={**s.env, **extra}, preexec_fn=_die_with_parent)
        except FileNotFoundError:
            print(f"harness: {cmd[0]}: not found", file=sys.stderr)
            rc = 127
        except KeyboardInterrupt:
            rc = 130
    if (args.show_log or rc != 0) and s.final_log.strip():
        sys.stderr.write("--- bus log ---\n" + s.final_log)
    return rc


if __name__ == "__main__":
    sys.exit(_cli(sys.argv[1:]))
