"""Text written into HTML by Python, escaped exactly as the templates' autoescape does.

``markupsafe.escape`` wraps every result in ``Markup``, a Python-level object made per call;
the fragments a page writes in Python (a timeline's statements, a map) escape hundreds of values
and join them as plain strings, and wrap the whole once.
"""

from __future__ import annotations


def text(value: object) -> str:
    """``value`` as text with ``& < > ' "`` escaped, the characters and entities that
    ``markupsafe.escape`` uses."""
    written = value if type(value) is str else str(value)
    return (
        written.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )
