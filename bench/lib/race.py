"""The race: every racer (one Bearer token each) places one order of quantity 1 for the race
product at the same moment (threads released together by a barrier). Prints one JSON figure with
the HTTP statuses; bench/run's checks then look at what the pipeline made of it.

    race.py <base_url> <race_tokens.txt> <race_product.txt> <run_id> <load1>
"""
import collections
import json
import sys
import threading
import time
import urllib.error
import urllib.request


def place(base, token, product, key):
    body = json.dumps({"items": [{"product_id": product, "quantity": 1}]}).encode()
    req = urllib.request.Request(base + "/api/orders", data=body, method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read()).get("id")
    except urllib.error.HTTPError as err:
        return err.code, None
    except OSError as err:
        return f"error: {err.__class__.__name__}", None


def main():
    base, tokens_path, product_path, run, load = sys.argv[1:6]
    tokens = [t for t in open(tokens_path).read().split() if t]
    product = open(product_path).read().strip()
    barrier = threading.Barrier(len(tokens))
    results = [None] * len(tokens)

    def racer(i):
        barrier.wait()
        results[i] = place(base, tokens[i], product, f"{run}-race-{i}")

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(len(tokens))]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = collections.Counter(str(status) for status, _ in results)
    print(json.dumps({"kind": "race", "racers": len(tokens), "product": product, "start": start,
                      "seconds": round(time.time() - start, 3), "codes": dict(codes),
                      "ids": [i for _, i in results if i], "load": float(load)}))


if __name__ == "__main__":
    main()
