"""The workload: sellers with products of known stock, and buyers placing orders (each POST with
an Idempotency-Key), then paying, cancelling or letting them expire. Records every action the
services acknowledged, for the invariants."""

from __future__ import annotations

import random
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field

from .client import call
from .journal import log
from .settings import Settings
from .stack import Stack

PRICE = "10.00"
PASSWORD = "Chaos-monkey-pass-2026"
CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"}


@dataclass
class OrderRecord:
    order_id: str
    user_id: str
    lines: list[tuple[str, int]]
    fate: str
    placed_at: float  # wall clock, when the 201 arrived
    seen: list[str] = field(default_factory=list)
    paid_ack: bool = False  # 200 from /pay
    cancel_ack: bool = False  # 200 from /cancel


class Workload:
    def __init__(self, stack: Stack, settings: Settings):
        self.stack = stack
        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.lock = threading.Lock()
        self.orders: list[OrderRecord] = []
        self.gave_up_posts = 0
        self.client_errors: list[str] = []
        self.harness_errors: list[str] = []
        self.products: dict[str, dict] = {}  # id -> {seller, stock (initial), scarce}
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    # -- set-up --------------------------------------------------------------------------------

    def signup(self, role: str, index: int) -> dict:
        url = self.stack.url["auth"]
        name = f"c{role[0]}{index}x{uuid.uuid4().hex[:8]}"
        body = {"username": name, "email": f"{name}@chaos.example.com", "password": PASSWORD}
        result = call("POST", f"{url}/api/auth/signup", body, deadline=time.monotonic() + 60)
        if not result or result[0] != 201:
            raise RuntimeError(f"signup failed: {result}")
        result = call("POST", f"{url}/api/auth/login", {"email": body["email"], "password": PASSWORD},
                      deadline=time.monotonic() + 60)
        if not result or result[0] != 200:
            raise RuntimeError(f"login failed: {result}")
        return {"id": result[1]["user"]["id"], "token": result[1]["access_token"], "name": name}

    def populate(self) -> None:
        """3 sellers with 4 products each (one scarce), buyers; waits until orders-service's
        catalog copy knows every product."""
        sellers = [self.signup("seller", i) for i in range(3)]
        self.buyers = [self.signup("buyer", i) for i in range(self.settings.workers + 2)]
        index = 0
        for seller in sellers:
            for k in range(4):
                scarce = k == 0
                stock = self.rng.randint(2, 4) if scarce else self.rng.randint(40, 120)
                body = {
                    "name": f"chaos product {index}", "description": "fault injection",
                    "category": "chaos", "price": PRICE, "stock": stock,
                }
                result = call("POST", f"{self.stack.url['products']}/api/products", body, seller["token"])
                if not result or result[0] != 201:
                    raise RuntimeError(f"creating a product failed: {result}")
                self.products[result[1]["id"]] = {"seller": seller["id"], "stock": stock, "scarce": scarce}
                index += 1
        ids = ",".join(f"'{i}'::uuid" for i in self.products)
        deadline = time.monotonic() + 120
        while self.stack.pg.value(
            self.stack.dbs["orders"], f"SELECT count(*) FROM catalog_products WHERE product_id = ANY(ARRAY[{ids}])"
        ) != len(self.products):
            if time.monotonic() > deadline:
                raise RuntimeError("orders-service never learnt the products (product.created lost?)")
            time.sleep(0.3)
        total = sum(p["stock"] for p in self.products.values())
        log(f"{len(sellers)} sellers, {len(self.buyers)} buyers, {len(self.products)} products, {total} units in stock")

    # -- buyers --------------------------------------------------------------------------------

    def choose_lines(self, rng: random.Random) -> list[tuple[str, int]]:
        """One to three products with ample stock, the first one scarce three times in ten."""
        scarce = [p for p, info in self.products.items() if info["scarce"]]
        plenty = [p for p, info in self.products.items() if not info["scarce"]]
        chosen = rng.sample(plenty, rng.choice([1, 1, 2, 2, 3]))
        if rng.random() < 0.3:
            chosen[0] = rng.choice(scarce)
        return [(p, rng.randint(1, 3)) for p in chosen]

    def order_flow(self, rng: random.Random, buyer: dict, lines=None, fate=None, key: str | None = None) -> None:
        """Places an order (with `key` as its Idempotency-Key: a POST sent before with it is sent
        again) and follows it to its fate."""
        orders_url = self.stack.url["orders"]
        lines = lines or self.choose_lines(rng)
        fate = fate or rng.choices(["pay", "cancel", "cancel_pending", "expire"], weights=[40, 15, 10, 35])[0]
        body = {"items": [{"product_id": p, "quantity": q} for p, q in lines]}
        result = call(
            "POST", f"{orders_url}/api/orders", body, buyer["token"],
            {"idempotency-key": key or str(uuid.uuid4())}, deadline=time.monotonic() + 60, retry_409=True,
        )
        if result is None:
            with self.lock:
                self.gave_up_posts += 1
            return
        status, parsed = result
        if status != 201:
            with self.lock:
                self.client_errors.append(f"POST /api/orders -> {status} {parsed}")
            return
        record = OrderRecord(parsed["id"], buyer["id"], lines, fate, time.time())
        with self.lock:
            self.orders.append(record)
        order_url = f"{orders_url}/api/orders/{record.order_id}"
        if fate == "cancel_pending":
            result = call("POST", f"{order_url}/cancel", None, buyer["token"], deadline=time.monotonic() + 30)
            record.cancel_ack = bool(result and result[0] == 200)
            return
        # Wait for the inventory's answer, but not for ever: during an outage the buyer moves on
        # (the order is then answered later or timed out by orders-service).
        deadline = time.monotonic() + min(self.settings.answer_wait, self.settings.pending_timeout + 20)
        state = "PENDING"
        while time.monotonic() < deadline:
            result = call("GET", order_url, None, buyer["token"], deadline=deadline)
            if result and result[0] == 200:
                state = result[1]["status"]
                if state != "PENDING":
                    break
            time.sleep(0.3)
        record.seen.append(state)
        if state != "CONFIRMED":
            return
        if fate == "pay":
            result = call("POST", f"{order_url}/pay", CARD, buyer["token"], deadline=time.monotonic() + 30)
            record.paid_ack = bool(result and result[0] == 200)
        elif fate == "cancel":
            time.sleep(rng.uniform(0, 3))
            result = call("POST", f"{order_url}/cancel", None, buyer["token"], deadline=time.monotonic() + 30)
            record.cancel_ack = bool(result and result[0] == 200)

    def worker(self, index: int) -> None:
        rng = random.Random(self.settings.seed * 1000 + index)
        buyer = self.buyers[index % len(self.buyers)]
        while not self.stop.is_set():
            self.guarded(self.order_flow, rng, buyer)
            time.sleep(rng.uniform(0.1, 0.6))

    def burst(self) -> None:
        """Many buyers at once for the scarcest product: most must be rejected."""
        scarce = min((p for p, info in self.products.items() if info["scarce"]),
                     key=lambda p: self.products[p]["stock"])
        threads = [
            threading.Thread(
                target=self.order_flow,
                args=(random.Random(self.settings.seed + i), self.buyers[i % len(self.buyers)], [(scarce, 1)], "pay"),
                daemon=True,
            )
            for i in range(10)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def resume(self, rng: random.Random, buyer: dict, lines: list[tuple[str, int]], key: str) -> None:
        """A POST whose client hung up (harness.hangup): the buyer sends it again with the same
        key, on a thread of its own, and follows the order like any other."""
        thread = threading.Thread(target=self.guarded, args=(self.order_flow, random.Random(rng.random()), buyer,
                                                             lines, None, key), daemon=True)
        with self.lock:
            self.threads.append(thread)
        thread.start()

    def guarded(self, flow, *args) -> None:
        """Runs one flow; an exception in it is the harness's error, kept for the report."""
        try:
            flow(*args)
        except Exception:
            with self.lock:
                self.harness_errors.append(traceback.format_exc())

    def start(self) -> None:
        self.threads = [threading.Thread(target=self.burst, daemon=True)]
        self.threads += [threading.Thread(target=self.worker, args=(i,), daemon=True)
                         for i in range(self.settings.workers)]
        for t in self.threads:
            t.start()

    def running(self) -> bool:
        with self.lock:
            return any(t.is_alive() for t in self.threads)
