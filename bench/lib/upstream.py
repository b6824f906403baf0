"""Prints how many catalog requests products-service has answered so far: the sum of its
http_requests_total counters for routes under /api/products, read from its /metrics.

    upstream.py <products-service base URL>

bench/run reads it before and after each run through nginx: the difference is the number of
requests nginx passed to the service (the rest it served from its cache).
"""
import re
import sys
import urllib.request

LINE = re.compile(r'^http_requests_total\{(?P<labels>.*)\}\s+(?P<value>[0-9.eE+]+)$')


def catalog_requests(metrics_text):
    total = 0
    for line in metrics_text.splitlines():
        m = LINE.match(line.strip())
        if m and re.search(r'route="/api/products[^"]*"', m.group("labels")):
            total += int(float(m.group("value")))
    return total


if __name__ == "__main__":
    with urllib.request.urlopen(sys.argv[1].rstrip("/") + "/metrics", timeout=10) as response:
        print(catalog_requests(response.read().decode()))
