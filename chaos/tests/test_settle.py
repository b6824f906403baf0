import unittest

from harness.settle import busy


def snap(**streams):
    groups = {"orders_stream": "products-service", "inventory_stream": "orders-service"}
    return {
        "statuses": {"PAID": 3},
        "unpublished_orders": 0,
        "unpublished_products": 0,
        "streams": {
            name: {"length": 1, "last": "1-0", "expected_group": group,
                   "groups": streams.get(name, [{"name": group, "pending": 0, "lag": 0, "behind": False, "retries": 0}])}
            for name, group in groups.items()
        },
    }


class Busy(unittest.TestCase):
    def test_a_drained_system_is_quiet(self):
        self.assertEqual(busy(snap()), [])

    def test_work_in_flight_is_named(self):
        s = snap(orders_stream=[{"name": "products-service", "pending": 2, "lag": 0, "behind": False, "retries": 1}])
        s["statuses"]["PENDING"] = 1
        s["unpublished_products"] = 4
        self.assertEqual(len(busy(s)), 3)

    def test_a_vanished_group_is_not_quiet(self):
        self.assertIn("has no group", busy(snap(inventory_stream=[]))[0])


if __name__ == "__main__":
    unittest.main()
