"""Carries out the plan (harness.plan) on a thread of its own: signals, connection drops, Redis
restarted empty, the products database outage, poison entries, clients hanging up mid-request
(harness.hangup), and the freezes (harness.freeze). Restarts are left to the main thread's supervisor (it owns every child). Each fault
records the evidence that it took effect."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import threading
import time

from resp import NotSent, RedisReplyError, pairs

from . import hangup
from . import plan as schedule
from .evidence import Effect, Faults
from .freeze import Freezer
from .journal import Journal
from .pg import literal
from .poison import Poison
from .procs import Proc
from .settings import Settings
from .stack import STREAMS, Stack
from .workload import Workload


class Injector:
    def __init__(self, stack: Stack, settings: Settings, journal: Journal, poisons: list[Poison],
                 workload: Workload):
        self.stack = stack
        self.workload = workload
        self.settings = settings
        self.journal = journal
        self.poisons = poisons
        self.rng = random.Random(settings.seed + 7)
        self.stop = stack.supervisor.stop_faults
        self.record = Faults()
        self.redis_lock = threading.Lock()  # a poison XADD and a wipe never interleave
        self.freezer = Freezer(stack, settings, journal, self.record, self.stop, self.steady)
        self.thread: threading.Thread | None = None

    def start(self, phases: list[schedule.Phase]) -> None:
        self.thread = threading.Thread(target=self.run, args=(phases,), daemon=True)
        self.thread.start()

    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def run(self, phases: list[schedule.Phase]) -> None:
        try:
            self.wait(schedule.START)
            for phase in phases:
                if self.stop.is_set():
                    return
                self.journal.note(f"phase {phase.name} (~{phase.length:.0f} s)")
                if phase.name == "freeze":
                    self.freezer.freeze_phase(phase)
                elif phase.name == "outage":
                    outage = threading.Thread(target=self.outage, daemon=True)
                    outage.start()
                    self.sequence(phase)
                    outage.join()
                else:
                    self.sequence(phase)
        except Exception as error:  # reported as a fault that did not take effect
            self.record.effects.append(Effect("injector", False, f"injector failed: {error!r}"))
            raise

    def wait(self, seconds: float) -> bool:
        """False when the run is being stopped."""
        return not self.stop.wait(seconds)

    def sequence(self, phase: schedule.Phase) -> None:
        began = time.monotonic()
        for step in phase.steps:
            if not self.wait(max(0.0, began + step.at - time.monotonic())):
                return
            getattr(self, step.action.lower())(step.target)
        self.wait(max(0.0, began + phase.length - time.monotonic()))

    def steady(self, procs: list[Proc], patience: float = 30) -> bool:
        deadline = time.monotonic() + patience
        while not self.stop.is_set() and time.monotonic() < deadline:
            if all(p.steady() for p in procs):
                return True
            time.sleep(0.1)
        return False

    # -- signals ---------------------------------------------------------------------------------

    def kill(self, target: str) -> None:
        self.signal(target, signal.SIGKILL)

    def term(self, target: str) -> None:
        self.signal(target, signal.SIGTERM)

    def signal(self, target: str, sig: int) -> None:
        proc = self.stack.procs[target]
        if not self.steady([proc]):  # not twice in a row before it came back
            self.journal.note(f"skipped {sig.name} of {proc.name}: not up")
            return
        pause = self.rng.uniform(0.5, 3.0) if not proc.service else self.rng.uniform(0.5, 5.0)
        with proc.lock:
            if not proc.alive():
                return
            pid = proc.popen.pid
            proc.expected_down = True
            proc.signal(sig)
            if sig == signal.SIGKILL:
                proc.sigkills += 1
                proc.restart_at = time.monotonic() + pause
            else:
                proc.sigterms += 1
        self.journal.note(f"{sig.name} {proc.name} (pid {pid}); restart in {pause:.1f} s")
        if sig == signal.SIGTERM:
            began = time.monotonic()
            try:
                proc.popen.wait(timeout=30)
                proc.term_waits.append(time.monotonic() - began)
            except subprocess.TimeoutExpired:
                proc.term_waits.append(float("inf"))
                self.journal.note(f"{proc.name} ignored SIGTERM for 30 s; SIGKILL")
                proc.signal(signal.SIGKILL)
            with proc.lock:
                proc.restart_at = time.monotonic() + pause

    # -- PostgreSQL --------------------------------------------------------------------------------

    def terminate_backends(self, db: str) -> int:
        return self.stack.pg.value(
            "postgres",
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = {literal(db)} AND pid <> pg_backend_pid()) AS t",
        )

    def pgdrop(self, side: str) -> None:
        """For about 2 s, drops every connection to one service's database every ~150 ms:
        transactions in flight fail (some commits succeed without the client hearing of it)."""
        db = self.stack.dbs[side]
        total = 0
        end = time.monotonic() + 2.0
        while time.monotonic() < end and not self.stop.is_set():
            try:
                total += self.terminate_backends(db)
            except Exception as error:
                self.journal.note(f"pg_terminate_backend failed: {error}")
            time.sleep(0.15)
        self.record.pg_terminations[side] = self.record.pg_terminations.get(side, 0) + 1
        self.journal.note(f"terminated {total} PostgreSQL connections of {side}-service over 2 s")

    def outage(self) -> None:
        """The products database refuses every connection for `outage_secs` (its backends are
        terminated again every second), then accepts them again."""
        db = self.stack.dbs["products"]
        pg = self.stack.pg
        began, began_wall = time.monotonic(), time.time()
        pg.run("postgres", f"ALTER DATABASE {db} WITH ALLOW_CONNECTIONS false")
        self.journal.note(f"products database outage for {self.settings.outage_secs:.0f} s "
                          f"(ALLOW_CONNECTIONS false, backends terminated every second)")
        terminated, refused = 0, None
        try:
            while time.monotonic() < began + self.settings.outage_secs and not self.stop.is_set():
                try:
                    terminated += self.terminate_backends(db)
                except Exception as error:
                    self.journal.note(f"pg_terminate_backend failed: {error}")
                if refused is None and time.monotonic() > began + 3:
                    try:
                        pg.run(db, "SELECT 1", timeout=10)
                        refused = "a probe connection was accepted"
                    except RuntimeError as error:
                        refused = str(error).splitlines()[0] if "not currently accepting" in str(error) else f"probe: {error}"
                self.stop.wait(1.0)
        finally:
            pg.run("postgres", f"ALTER DATABASE {db} WITH ALLOW_CONNECTIONS true")
        lasted = time.monotonic() - began
        self.record.outage = (began_wall, time.time())
        ok = bool(refused and "not currently accepting" in refused) and lasted >= self.settings.outage_secs - 1
        self.record.effects.append(Effect(
            "db-outage", ok, f"{lasted:.0f} s, {terminated} backends terminated, probe: {refused}"))
        self.journal.note(f"products database accepts connections again after {lasted:.0f} s "
                          f"({terminated} backends terminated)")

    # -- clients ---------------------------------------------------------------------------------

    def hangup(self, _target: str) -> None:
        """A burst of requests whose clients hang up mid-request (harness.hangup)."""
        if not self.steady([self.stack.procs["products"], self.stack.procs["orders"]]):
            self.journal.note("products-service or orders-service not up after 30 s: hanging up on it anyway")
        done = hangup.burst(self.stack, self.workload, self.rng)
        both = done.abandoned_searches > 0 and done.abandoned_posts > 0
        self.record.effects.append(Effect("hangups", both, done.describe()))
        self.journal.note(f"clients hung up mid-request: {done.describe()}")

    # -- Redis -------------------------------------------------------------------------------------

    def in_flight(self) -> dict[str, int]:
        """Entries of each stream its group has not settled: pending (read, unacked) and not yet
        delivered; plus entries waiting in a retry set."""
        redis = self.stack.redis
        counts = {}
        for stream, group in STREAMS.items():
            key = self.stack.key(stream)
            pending = undelivered = 0
            for g in redis("XINFO", "GROUPS", key):
                g = pairs(g)
                if g["name"] == group:
                    pending = g["pending"]
                    undelivered = len(redis("XRANGE", key, "(" + g["last-delivered-id"], "+"))
            counts[f"{stream} pending"] = pending
            counts[f"{stream} undelivered"] = undelivered
        counts["retrying"] = sum(redis("ZCARD", k) for k in redis.scan(f"*{self.stack.prefix}*retries*"))
        return counts

    def wipe(self, _target: str) -> None:
        """Redis SIGKILLed and restarted EMPTY (its AOF removed) with events in flight: every
        products-service replica is stopped for 2 s first, so order events back up unread."""
        redis = self.stack.procs["redis"]
        products = self.stack.replicas("products")
        everyone = [redis, *products, *self.stack.replicas("orders")]
        if not self.steady(everyone):
            self.record.effects.append(Effect("redis-wipe", False, "Redis or a service never came up to be wiped"))
            return
        for proc in products:
            with proc.lock:
                proc.signal(signal.SIGSTOP)
                proc.thaw_at = time.monotonic() + 30  # the supervisor's safety net
        self.journal.note("SIGSTOP every products-service replica for 2 s: orders_stream backs up")
        time.sleep(2.0)
        try:
            in_flight = self.in_flight()
        except Exception as error:
            in_flight = {"unknown": 0}
            self.journal.note(f"could not count the entries in flight: {error}")
        pause = self.rng.uniform(0.5, 3.0)
        with self.redis_lock, redis.lock:
            self.record.generation += 1
            redis.expected_down = True
            redis.signal(signal.SIGKILL)
        redis.popen.wait()
        for child in self.stack.redis_dir.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        left = list(self.stack.redis_dir.iterdir())
        with redis.lock:
            redis.sigkills += 1
            redis.restart_at = time.monotonic() + pause
        for proc in products:
            with proc.lock:
                proc.signal(signal.SIGCONT)
                proc.thaw_at = None
        self.record.wipes += 1
        lost = sum(in_flight.values())
        detail = ", ".join(f"{k} {v}" for k, v in in_flight.items())
        self.record.effects.append(Effect(
            "redis-wipe", lost > 0 and not left, f"{lost} entries in flight when Redis lost everything ({detail})"
            + (f"; files left in its dir: {left}" if left else "")))
        self.journal.note(f"SIGKILL redis and wipe its data dir (restart EMPTY in {pause:.1f} s): "
                          f"{lost} entries in flight ({detail}); products-service resumed")

    def poison(self, index: str) -> None:
        """XADDs one poison entry; retried while Redis is down. An XADD whose reply was lost is
        'uncertain' (it may or may not be in the stream)."""
        poison = self.poisons[int(index)]
        key = self.stack.key(poison.stream)
        flat = [part for pair in poison.fields for part in pair]
        deadline = time.monotonic() + 30
        while not self.stop.is_set():
            with self.redis_lock:
                poison.generation = self.record.generation
                try:
                    poison.entry_id = self.stack.redis("XADD", key, "*", *flat)
                    poison.outcome = "landed"
                except NotSent as error:
                    poison.history.append(str(error))
                except RedisReplyError as error:  # LOADING while Redis replays its AOF
                    poison.history.append(str(error))
                except (OSError, ConnectionError) as error:
                    poison.outcome = "uncertain"
                    poison.history.append(str(error))
            if poison.outcome in ("landed", "uncertain") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if poison.outcome == "planned":
            poison.outcome = "failed"
        self.record.effects.append(Effect(
            "poison", poison.outcome != "failed",
            f"{poison.stream} {poison.kind}: {poison.outcome} {poison.entry_id or ''} (event_id {poison.event_id})"))
        self.journal.note(f"poison entry on {poison.stream} ({poison.kind}): {poison.outcome} "
                          f"{poison.entry_id or ''}, event_id {poison.event_id}")
