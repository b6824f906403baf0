"""Fault injection for the marketplace (see chaos/README.md), run by `chaos/run`.

One concern per module: `settings` (the CHAOS_* knobs), `pg` (PostgreSQL access; Redis through
scripts/resp, the RESP client the benchmark uses too), `procs` and `stack` (the processes and how the stack is launched), `client` and
`workload` (the buyers), `plan`, `poison` and `faults` (what is injected when), `settle`
(quiescence), `observe` (the settled state, read once), `invariants` (pure checks on it),
`tamper` (CHAOS_TAMPER) and `report` (what is printed and kept). Standard library only, and the
packages of scripts/ (the stack launcher and the RESP client), put on `sys.path` here.
"""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[2] / "scripts"))
