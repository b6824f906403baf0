"""The buyers' HTTP client (urllib): retries what a crash or an outage makes fail, so a fault
never makes the client double or lose an action."""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.error
import urllib.request


class Transient(Exception):
    pass


def request_once(method: str, url: str, body=None, token: str | None = None, headers=None, timeout=10):
    """(status, json body); raises Transient on connection errors."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = {"raw": raw.decode(errors="replace")}
        return error.code, parsed
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError) as error:
        raise Transient(str(error)) from error


def call(method, url, body=None, token=None, headers=None, deadline=None, retry_409=False):
    """Retries connection errors and 5xx (and 409 'in progress' when asked) until `deadline`.
    Returns (status, body) or None when it gave up."""
    deadline = deadline or time.monotonic() + 60
    while True:
        try:
            status, parsed = request_once(method, url, body, token, headers)
            if status < 500 and not (retry_409 and status == 409):
                return status, parsed
        except Transient:
            pass
        if time.monotonic() >= deadline:
            return None
        time.sleep(random.uniform(0.2, 0.5))
