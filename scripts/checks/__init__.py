"""The static checks of scripts/check-static that need YAML line numbers or the Rust sources.

Run as `python -m checks <command> ...` from scripts/ (check-static does, in its venv); each
command prints its problems as `file:line: message` and exits non-zero when it found any.
"""
