import unittest

from harness.settings import DEFAULT_FAULTS, FAULTS, Settings, parse_faults


class Faults(unittest.TestCase):
    def test_empty_means_the_defaults_and_all_means_every_fault(self):
        self.assertEqual(parse_faults(""), frozenset(DEFAULT_FAULTS))
        self.assertEqual(parse_faults("all"), frozenset(FAULTS))

    def test_a_list_is_exact_and_signs_adjust_the_defaults(self):
        self.assertEqual(parse_faults("redis-wipe"), {"redis-wipe"})
        self.assertEqual(parse_faults("+db-outage,-poison"), (set(DEFAULT_FAULTS) | {"db-outage"}) - {"poison"})

    def test_unknown_names_and_mixed_forms_are_refused(self):
        with self.assertRaises(ValueError):
            parse_faults("kills,sharks")
        with self.assertRaises(ValueError):
            parse_faults("kills,+poison")


class FromEnv(unittest.TestCase):
    def test_defaults(self):
        s = Settings.from_env({"CHAOS_SEED": "7"})
        self.assertEqual((s.seed, s.replicas, s.kills), (7, 2, 3))
        self.assertEqual(s.progress_limit, 30.0)

    def test_a_freeze_needs_a_second_replica_and_must_outlast_the_claim_idle_time(self):
        with self.assertRaises(ValueError):
            Settings.from_env({"CHAOS_FAULTS": "freeze", "CHAOS_REPLICAS": "1"})
        with self.assertRaises(ValueError):
            Settings.from_env({"CHAOS_FAULTS": "freeze", "CHAOS_FREEZE_SECS": "5"})

    def test_bad_numbers_are_refused(self):
        for env in ({"CHAOS_KILLS": "three"}, {"CHAOS_WORKERS": "0"}):
            with self.assertRaises(ValueError):
                Settings.from_env(env)


if __name__ == "__main__":
    unittest.main()
