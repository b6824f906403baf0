"""The freeze: a replica SIGSTOPped while one of its PostgreSQL backends is inside a transaction
that has written (so it holds row locks), for longer than the claim idle time, then SIGCONT.
The other replicas must keep answering meanwhile (checked in harness.conduct)."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable

from . import plan as schedule
from .evidence import Effect, Faults, Freeze
from .journal import Journal
from .pg import literal
from .procs import Proc
from .settings import Settings
from .stack import Stack

HELD = ("idle in transaction", "active", "idle in transaction (aborted)")


class Freezer:
    def __init__(self, stack: Stack, settings: Settings, journal: Journal, record: Faults,
                 stop: threading.Event, steady: Callable[[list[Proc]], bool]):
        self.stack, self.settings, self.journal, self.record = stack, settings, journal, record
        self.stop, self.steady = stop, steady

    def freeze_phase(self, phase: schedule.Phase) -> None:
        frozen = [f for f in (self.freeze(step.target) for step in phase.steps) if f]
        while not self.stop.is_set() and any(self.stack.procs[f.proc].thaw_at is not None for f in frozen):
            time.sleep(0.05)
        for f in frozen:
            f.resumed_at = time.time()
        self.stop.wait(schedule.FREEZE_QUIET)

    def freeze(self, key: str) -> Freeze | None:
        """SIGSTOPs the replica `key` at a moment one of its backends is inside a transaction
        (pg_stat_activity, polled inside PostgreSQL), checks once it is stopped that the backend
        still holds it, and schedules the SIGCONT after `freeze_secs`."""
        proc = self.stack.procs[key]
        app = self.stack.application_name(key)
        db = self.stack.dbs[key.rstrip("0123456789")]
        deadline = time.monotonic() + schedule.FREEZE_CATCH
        attempts = 0
        while time.monotonic() < deadline and not self.stop.is_set():
            if not self.steady([proc]):
                break
            attempts += 1
            hit = self.catch_in_transaction(proc, db, app)
            if hit is None:
                continue
            pid, xact = hit
            time.sleep(0.2)  # a statement in flight completes; a COMMIT sent would show as idle
            rows = self.stack.pg.rows(
                db, f"SELECT state, extract(epoch FROM xact_start)::text AS xact, query, "
                    f"backend_xid IS NOT NULL AS wrote FROM pg_stat_activity WHERE pid = {pid}")
            if rows and rows[0]["state"] in HELD and rows[0]["xact"] == xact and rows[0]["wrote"]:
                freeze = Freeze(key, pid, rows[0]["query"][:200], time.time())
                with proc.lock:
                    proc.freezes += 1
                    proc.thaw_at = time.monotonic() + self.settings.freeze_secs
                self.record.freezes.append(freeze)
                self.record.effects.append(Effect(
                    "freeze", True, f"{proc.name} stopped inside a transaction of backend {pid} "
                                    f"({rows[0]['state']}: {freeze.query[:80]!r}) after {attempts} attempt(s)"))
                self.journal.note(f"SIGSTOP {proc.name} for {self.settings.freeze_secs:.0f} s inside a transaction "
                                  f"(backend {pid}, {rows[0]['state']}, {freeze.query[:120]!r})")
                return freeze
            proc.signal(signal.SIGCONT)  # it had committed meanwhile: try again
        self.record.effects.append(Effect(
            "freeze", False, f"{proc.name} never caught inside a transaction ({attempts} attempts)"))
        self.journal.note(f"could not catch {proc.name} inside a transaction")
        return None

    def catch_in_transaction(self, proc: Proc, db: str, app: str) -> tuple[int, str] | None:
        """Polls pg_stat_activity from inside PostgreSQL (a DO block, every millisecond, for up to
        3 s) and SIGSTOPs `proc` the moment a backend of `app` is in a transaction that has
        written (it has a transaction id, so it holds row locks: an inbox row, a stock row, an
        outbox row). Returns the backend's (pid, xact_start as epoch text), or None."""
        block = f"""
DO $$
DECLARE hit record; deadline timestamptz := clock_timestamp() + interval '3 seconds';
BEGIN
  LOOP
    PERFORM pg_stat_clear_snapshot();
    SELECT pid, extract(epoch FROM xact_start)::text AS xact INTO hit FROM pg_stat_activity
     WHERE application_name = {literal(app)} AND backend_xid IS NOT NULL AND state <> 'idle'
       AND pid <> pg_backend_pid() LIMIT 1;
    IF FOUND THEN RAISE NOTICE 'chaos-hit % %', hit.pid, hit.xact; RETURN; END IF;
    EXIT WHEN clock_timestamp() > deadline;
    PERFORM pg_sleep(0.001);
  END LOOP;
END $$;"""
        psql = subprocess.Popen(self.stack.pg.argv(db, block), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        hit = None
        for line in psql.stderr:
            if "chaos-hit" in line and hit is None:
                with proc.lock:
                    if not proc.steady():
                        break
                    proc.signal(signal.SIGSTOP)
                words = line.split("chaos-hit", 1)[1].split()
                hit = (int(words[0]), words[1])
        psql.wait()
        return hit
