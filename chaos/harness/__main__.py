"""`python3 -m harness` (from chaos/): start the stack, run the workload through the fault
phases, wait for quiescence, check the invariants, take everything down."""

from __future__ import annotations

import os
import random
import signal
import sys
import time
import traceback

from . import plan, poison, settle
from .conduct import all_checks
from .faults import Injector
from .invariants import Check
from .journal import Journal, log
from .observe import Facts, ProcFacts, observe
from .report import closing_line, exercised, print_checks, print_summary
from .settings import Settings
from .stack import ROOT, Stack
from .tamper import tamper
from .workload import Workload


def run_workload(stack: Stack, settings: Settings, workload: Workload, injector: Injector,
                 phases: list[plan.Phase]) -> None:
    supervisor = stack.supervisor
    log(f"RESERVATION_TTL_SECS={settings.reservation_ttl}, PENDING_TIMEOUT_SECS={settings.pending_timeout}, "
        f"STREAM_CLAIM_IDLE_MS={settings.claim_idle_ms}, STREAM_HANDLER_DEADLINE_MS={settings.handler_deadline_ms}")
    log(f"workload with {settings.workers} buyers through: {plan.describe(phases)}")
    t0 = time.monotonic()
    workload.start()
    injector.start(phases)
    while injector.running():
        supervisor.once()
        time.sleep(0.1)
    workload.stop.set()
    supervisor.stop_faults.set()
    # Everything must be up again before the flows in flight can finish.
    supervisor.run_until(supervisor.all_steady, 90)
    log("faults stopped; every process is up again; waiting for the buyers' last flows")
    supervisor.run_until(lambda: not workload.running(), settings.answer_wait + 90)
    kills = {p.name: (p.sigkills, p.sigterms) for p in stack.procs.values()}
    log(f"workload done after {time.monotonic() - t0:.0f} s: {len(workload.orders)} orders; "
        f"(SIGKILL, SIGTERM) per process: {kills}")


def facts_of(stack: Stack, settings: Settings, workload: Workload, injector: Injector, quiescent: bool,
             poisons: list[poison.Poison]) -> Facts:
    return Facts(
        initial_stock={pid: info["stock"] for pid, info in workload.products.items()},
        client_orders=list(workload.orders),
        gave_up_posts=workload.gave_up_posts,
        client_errors=list(workload.client_errors),
        procs=[ProcFacts(p.name, p.service, p.alive(), p.crashes, len(p.startup_failures), p.term_waits, p.log_text())
               for p in stack.procs.values()],
        quiescent=quiescent,
        poisons=poisons,
        generation=injector.record.generation,
        freezes=injector.record.freezes,
        progress_limit=settings.progress_limit,
        effects=injector.record.effects,
        expected_effects=plan.expected_effects(settings),
        harness_errors=list(workload.harness_errors),
    )


def main() -> int:
    journal = Journal()
    try:
        settings = Settings.from_env(os.environ)
    except ValueError as error:
        log(f"bad setting: {error}")
        print("0 passed, 1 failed")
        return 1
    stack = Stack(settings, journal)
    phases = plan.build(settings, random.Random(settings.seed))
    poisons = poison.batch(settings.poisons if settings.has("poison") else 0, random.Random(settings.seed + 11))
    log(f"seed {settings.seed} (CHAOS_SEED={settings.seed} repeats the fault schedule and choices); "
        f"run {stack.run_id}; faults {','.join(sorted(settings.faults))}")
    started = time.monotonic()

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    checks: list[Check] = []
    workload = injector = None
    try:
        stack.start()
        workload = Workload(stack, settings)
        workload.populate()
        injector = Injector(stack, settings, journal, poisons, workload)
        run_workload(stack, settings, workload, injector, phases)
        quiescent, _ = settle.quiesce(stack, settings.quiesce_secs)
        facts = facts_of(stack, settings, workload, injector, quiescent, poisons)
        if settings.tamper:
            tamper(stack, facts)
        checks = all_checks(observe(stack), facts)
        print_checks(checks)
    except KeyboardInterrupt:
        log("interrupted")
        checks.append(Check("run completed", ["interrupted"], ""))
    except Exception:
        log("harness failure:\n" + traceback.format_exc())
        checks.append(Check("run completed", ["harness failure"], ""))
    finally:
        stack.supervisor.stop_faults.set()
        stack.stop()
        paths = exercised(list(stack.procs.values()))
        stack.archive(ROOT / "chaos" / "last-run")
    print_summary(list(stack.procs.values()), injector and injector.record, paths,
                  workload.orders if workload else [], time.monotonic() - started, settings.seed)
    passed, failed = closing_line(checks)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
