"""The runner's console lines and the fault journal (kept as chaos/last-run/faults.txt)."""

from __future__ import annotations

import threading
import time


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Journal:
    """Thread-safe list of what was injected, each line stamped with the wall-clock time."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def note(self, line: str, echo: bool = True) -> None:
        with self._lock:
            self._lines.append(f"{time.strftime('%H:%M:%S')} {line}")
        if echo:
            log(line)

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)
