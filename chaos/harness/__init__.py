"""Fault injection for the marketplace (see chaos/README.md), run by `chaos/run`.

One concern per module: `settings` (the CHAOS_* knobs), `resp` and `pg` (Redis and PostgreSQL
access), `procs` and `stack` (the processes and how the stack is launched), `client` and
`workload` (the buyers), `plan`, `poison` and `faults` (what is injected when), `settle`
(quiescence), `observe` (the settled state, read once), `invariants` (pure checks on it),
`tamper` (CHAOS_TAMPER) and `report` (what is printed and kept). Standard library only.
"""
