"""Creates the order benchmark's actors through the real APIs: one seller who lists PRODUCTS products
with ample stock and one race product with RACE_UNITS units, BUYERS buyers for the load and
RACE_BUYERS more for the race (each signed up; signup answers with the session cookie, whose access
token is used as a Bearer token). Writes into the given directory: tokens.txt (load buyers),
products.txt (load products), race_tokens.txt, race_product.txt, logins.txt (the race buyers' email
and password, tab-separated, for the login storm) and stock.json (every product's initial stock,
for the conservation check).

    setup_orders.py <base_url> <out_dir> <run_id> <buyers> <products> <race_buyers> <race_units>
"""
import http.cookies
import json
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

LOAD_STOCK = 1_000_000


def call(base, method, path, body=None, token=None):
    """(status, JSON body, headers); any non-2xx stops the run with what the service said."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null"), resp.headers
    except urllib.error.HTTPError as err:
        raise SystemExit(f"{method} {path} -> {err.code}: {err.read()[:300]!r}")


def access_token(headers):
    """The access_token cookie's value from a response's Set-Cookie headers."""
    for header in headers.get_all("Set-Cookie") or []:
        cookie = http.cookies.SimpleCookie()
        cookie.load(header)
        if "access_token" in cookie:
            return cookie["access_token"].value
    raise SystemExit("signup set no access_token cookie")


def credentials(run, name):
    return f"{name}_{run}@bench.example", f"bench-{run}-pw", f"{name}{run[-12:]}"[:30]


def account(base, run, name):
    email, password, username = credentials(run, name)
    _, _, headers = call(base, "POST", "/api/auth/signup",
                         {"username": username, "email": email, "password": password})
    return access_token(headers)


def product(base, seller, name, stock):
    _, body, _ = call(base, "POST", "/api/products", {
        "name": name, "description": "A product for the order benchmark",
        "category": "Bench", "price": "9.99", "stock": stock}, token=seller)
    return body["id"]


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    base, out, run = sys.argv[1:4]
    buyers, products, race_buyers, race_units = map(int, sys.argv[4:8])
    seller = account(base, run, "seller")
    ids = [product(base, seller, f"Bench widget {i}", LOAD_STOCK) for i in range(products)]
    race = product(base, seller, "Bench race widget", race_units)
    names = [f"buyer{i}" for i in range(buyers)] + [f"racer{i}" for i in range(race_buyers)]
    with ThreadPoolExecutor(max_workers=2) as pool:  # argon2 is CPU-bound; 2 cores
        tokens = list(pool.map(lambda name: account(base, run, name), names))
    write_lines(f"{out}/tokens.txt", tokens[:buyers])
    write_lines(f"{out}/products.txt", ids)
    write_lines(f"{out}/race_tokens.txt", tokens[buyers:])
    write_lines(f"{out}/race_product.txt", [race])
    write_lines(f"{out}/logins.txt", ["\t".join(credentials(run, f"racer{i}")[:2]) for i in range(race_buyers)])
    with open(f"{out}/stock.json", "w") as f:
        json.dump({"load": {i: LOAD_STOCK for i in ids}, "race": {race: race_units}}, f)
    print(f"seller + {buyers} buyers + {race_buyers} racers, {products} products + 1 race product of {race_units}")


if __name__ == "__main__":
    main()
