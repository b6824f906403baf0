"""Dead letters, progress during a freeze, fault evidence, processes and panics, on crafted
data."""

import unittest

from harness import conduct
from harness.evidence import Effect

from .fixtures import T0, baseline, dead_letter_of, freeze, oid, poison, steps


class DeadLetters(unittest.TestCase):
    def setUp(self):
        self.obs, self.facts = baseline()
        self.a, self.b = poison("orders_stream", entry_id="5-0"), poison("inventory_stream", entry_id="6-0")
        self.facts.poisons = [self.a, self.b]
        self.obs.dead_letters = [dead_letter_of(self.a), dead_letter_of(self.b)]

    def check(self):
        return conduct.dead_letters_are_the_poison(self.obs, self.facts)

    def test_exactly_the_poison_entries_pass(self):
        self.assertTrue(self.check().ok, self.check().failures)

    def test_a_missing_poison_dead_letter_fails(self):
        self.obs.dead_letters.pop()
        self.assertIn("0 dead letters, expected 1", self.check().failures[0])

    def test_a_real_event_dead_lettered_fails(self):
        self.obs.dead_letters.append({"_id": "7-0", "event_id": "real", "type": "order.cancelled",
                                      "origin_stream": "x:orders_stream", "origin_id": "3-0",
                                      "group": "products-service", "attempts": "8", "error": "pool timed out"})
        self.assertIn("order.cancelled real", self.check().failures[0])

    def test_a_poison_dead_lettered_twice_fails(self):
        self.obs.dead_letters.append(dead_letter_of(self.a))
        self.assertIn("2 dead letters", self.check().failures[0])

    def test_the_wrong_group_or_origin_fails(self):
        self.obs.dead_letters[0]["group"] = "orders-service"
        self.obs.dead_letters[1]["origin_id"] = "1-1"
        self.assertEqual(len(self.check().failures), 2)

    def test_a_dead_letter_without_event_id_is_matched_by_origin(self):
        del self.obs.dead_letters[0]["event_id"]
        self.assertTrue(self.check().ok, self.check().failures)

    def test_poison_lost_with_a_wiped_redis_is_not_expected_and_cannot_reappear(self):
        self.facts.generation = 1  # both landed in generation 0, then Redis was wiped
        self.obs.dead_letters = []
        self.assertTrue(self.check().ok, self.check().failures)
        self.obs.dead_letters = [dead_letter_of(self.a)]
        self.assertIn("the wipe did not wipe", self.check().failures[0])

    def test_an_uncertain_xadd_may_or_may_not_be_dead_lettered(self):
        self.b.outcome = "uncertain"
        self.assertTrue(self.check().ok)
        self.obs.dead_letters.pop()
        self.assertTrue(self.check().ok)


class ProgressWhileFrozen(unittest.TestCase):
    def setUp(self):
        self.obs, self.facts = baseline()
        self.facts.freezes = [freeze(T0 - 5, 40)]
        self.facts.progress_limit = 30

    def check(self):
        return conduct.progress_while_frozen(self.obs, self.facts)

    def test_orders_answered_in_time_pass(self):
        result = self.check()
        self.assertTrue(result.ok, result.failures)
        self.assertIn("3 orders", result.summary)  # o2 was cancelled by its buyer first

    def test_an_order_answered_after_the_limit_fails(self):
        self.obs.history[oid(3)][1]["at"] = T0 + 31
        self.assertIn("answered after 31.0 s", self.check().failures[0])

    def test_a_timed_out_order_fails(self):
        self.obs.orders[oid(3)]["reason"] = "timeout"
        self.obs.history[oid(3)] = steps("PENDING", "REJECTED", reason="timeout")
        self.assertIn("timed out", self.check().failures[0])

    def test_an_order_in_flight_at_the_freeze_counts_from_the_freeze(self):
        self.facts.freezes = [freeze(T0 + 1.5, 40)]  # o1, o3, o4 placed at T0, unanswered at T0 + 1.5
        self.assertTrue(self.check().ok, self.check().failures)
        self.obs.history[oid(4)][1]["at"] = T0 + 1.5 + 31
        self.assertIn("answered after 31.0 s", self.check().failures[0])

    def test_no_order_during_the_freeze_proves_nothing(self):
        self.facts.freezes = [freeze(T0 + 100, 40)]
        self.assertIn("progress not shown", self.check().failures[0])


class Effects(unittest.TestCase):
    def setUp(self):
        self.obs, self.facts = baseline()
        self.facts.expected_effects = {"redis-wipe": 1, "freeze": 2}
        self.facts.effects = [Effect("redis-wipe", True, "12 entries in flight"),
                              Effect("freeze", True, "a"), Effect("freeze", True, "b")]

    def test_every_fault_with_evidence_passes(self):
        self.assertTrue(conduct.faults_took_effect(self.obs, self.facts).ok)

    def test_a_fault_without_effect_or_missing_fails(self):
        self.facts.effects[0] = Effect("redis-wipe", False, "0 entries in flight")
        self.facts.effects.pop()
        failures = conduct.faults_took_effect(self.obs, self.facts).failures
        self.assertEqual(len(failures), 2)


class Processes(unittest.TestCase):
    def test_a_crash_a_slow_stop_and_a_panic_fail(self):
        obs, facts = baseline()
        proc = facts.procs[0]
        proc.crashes.append("exit code 101")
        proc.term_waits.append(25.0)
        proc.log += "thread 'main' panicked at src/main.rs\n"
        self.assertEqual(len(conduct.processes(obs, facts).failures), 2)
        self.assertFalse(conduct.no_panics(obs, facts).ok)


if __name__ == "__main__":
    unittest.main()


class LeakedTransactions(unittest.TestCase):
    def setUp(self):
        self.obs, self.facts = baseline()

    def test_clean_logs_pass(self):
        self.assertTrue(conduct.no_leaked_transactions(self.obs, self.facts).ok)

    def test_a_begin_inside_a_transaction_or_a_write_in_a_read_only_one_fails(self):
        self.facts.procs[0].log += (
            'WARN sqlx::postgres::notice: there is already a transaction in progress\n'
            'WARN stream_lib::outbox::relay: cannot execute SELECT FOR UPDATE in a read-only transaction\n'
            'WARN sqlx::postgres::notice: there is no transaction in progress\n'  # a dropped COMMIT: harmless
        )
        failures = conduct.no_leaked_transactions(self.obs, self.facts).failures
        self.assertEqual(len(failures), 2, failures)
