"""Problems found by a check: printed as `file:line: message` and counted for the exit status."""

_count = 0


def report(path, line, message):
    """One problem at `path`:`line`."""
    problem(f"{path}:{line}: {message}")


def problem(text):
    """One problem whose text already says where it is."""
    global _count
    _count += 1
    print(text)


def count():
    return _count


def reset():
    global _count
    _count = 0
