"""The CHAOS_* knobs (documented in chaos/README.md), read once from the environment."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

# Every fault the run knows, in the order the README describes them.
FAULTS = ("kills", "pg-drops", "poison", "freeze", "redis-wipe", "db-outage", "hangups")
# What a run injects unless CHAOS_FAULTS says otherwise: every fault (stream-lib 2 survives them all).
DEFAULT_FAULTS = FAULTS


@dataclass(frozen=True)
class Settings:
    faults: frozenset[str]
    seed: int
    duration: float  # seconds of the kill phase
    kills: int
    pg_kills: int
    workers: int
    quiesce_secs: float
    pending_timeout: int
    reservation_ttl: int
    replicas: int
    freeze_secs: float
    outage_secs: float
    poisons: int
    hangups: int
    claim_idle_ms: int
    handler_deadline_ms: int
    progress_margin: float
    answer_wait: float
    tamper: bool
    keep: bool
    pg_url: str

    @property
    def progress_limit(self) -> float:
        """How long an order placed while a replica is frozen may wait for its answer: the
        handler deadline plus the claim idle time plus a margin (reclaim pass, retry backoff)."""
        return (self.handler_deadline_ms + self.claim_idle_ms) / 1000 + self.progress_margin

    def has(self, fault: str) -> bool:
        assert fault in FAULTS, fault
        return fault in self.faults

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        def number(name: str, default: str, kind=float, low=0):
            raw = env.get(name, default)
            try:
                value = kind(raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r} is not a number") from None
            if value < low:
                raise ValueError(f"{name}={raw!r} must be at least {low}")
            return value

        settings = cls(
            faults=parse_faults(env.get("CHAOS_FAULTS", "")),
            seed=number("CHAOS_SEED", str(random.SystemRandom().randrange(1, 10**9)), int, 1),
            duration=number("CHAOS_DURATION", "60", float, 10),
            kills=number("CHAOS_KILLS", "3", int),
            pg_kills=number("CHAOS_PG_KILLS", "2", int),
            workers=number("CHAOS_WORKERS", "6", int, 1),
            quiesce_secs=number("CHAOS_QUIESCE_SECS", "180"),
            pending_timeout=number("CHAOS_PENDING_TIMEOUT", "90", int, 1),
            reservation_ttl=number("CHAOS_RESERVATION_TTL", "15", int, 1),
            replicas=number("CHAOS_REPLICAS", "2", int, 1),
            freeze_secs=number("CHAOS_FREEZE_SECS", "45"),
            outage_secs=number("CHAOS_OUTAGE_SECS", "150", float, 5),
            poisons=number("CHAOS_POISON", "6", int),
            hangups=number("CHAOS_HANGUPS", "2", int),
            claim_idle_ms=number("CHAOS_CLAIM_IDLE_MS", "10000", int, 100),
            handler_deadline_ms=number("CHAOS_HANDLER_DEADLINE_MS", "10000", int, 100),
            progress_margin=number("CHAOS_PROGRESS_MARGIN", "10"),
            answer_wait=number("CHAOS_ANSWER_WAIT", "15", float, 1),
            tamper=env.get("CHAOS_TAMPER") == "1",
            keep=env.get("CHAOS_KEEP") == "1",
            pg_url=env.get("CHAOS_PG", "postgres://postgres@127.0.0.1:5432"),
        )
        if settings.has("freeze") and settings.replicas < 2:
            raise ValueError("the freeze fault needs CHAOS_REPLICAS=2 (a replica to take over)")
        if settings.has("freeze") and settings.freeze_secs * 1000 <= settings.claim_idle_ms:
            raise ValueError("CHAOS_FREEZE_SECS must exceed the claim idle time (CHAOS_CLAIM_IDLE_MS)")
        return settings


def parse_faults(raw: str) -> frozenset[str]:
    """`""` -> the defaults; `all` -> every fault; otherwise a comma list of names, where
    `+name` / `-name` add to or remove from the defaults."""
    raw = raw.strip()
    if not raw:
        return frozenset(DEFAULT_FAULTS)
    if raw == "all":
        return frozenset(FAULTS)
    words = [w.strip() for w in raw.split(",") if w.strip()]
    relative = all(w[0] in "+-" for w in words)
    if not relative and any(w[0] in "+-" for w in words):
        raise ValueError(f"CHAOS_FAULTS={raw!r}: mix of absolute and +/- names")
    chosen = set(DEFAULT_FAULTS) if relative else set()
    for word in words:
        name = word.lstrip("+-")
        if name not in FAULTS:
            raise ValueError(f"CHAOS_FAULTS: unknown fault {name!r} (known: {', '.join(FAULTS)}, all)")
        if word.startswith("-"):
            chosen.discard(name)
        else:
            chosen.add(name)
    return frozenset(chosen)
