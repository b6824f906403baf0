"""What the faults leave behind as evidence: each fault's proof that it took effect, the freezes'
windows, the outage's window, the Redis generation (bumped by each wipe)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Freeze:
    proc: str
    pid: int  # the PostgreSQL backend that was inside a transaction
    query: str  # its last statement, as pg_stat_activity showed it once the replica was stopped
    stopped_at: float  # wall clock
    resumed_at: float | None = None


@dataclass
class Effect:
    """Evidence that one injected fault really happened (a fault that did not take effect tests
    nothing, so it fails the run)."""
    fault: str
    ok: bool
    detail: str


@dataclass
class Faults:
    """What was injected; read by the invariants and the report."""
    effects: list[Effect] = field(default_factory=list)
    freezes: list[Freeze] = field(default_factory=list)
    outage: tuple[float, float] | None = None  # wall clock
    pg_terminations: dict[str, int] = field(default_factory=dict)
    wipes: int = 0
    generation: int = 0  # bumped by each Redis wipe
