import json
import random
import unittest

from harness import poison


class Poison(unittest.TestCase):
    def test_six_cover_every_kind_on_both_streams_with_distinct_event_ids(self):
        batch = poison.batch(6, random.Random(1))
        self.assertEqual({(p.stream, p.kind) for p in batch},
                         {(s, k) for s, kinds in poison.KINDS.items() for k in kinds})
        self.assertEqual(len({p.event_id for p in batch}), 6)

    def test_each_kind_is_broken_the_way_it_says(self):
        by_kind = {p.kind: dict(p.fields) for p in poison.batch(6, random.Random(2))}
        orders, inventory = poison.KINDS["orders_stream"], poison.KINDS["inventory_stream"]
        with self.assertRaises(ValueError):
            json.loads(by_kind[orders[0]]["payload"])
        self.assertEqual(json.loads(by_kind[orders[1]]["payload"])["lines"], [])
        self.assertEqual(json.loads(by_kind[orders[2]]["payload"])["order_id"], "not-a-uuid")
        self.assertNotIn("type", by_kind[inventory[0]])
        self.assertNotIn("order_id", json.loads(by_kind[inventory[1]]["payload"]))
        self.assertNotIn("version", json.loads(by_kind[inventory[2]]["payload"]))
        for fields in by_kind.values():
            self.assertIn("event_id", fields)


if __name__ == "__main__":
    unittest.main()
