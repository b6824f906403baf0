"""Creates the order benchmark's actors through the real APIs: one seller who lists PRODUCTS products
with ample stock, and BUYERS buyers (signup + login, Bearer tokens). Writes tokens.txt and
products.txt into the given directory.

    setup_orders.py <base_url> <out_dir> <run_id> <buyers> <products>
"""
import json
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def call(base, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        raise SystemExit(f"{method} {path} -> {err.code}: {err.read()[:300]!r}")


def account(base, run, name):
    email = f"{name}_{run}@bench.example"
    password = f"bench-{run}-pw"
    username = f"{name}{run[-12:]}"[:30]
    call(base, "POST", "/api/auth/signup", {"username": username, "email": email, "password": password})
    _, body = call(base, "POST", "/api/auth/login", {"email": email, "password": password})
    return body["access_token"]


def main():
    base, out, run, buyers, products = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    seller = account(base, run, "seller")
    ids = []
    for i in range(products):
        _, body = call(base, "POST", "/api/products", {
            "name": f"Bench widget {i}", "description": "A product for the order benchmark",
            "category": "Bench", "price": "9.99", "stock": 1000000}, token=seller)
        ids.append(body["id"])
    with ThreadPoolExecutor(max_workers=2) as pool:  # argon2 is CPU-bound; 2 cores
        tokens = list(pool.map(lambda i: account(base, run, f"buyer{i}"), range(buyers)))
    with open(f"{out}/tokens.txt", "w") as f:
        f.write("\n".join(tokens) + "\n")
    with open(f"{out}/products.txt", "w") as f:
        f.write("\n".join(ids) + "\n")
    print(f"seller + {buyers} buyers, {products} products")


if __name__ == "__main__":
    main()
