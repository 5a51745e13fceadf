"""`kefu demo`: load the demo data set."""

from __future__ import annotations


def demo() -> None:
    raise NotImplementedError
