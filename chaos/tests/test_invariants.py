"""The state invariants on crafted data: the baseline keeps every promise, and each way of
breaking one is caught by the check that owns it."""

import unittest

from harness import invariants as inv
from harness.conduct import all_checks

from .fixtures import P1, baseline, event, oid, steps


def failing(obs, facts) -> set[str]:
    return {check.name for check in all_checks(obs, facts) if not check.ok}


class Baseline(unittest.TestCase):
    def test_a_consistent_state_passes_every_check(self):
        obs, facts = baseline()
        self.assertEqual(failing(obs, facts), set())


class StateInvariants(unittest.TestCase):
    def setUp(self):
        self.obs, self.facts = baseline()

    def assertCaughtBy(self, check, *, only=True):
        result = check(self.obs, self.facts)
        self.assertFalse(result.ok, f"{result.name} should fail")
        if only:
            self.assertEqual(failing(self.obs, self.facts), {result.name})
        return result

    def test_a_stuck_pending_order_is_caught(self):
        self.obs.orders[oid(3)]["status"] = "PENDING"
        self.obs.orders[oid(3)]["version"] = 1
        self.obs.history[oid(3)] = steps("PENDING")
        self.obs.reservations.pop(oid(3))
        result = inv.orders_final(self.obs, self.facts)
        self.assertIn("stuck PENDING", result.failures[0])

    def test_no_quiescence_is_a_failure(self):
        self.facts.quiescent = False
        self.assertCaughtBy(inv.orders_final)

    def test_an_acknowledged_payment_that_did_not_stick_is_caught(self):
        self.facts.client_orders[3].paid_ack = True
        self.assertCaughtBy(inv.acknowledged_durable)

    def test_an_order_without_its_idempotency_key_or_with_two_is_caught(self):
        self.obs.idempotency.append({"response_status": 201, "order_id": oid(2)})
        self.assertIn("found 2", self.assertCaughtBy(inv.acknowledged_durable).failures[0])

    def test_an_order_the_client_never_got_is_caught_unless_a_post_gave_up(self):
        self.facts.client_orders.pop(1)
        self.assertCaughtBy(inv.acknowledged_durable)
        self.facts.gave_up_posts = 1
        self.assertTrue(inv.acknowledged_durable(self.obs, self.facts).ok)

    def test_a_cancelled_order_still_holding_stock_is_caught(self):
        # order.cancelled lost: the reservation stays, the units stay held.
        self.obs.orders[oid(4)]["status"] = "CANCELLED"
        self.obs.history[oid(4)][-1]["to_status"] = "CANCELLED"
        self.obs.reservations[oid(4)]["status"] = "reserved"
        self.obs.products[P1].update(stock=7, version=2)
        names = failing(self.obs, self.facts)
        self.assertIn(inv.reservations_agree(self.obs, self.facts).name, names)
        self.assertIn(inv.stock_conserved(self.obs, self.facts).name, names)

    def test_a_stock_movement_applied_twice_is_caught(self):
        self.obs.products[P1]["version"] += 1
        self.assertIn("applied twice or lost", self.assertCaughtBy(inv.stock_conserved).failures[0])

    def test_a_unit_from_nowhere_is_caught(self):
        self.obs.products[P1]["stock"] += 1
        self.assertCaughtBy(inv.stock_conserved)

    def test_a_catalog_copy_behind_the_last_listing_event_is_caught(self):
        edited = event("product.updated", None, product_id=P1, version=3)
        self.obs.products_outbox.append(edited)
        self.obs.orders_inbox.add(edited["event_id"])
        self.assertIn("last published v3", self.assertCaughtBy(inv.catalog_converged).failures[0])

    def test_negative_stock_is_caught(self):
        self.facts.initial_stock[P1] = -2
        self.obs.products[P1]["stock"] = -10
        self.assertTrue(any("negative" in f for f in inv.stock_conserved(self.obs, self.facts).failures))

    def test_a_transition_applied_twice_breaks_the_history_chain(self):
        self.obs.history[oid(1)].insert(2, dict(self.obs.history[oid(1)][1]))
        self.assertCaughtBy(inv.history_chains)

    def test_a_lost_event_is_caught(self):
        placed = next(e for e in self.obs.orders_outbox if e["event_type"] == "order.paid")
        self.obs.products_inbox.discard(placed["event_id"])
        self.assertIn("never handled by products-service", self.assertCaughtBy(inv.events_handled).failures[0])

    def test_an_unpublished_row_is_caught(self):
        self.obs.products_outbox[0]["published"] = False
        self.assertCaughtBy(inv.events_handled)

    def test_a_second_stock_decision_is_caught(self):
        doubled = event("stock.reserved", oid(1))
        self.obs.products_outbox.append(doubled)
        self.obs.orders_inbox.add(doubled["event_id"])
        self.assertIn("2 stock decisions", self.assertCaughtBy(inv.events_handled).failures[0])

    def test_an_applied_event_no_producer_wrote_is_caught(self):
        self.obs.orders_inbox.add("11111111-1111-4111-8111-111111111111")
        self.assertCaughtBy(inv.only_real_events_applied)

    def test_a_poison_entry_that_was_applied_is_named(self):
        from .fixtures import poison
        p = poison()
        self.facts.poisons = [p]
        self.obs.products_inbox.add(p.event_id)
        result = inv.only_real_events_applied(self.obs, self.facts)
        self.assertIn("poison entry", result.failures[0])


if __name__ == "__main__":
    unittest.main()
