"""A one-line progress bar on standard error, for the commands that take a while."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """Redrawn at most ten times a second on a terminal, every two seconds elsewhere."""

    def __init__(self, label: str, unit: str = "events", width: int = 30) -> None:
        self.label = label
        self.unit = unit
        self.width = width
        self.started = time.monotonic()
        # The first line waits as long as the next ones: a command done sooner draws none.
        self.drawn = self.started
        self.tty = sys.stderr.isatty()

    def update(self, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self.drawn < (0.1 if self.tty else 2.0) and not finished:
            return
        self.drawn = now
        rate = done / (now - self.started) if now > self.started else 0.0
        if total is None:
            line = f"{self.label}: {done} {self.unit}, {rate:,.0f}/s"
        else:
            share = done / total if total else 1.0
            filled = int(share * self.width)
            line = (
                f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{share:6.1%} {done}/{total} {self.unit}, {rate:,.0f}/s"
            )
        sys.stderr.write(("\r" + line) if self.tty else (line + "\n"))
        sys.stderr.flush()

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
