"""The fault schedule, a pure function of the settings and the seed. The workload runs through
phases, one after the other:

1. `freeze` (fault `freeze`): one products replica and one orders replica SIGSTOPped inside a
   transaction, nothing else injected, so the other replicas' progress can be measured;
2. `kills`: SIGKILL/SIGTERM of the services and Redis (`kills`), connection-drop bursts
   (`pg-drops`), Redis restarted empty (`redis-wipe`, early in the phase so later poison
   entries outlive it), poison entries (`poison`) and bursts of clients hanging up mid-request
   (`hangups`), shuffled over `CHAOS_DURATION` seconds;
3. `outage` (fault `db-outage`): the products database refuses connections for
   `CHAOS_OUTAGE_SECS` while the faults that do not need products-service (orders-service,
   auth-service and Redis kills, orders-database drops, half the poison entries) go on;
4. `tail`: a few seconds of plain workload.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .settings import Settings

START = 4.0  # seconds of workload before the first phase
TAIL = 8.0
FREEZE_TARGETS = ("products", "orders2")  # serve no buyer traffic: freezing them stalls no buyer
FREEZE_CATCH = 30.0  # how long to try to catch a replica inside a transaction
FREEZE_QUIET = 10.0  # no fault after the last SIGCONT, so late answers are the freeze's doing


@dataclass(frozen=True)
class Step:
    at: float  # seconds after the phase began
    action: str  # KILL TERM PGDROP WIPE POISON HANGUP FREEZE
    target: str  # process key, database side ("products"/"orders"), or poison index


@dataclass
class Phase:
    name: str
    length: float  # nominal seconds; the freeze and outage phases last until they are done
    steps: list[Step] = field(default_factory=list)


def build(settings: Settings, rng: random.Random) -> list[Phase]:
    phases = []
    if settings.has("freeze"):
        phases.append(Phase(
            "freeze",
            settings.freeze_secs + FREEZE_QUIET,
            [Step(0.0, "FREEZE", target) for target in FREEZE_TARGETS],
        ))
    outage = settings.has("db-outage")
    kill_steps: list[tuple[str, str]] = []
    outage_steps: list[tuple[str, str]] = []

    def place(action: str, target: str, kill_phase: bool) -> None:
        """`kill_phase`: never during the outage (it needs products-service and its database)."""
        (outage_steps if outage and not kill_phase else kill_steps).append((action, target))

    if settings.has("kills"):
        for target in ("products", "orders", "redis"):
            for _ in range(settings.kills):
                place("KILL", target, target == "products")
        for target in ("products", "orders", "auth"):
            place("TERM", target, target == "products")
        if settings.replicas >= 2:
            place("KILL", "products2", True)
            place("KILL", "orders2", False)
    if settings.has("pg-drops"):
        for target in ("products", "orders"):
            for _ in range(settings.pg_kills):
                place("PGDROP", target, target == "products")
    if settings.has("poison"):
        for index in range(settings.poisons):
            # With an outage, the second half is injected while products-service cannot reach
            # its database (dead-lettering must not depend on it).
            place("POISON", str(index), index < settings.poisons // 2 or not outage)

    if settings.has("hangups"):
        for _ in range(settings.hangups):
            place("HANGUP", "clients", True)  # searches need products-service

    kills = Phase("kills", settings.duration, spread(kill_steps, settings.duration, rng))
    if settings.has("redis-wipe"):
        # Early, so the poison entries and events after it are checked against the empty Redis.
        kills.steps.append(Step(rng.uniform(0.15, 0.4) * settings.duration, "WIPE", "redis"))
        kills.steps.sort(key=lambda s: s.at)
    phases.append(kills)
    if outage:
        # The first and last few seconds of the outage stay quiet: the outage itself is the fault.
        inner = max(settings.outage_secs - 20, 1)
        phases.append(Phase("outage", settings.outage_secs,
                            [Step(s.at + 10, s.action, s.target) for s in spread(outage_steps, inner, rng)]))
    phases.append(Phase("tail", TAIL))
    return phases


def expected_effects(settings: Settings) -> dict[str, int]:
    """How many pieces of evidence each fault whose effect is checked must leave."""
    counts = {"freeze": len(FREEZE_TARGETS), "redis-wipe": 1, "db-outage": 1, "poison": settings.poisons,
              "hangups": settings.hangups}
    return {fault: n for fault, n in counts.items() if settings.has(fault) and n}


def spread(steps: list[tuple[str, str]], length: float, rng: random.Random) -> list[Step]:
    """Shuffles `steps` and gives each its own slot of `length`, at a random point in its first
    80 %, so no two come too close."""
    steps = list(steps)
    rng.shuffle(steps)
    if not steps:
        return []
    slot = length / len(steps)
    return [Step(i * slot + rng.uniform(0, slot * 0.8), action, target)
            for i, (action, target) in enumerate(steps)]


def describe(phases: list[Phase]) -> str:
    parts = []
    for phase in phases:
        counts: dict[str, int] = {}
        for step in phase.steps:
            label = f"{step.action} {step.target}" if step.action in ("KILL", "TERM", "PGDROP", "FREEZE") else step.action
            counts[label] = counts.get(label, 0) + 1
        what = ", ".join(f"{k} x{v}" if v > 1 else k for k, v in counts.items()) or "no fault"
        parts.append(f"{phase.name} ~{phase.length:.0f} s ({what})")
    return "; ".join(parts)
