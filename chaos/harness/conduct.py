"""How the run went, checked: processes survived the faults, the dead-letter stream holds exactly
the poison entries, the other replicas kept answering while one was frozen, every injected
fault took effect, no service panicked, no transaction was left on a pooled connection. Pure
functions of `Observed` and `Facts`."""

from __future__ import annotations

from collections import Counter

from .invariants import STATE_CHECKS, Check
from .observe import Facts, Observed
from .stack import STREAMS


def processes(obs: Observed, facts: Facts) -> Check:
    failures = []
    for proc in facts.procs:
        failures += [f"{proc.name} exited by itself after answering: {crash}" for crash in proc.crashes]
        failures += [f"{proc.name} took {w:.1f} s to stop on SIGTERM" for w in proc.term_waits if w > 20]
        if not proc.alive:
            failures.append(f"{proc.name} is not running at the end")
    refused = sum(p.startup_failures for p in facts.procs)
    return Check("processes survive faults and stop on SIGTERM", failures,
                 f"no exit we did not cause once up; {refused} start-up attempt(s) refused while a dependency was down")


def dead_letters_are_the_poison(obs: Observed, facts: Facts) -> Check:
    """Every poison entry that landed in the surviving Redis data is dead-lettered exactly once,
    from its own stream and group; an entry whose XADD reply was lost at most once; nothing else
    (no real event) is a dead letter. Poison entries of a Redis generation that was wiped are
    gone with it."""
    failures = []
    by_event = {p.event_id: p for p in facts.poisons}
    by_origin = {(p.stream, p.entry_id): p for p in facts.poisons if p.entry_id}
    seen: Counter = Counter()
    attempts: Counter = Counter()
    for letter in obs.dead_letters:
        origin_stream = letter.get("origin_stream", "")
        logical = next((s for s in STREAMS if origin_stream.endswith(s)), origin_stream)
        poison = by_event.get(letter.get("event_id")) or by_origin.get((logical, letter.get("origin_id")))
        if poison is None:
            failures.append(f"dead letter {letter['_id']}: {letter.get('type')} {letter.get('event_id')} from "
                            f"{origin_stream} group {letter.get('group')} after {letter.get('attempts')} attempts: "
                            f"{letter.get('error')}")
            continue
        seen[poison.event_id] += 1
        attempts[letter.get("attempts")] += 1
        if logical != poison.stream or letter.get("group") != STREAMS[poison.stream]:
            failures.append(f"poison {poison.event_id} ({poison.kind}) dead-lettered as {origin_stream} / "
                            f"{letter.get('group')}, injected on {poison.stream}")
        if poison.entry_id and letter.get("origin_id") != poison.entry_id:
            failures.append(f"poison {poison.event_id}: dead letter names origin {letter.get('origin_id')}, "
                            f"injected as {poison.entry_id}")
    expected = 0
    for poison in facts.poisons:
        n = seen[poison.event_id]
        current = poison.generation == facts.generation
        if poison.outcome == "landed" and current:
            expected += 1
            if n != 1:
                failures.append(f"poison {poison.event_id} on {poison.stream} ({poison.kind}): {n} dead letters, expected 1")
        elif poison.outcome == "uncertain" and current:
            if n > 1:
                failures.append(f"poison {poison.event_id} (XADD reply lost): {n} dead letters, expected at most 1")
        elif n:
            failures.append(f"poison {poison.event_id} ({poison.outcome}, Redis generation {poison.generation} "
                            f"of {facts.generation}) has {n} dead letter(s): the wipe did not wipe?")
    wiped = sum(1 for p in facts.poisons if p.generation != facts.generation)
    return Check("the dead-letter stream holds exactly the poison entries", failures,
                 f"{len(facts.poisons)} poison entries injected ({wiped} lost with a Redis wipe), "
                 f"{len(obs.dead_letters)} dead letters, {expected} expected; attempts {dict(attempts)}")


def first_answer(history: list[dict]) -> dict | None:
    """The first transition out of PENDING that the inventory (or the pending timeout) caused."""
    for step in history:
        if step["from_status"] == "PENDING":
            return step if step["to_status"] in ("CONFIRMED", "REJECTED") else None
    return None


def progress_while_frozen(obs: Observed, facts: Facts) -> Check:
    """Every order in flight when a replica was frozen, or placed while it was, was answered
    (CONFIRMED, or REJECTED by the inventory) within the handler deadline plus the claim idle
    time plus a margin, counted from the freeze for the orders placed before it: the other
    replicas were not held up by the frozen one's locks or entries for longer than that."""
    failures = []
    start = min(f.stopped_at for f in facts.freezes)
    end = max(f.resumed_at or f.stopped_at for f in facts.freezes)
    slowest, answered, cancelled = 0.0, 0, 0
    for oid, order in obs.orders.items():
        if order["created"] > end:
            continue
        history = obs.history.get(oid, [])
        answer = first_answer(history)
        if answer is None:
            cancel = next((h for h in history if h["from_status"] == "PENDING" and h["to_status"] == "CANCELLED"), None)
            if cancel is None:
                failures.append(f"order {oid}, in flight during the freeze, never answered")
            elif cancel["at"] >= start:
                cancelled += 1  # the buyer cancelled before any answer: says nothing either way
            continue
        if answer["at"] < start:
            continue  # answered before the first freeze
        latency = answer["at"] - max(order["created"], start)
        slowest = max(slowest, latency)
        if answer["reason"] == "timeout":
            failures.append(f"order {oid}, in flight during the freeze, timed out after {latency:.1f} s unanswered")
        elif latency > facts.progress_limit:
            failures.append(f"order {oid}, in flight during the freeze, answered after {latency:.1f} s "
                            f"(limit {facts.progress_limit:.0f} s)")
        else:
            answered += 1
    if answered == 0 and not failures:
        failures.append("no order in flight during the freeze was answered: progress not shown")
    return Check("the other replicas kept answering while one was frozen in a transaction", failures,
                 f"{answered} orders in flight during {end - start:.0f} s of freezes answered, slowest {slowest:.1f} s "
                 f"(limit {facts.progress_limit:.0f} s, counted from the freeze); {cancelled} cancelled by the buyer first")


def faults_took_effect(obs: Observed, facts: Facts) -> Check:
    failures = [f"{e.fault}: {e.detail}" for e in facts.effects if not e.ok]
    done = Counter(e.fault for e in facts.effects)
    for fault, count in facts.expected_effects.items():
        if done[fault] != count:
            failures.append(f"{fault}: {done[fault]} of {count} injected")
    shown = "; ".join(f"{e.fault}: {e.detail}" for e in facts.effects if e.ok and e.fault != "poison")
    return Check("every injected fault took effect", failures,
                 f"{dict(done)}" + (f"; {shown}" if shown else ""))


def service_log_lines(facts: Facts, signs: tuple[str, ...]) -> list[str]:
    """Every service log line holding one of `signs`, named by its service."""
    return [f"{p.name}: {line.strip()[:300]}" for p in facts.procs if p.service
            for line in p.log.splitlines() if any(sign in line for sign in signs)]


def no_panics(obs: Observed, facts: Facts) -> Check:
    return Check("no panic in the service logs", service_log_lines(facts, ("panicked",)), "none")


# What a service logs when a connection it took from its pool is still inside a transaction that
# an abandoned request left (PostgreSQL's notice on the next BEGIN, and the error of a write in a
# READ ONLY transaction left by a catalog search).
LEAKED_TRANSACTION = ("there is already a transaction in progress", "in a read-only transaction")


def no_leaked_transactions(obs: Observed, facts: Facts) -> Check:
    """No request cut short (a client hanging up, a handler past its deadline) left its
    transaction on a pooled connection for the next borrower."""
    return Check("no transaction left behind on a pooled connection",
                 service_log_lines(facts, LEAKED_TRANSACTION), "no service logged a leaked transaction")


def all_checks(obs: Observed, facts: Facts) -> list[Check]:
    checks = [processes(obs, facts)]
    checks += [check(obs, facts) for check in STATE_CHECKS]
    checks.append(dead_letters_are_the_poison(obs, facts))
    if facts.freezes:
        checks.append(progress_while_frozen(obs, facts))
    if facts.expected_effects:
        checks.append(faults_took_effect(obs, facts))
    checks.append(no_panics(obs, facts))
    checks.append(no_leaked_transactions(obs, facts))
    if facts.harness_errors:
        checks.append(Check("harness ran without internal errors",
                            [e.strip().splitlines()[-1] for e in facts.harness_errors], ""))
    return checks
