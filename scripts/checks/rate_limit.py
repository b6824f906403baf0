"""nginx's per-address limit on /api/, probed live through a running nginx."""

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from .report import report

SEARCH = "/api/products?q=lamp&per_page=1"


def get(port, source, path):
    """GET `path` from 127.0.0.1:`port`, sent from the local address `source`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict((k.lower(), v) for k, v in response.getheaders()), response.read()
    finally:
        conn.close()


def burst(port, rate, burst_size, give_up_after=30):
    """Searches from 127.0.0.2 in rounds until one is answered 429 (or `give_up_after` s):
    the (status, headers, body) list and the seconds it took."""
    # One URL, so after the first answer nginx serves it from its cache and the client outruns
    # the limit even on a busy machine; rounds go on until a 429 (or 30 s), since a slow client
    # on a loaded machine may drain the burst only slowly.
    results = []
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        while True:
            round_size = burst_size + 2 * rate + 50 if not results else 4 * rate
            results += pool.map(lambda _: get(port, "127.0.0.2", SEARCH), range(round_size))
            if any(status == 429 for status, _, _ in results) or time.monotonic() - started > give_up_after:
                break
    return results, time.monotonic() - started


def limited_answer_problems(headers, body):
    """What is wrong with one 429 answer: the JSON error body, its type, Retry-After, headers."""
    found = []
    try:
        error = json.loads(body)["error"]
        ok = error["code"] == "rate_limited" and bool(error["message"])
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        found.append(f"a rate-limited answer is not the JSON error body with code rate_limited: {body[:200]!r}")
    if not headers.get("content-type", "").startswith("application/json"):
        found.append(f"a rate-limited answer has content type {headers.get('content-type')!r}")
    if not headers.get("retry-after", "").isdigit() or int(headers["retry-after"]) < 1:
        found.append(f"a rate-limited answer has Retry-After {headers.get('retry-after')!r}")
    if headers.get("x-content-type-options") != "nosniff":
        found.append("a rate-limited answer lost the security headers")
    return found


def cmd_rate_limit(root, args):
    """rate-limit BASE RATE BURST SHOWN: through the running nginx at BASE
    (http://127.0.0.1:PORT): a burst of catalog searches from 127.0.0.2 beyond rate and burst
    gets 429s, each with the API's JSON error body (code rate_limited), Retry-After and the
    security headers, and nothing else; meanwhile 127.0.0.3 is served, 127.0.0.2 still gets the
    SPA, and after Retry-After it is served again."""
    base, rate, burst_size, shown = args[0], int(args[1]), int(args[2]), args[3]
    port = urlsplit(base).port
    results, took = burst(port, rate, burst_size)
    total = len(results)
    served = sum(1 for status, _, _ in results if status == 200)
    limited = [(headers, body) for status, headers, body in results if status == 429]
    other = sorted({status for status, _, _ in results if status not in (200, 429)})
    allowed = burst_size + 1 + rate * took
    if other:
        report(shown, 1, f"a burst of {total} searches from one address got {other} besides 200 and 429")
    if not limited or served > allowed + rate:
        report(shown, 1, f"{served} of {total} searches from one address in {took:.1f}s were served: the limit ({rate}/s, burst {burst_size}) does not hold")
    if served < burst_size:
        report(shown, 1, f"only {served} of {total} searches were served: a burst of {burst_size} should be")
    for headers, body in limited[:1] + limited[-1:]:
        for message in limited_answer_problems(headers, body):
            report(shown, 1, message)
    status, _, _ = get(port, "127.0.0.3", SEARCH)
    if status != 200:
        report(shown, 1, f"another address got {status} while the first was rate-limited")
    status, _, _ = get(port, "127.0.0.2", "/")
    if status != 200:
        report(shown, 1, f"the rate-limited address got {status} for the SPA (only /api/ is limited)")
    if limited:
        retry_after = limited[-1][0].get("retry-after", "1")
        time.sleep(int(retry_after) if retry_after.isdigit() else 1)
        status, _, _ = get(port, "127.0.0.2", "/api/products?per_page=1")
        if status != 200:
            report(shown, 1, f"after Retry-After the address still got {status}")
    print(f"rate limit: {served} of {total} searches from one address served in {took:.1f}s, {len(limited)} answered 429 (limit {rate}/s, burst {burst_size})")
