"""What the run prints: each check with its violations, then a summary of what was injected and
which failure paths the services went through (counted from their logs), and the closing line
`N passed, N failed`."""

from __future__ import annotations

from collections import Counter

from .evidence import Faults
from .invariants import Check
from .procs import Proc

# Log lines of the services that show a failure path was taken (label -> needle).
EXERCISED = {
    "retry scheduled": "handler failed; retry scheduled",
    "reclaimed": "reclaimed an idle entry",
    "handed back at shutdown": "leaving unfinished entries pending",
    "zombie's entries taken over": "entries in flight were claimed by another consumer",
    "ack retried": "ack failed; will retry",
    "duplicate order.placed ignored": "order.placed for an order already seen",
    "late reservation released": "late reservation; releasing it",
    "release before/without hold": "nothing held for this order",
    "relay backoff": "outbox relay failed; backing off",
    "group re-created": "consumer group vanished; re-creating it",
    "dead-lettered": "handler failed for good",
    "undecodable dead-lettered": "undecodable entry",
}


def print_checks(checks: list[Check]) -> None:
    print()
    print("Invariants")
    for check in checks:
        outcome = check.summary if check.ok else f"{len(check.failures)} violation(s)"
        print(f"  [{'PASS' if check.ok else 'FAIL'}] {check.name}: {outcome}")
        for line in check.failures[:12]:
            print(f"         - {line}")
        if len(check.failures) > 12:
            print(f"         ... and {len(check.failures) - 12} more")


def exercised(procs: list[Proc]) -> dict[str, int]:
    counts: Counter = Counter()
    for proc in procs:
        if proc.service:
            text = proc.log_text()
            for label, needle in EXERCISED.items():
                counts[label] += text.count(needle)
    return {k: v for k, v in counts.items() if v}


def print_summary(procs: list[Proc], faults: Faults | None, paths: dict[str, int], orders, seconds: float,
                  seed: int) -> None:
    print()
    print("Summary")
    for p in procs:
        print(f"  {p.name}: {p.sigkills} SIGKILL, {p.sigterms} SIGTERM, {p.freezes} SIGSTOP, {p.starts} starts, "
              f"{len(p.startup_failures)} refused start-ups, {len(p.crashes)} crashes")
    if faults is not None:
        print(f"  PostgreSQL connection-drop bursts: {faults.pg_terminations}; Redis wipes: {faults.wipes}; "
              f"freezes: {len(faults.freezes)}; products database outage: "
              f"{f'{faults.outage[1] - faults.outage[0]:.0f} s' if faults.outage else 'none'}")
    print(f"  paths exercised (log lines): {paths}")
    fates = Counter(r.fate for r in orders)
    print(f"  orders acknowledged: {len(orders)} (intended fates {dict(fates)}); logs in chaos/last-run/")
    print(f"  total time {seconds:.0f} s (seed {seed})")


def closing_line(checks: list[Check]) -> tuple[int, int]:
    passed = sum(c.ok for c in checks)
    failed = len(checks) - passed
    print(f"{passed} passed, {failed} failed")
    return passed, failed
