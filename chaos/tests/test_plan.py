import random
import unittest

from harness import plan
from harness.settings import Settings


def build(faults: str, **env):
    settings = Settings.from_env({"CHAOS_SEED": "42", "CHAOS_FAULTS": faults, **env})
    return settings, plan.build(settings, random.Random(settings.seed))


class Plan(unittest.TestCase):
    def test_phases_follow_the_faults(self):
        _, phases = build("all")
        self.assertEqual([p.name for p in phases], ["freeze", "kills", "outage", "tail"])
        _, phases = build("kills")
        self.assertEqual([p.name for p in phases], ["kills", "tail"])

    def test_the_same_seed_gives_the_same_schedule(self):
        self.assertEqual(build("all")[1], build("all")[1])

    def test_nothing_needing_products_service_happens_during_the_outage(self):
        settings, phases = build("all")
        outage = next(p for p in phases if p.name == "outage")
        self.assertTrue(outage.steps)
        for step in outage.steps:
            self.assertNotIn(step.target, ("products", "products2"))
            self.assertNotIn(step.action, ("WIPE", "HANGUP"))
            self.assertTrue(10 <= step.at <= settings.outage_secs - 10)

    def test_every_step_is_placed_once(self):
        settings, phases = build("all")
        steps = [s for p in phases for s in p.steps]

        def count(action: str) -> int:
            return sum(s.action == action for s in steps)

        self.assertEqual(count("KILL"), 3 * settings.kills + 2)
        self.assertEqual(count("TERM"), 3)
        self.assertEqual(count("PGDROP"), 2 * settings.pg_kills)
        self.assertEqual(count("WIPE"), 1)
        self.assertEqual(count("HANGUP"), settings.hangups)
        self.assertEqual(sorted(int(s.target) for s in steps if s.action == "POISON"), list(range(settings.poisons)))
        self.assertEqual(count("FREEZE"), 2)

    def test_the_wipe_comes_early_in_its_phase_and_steps_are_in_order(self):
        settings, phases = build("redis-wipe,poison,kills")
        kills = phases[0]
        wipe = next(s for s in kills.steps if s.action == "WIPE")
        self.assertLess(wipe.at, 0.4 * settings.duration)
        self.assertEqual(kills.steps, sorted(kills.steps, key=lambda s: s.at))
        self.assertTrue(any(s.action == "POISON" and s.at > wipe.at for s in kills.steps))

    def test_the_freeze_phase_is_quiet(self):
        _, phases = build("all")
        self.assertEqual({s.action for s in phases[0].steps}, {"FREEZE"})

    def test_expected_evidence(self):
        settings, _ = build("redis-wipe,freeze")
        self.assertEqual(plan.expected_effects(settings), {"redis-wipe": 1, "freeze": 2})


if __name__ == "__main__":
    unittest.main()
