"""The child processes: how each is started (from the main thread, with PR_SET_PDEATHSIG, so
nothing outlives the runner), and the supervisor that restarts what a fault stopped and records
every exit the runner did not cause."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .journal import Journal, log

_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _die_with_parent() -> None:
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def http_ready(url: str) -> Callable[[], bool]:
    def answers() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except Exception:
            return False

    return answers


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    health: Callable[[], bool]
    cwd: Path
    service: bool = True  # False: Redis
    popen: subprocess.Popen | None = None
    expected_down: bool = False  # we stopped it; a restart is scheduled
    restart_at: float | None = None
    was_up: bool = False  # answered since its last start
    starts: int = 0
    sigkills: int = 0
    sigterms: int = 0
    crashes: list[str] = field(default_factory=list)  # exits we did not cause, after being up
    startup_failures: list[str] = field(default_factory=list)  # exits before answering
    term_waits: list[float] = field(default_factory=list)
    thaw_at: float | None = None  # SIGSTOPped until then
    freezes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        """Main thread only (PR_SET_PDEATHSIG is per spawning thread)."""
        assert threading.current_thread() is threading.main_thread()
        with open(self.log_path, "ab") as out:
            out.write(f"\n===== chaos: start #{self.starts + 1} at {time.strftime('%H:%M:%S')} =====\n".encode())
            out.flush()
            self.popen = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent, cwd=self.cwd,
            )
        self.starts += 1
        self.was_up = False
        self.expected_down = False
        self.restart_at = None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def answers(self) -> bool:
        return self.alive() and self.health()

    def steady(self) -> bool:
        """Up, answered since its start, and no fault of ours pending on it."""
        return (self.alive() and self.was_up and not self.expected_down
                and self.restart_at is None and self.thaw_at is None)

    def signal(self, sig: int) -> None:
        if self.alive():
            self.popen.send_signal(sig)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join("      " + line for line in text[-lines:])

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


class Supervisor:
    """Runs on the main thread: restarts what is due, thaws what is due, notices exits we did not
    cause, marks readiness. Fault threads only set `restart_at` / `thaw_at`."""

    def __init__(self, procs: dict[str, Proc], journal: Journal):
        self.procs = procs
        self.journal = journal
        self.stop_faults = threading.Event()

    def wait_up(self, name: str, patience: float) -> None:
        proc = self.procs[name]
        deadline = time.monotonic() + patience
        while not proc.answers():
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.log_tail(30)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{proc.name} not ready after {patience:.0f} s:\n{proc.log_tail(30)}")
            time.sleep(0.2)
        proc.was_up = True

    def once(self) -> None:
        now = time.monotonic()
        for proc in self.procs.values():
            with proc.lock:
                if proc.thaw_at is not None and (now >= proc.thaw_at or self.stop_faults.is_set()):
                    if proc.alive():
                        proc.signal(signal.SIGCONT)
                        self.journal.note(f"SIGCONT {proc.name}")
                    proc.thaw_at = None
                if proc.restart_at is not None and now >= proc.restart_at and not proc.alive():
                    proc.start()
                    continue
                if proc.popen is not None and not proc.alive() and not proc.expected_down:
                    code = proc.popen.returncode
                    what = f"{time.strftime('%H:%M:%S')} exit code {code}\n{proc.log_tail(12)}"
                    (proc.crashes if proc.was_up else proc.startup_failures).append(what)
                    log(f"{proc.name} exited by itself (code {code}, "
                        f"{'after' if proc.was_up else 'before'} answering); restarting in 1 s")
                    proc.expected_down = True
                    proc.restart_at = now + 1.0
                    continue
            if proc.alive() and not proc.was_up and proc.thaw_at is None and proc.answers():
                proc.was_up = True

    def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.once()
            time.sleep(0.1)

    def run_until(self, done: Callable[[], bool], patience: float) -> bool:
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            self.once()
            if done():
                return True
            time.sleep(0.1)
        return done()

    def all_steady(self) -> bool:
        return all(p.steady() for p in self.procs.values())
