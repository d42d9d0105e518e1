"""How reports write a measured figure: enough digits that a fast gate is not shown as 0.00."""

from __future__ import annotations


def milliseconds(value: float) -> str:
    """Two decimals from 1 ms up (``12.35``); below, three significant digits (``0.00213``, ``0.412``)."""
    if value == 0 or abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"
