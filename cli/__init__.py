"""The command line (``claimledger``, ``python -m claimledger.cli``)."""

import sys

# httpx loads its own command line (click, rich and pygments, about 5 MB) whenever they are
# installed, as Litestar's dependencies are; no process of claimledger runs it. A None entry
# makes that import fail, and httpx then goes without it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
