"""One launcher for the stack: PostgreSQL databases, the three services and nginx in front, started
with a profile's settings (dev, e2e, check, ...), ready when each answers /ready, torn down (with
everything it created) on exit.

CLI: `scripts/stack --profile NAME [-- command]`; API: `with Stack(profile("e2e")) as stack: ...`.
Standard library only: it runs with the system python3.
"""

from .profiles import PROFILES, Profile, profile
from .stack import Stack, StackError

__all__ = ["PROFILES", "Profile", "Stack", "StackError", "profile"]
