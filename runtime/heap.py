"""A serving process's heap, once it has started: frozen, and collected less often.

CPython's collector runs when 700 more container objects have been made than freed, and every
tenth of its runs walks an older generation; once in a while it walks all that the process
holds. The API holds about 110,000 such objects after its start (Litestar's routes and models,
templates, the schema), and a page or a search under load makes thousands in flight, so at 32
requests at once a full walk came about once a second and took 60 ms, during which every request
waited: a tenth of the API's time, and the tail of its latencies. ``settle`` freezes what the
process holds at its start (it is never walked again) and lets the youngest generation grow to
``YOUNG`` objects before a collection: requests free what they make as its last reference goes,
so collections become rare and short.
"""

from __future__ import annotations

import gc

# Container objects made (and not yet freed) before the collector runs.
YOUNG = 20_000


def settle() -> None:
    """Freeze what the process holds now and raise the youngest generation's threshold."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, oldest)
