"""Generic JSON → pandas DataFrame.

A list of objects becomes rows; an object holding a list under a well-known key (``content``,
``items``, ``results``, ``data``, ``destinationEntities``) becomes those rows; any other object one
row. Nested objects flatten to dotted columns; lists stay list columns.

>>> to_frame({"content": [{"id": 1, "a": {"b": 2}}]}).columns.tolist()
['id', 'a.b']
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["RECORD_KEYS", "records_of", "to_frame"]

RECORD_KEYS = ("content", "items", "results", "data", "destinationEntities")


def records_of(payload: Any) -> list[Any]:
    """The records a JSON payload holds (see the module docstring)."""
    if payload is None:
        return []
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in RECORD_KEYS:
            if isinstance(payload.get(key), list):
                return payload[key]
        return [payload]
    return [{"value": payload}]


def to_frame(payload: Any) -> pd.DataFrame:
    """Flatten the records of ``payload`` into a DataFrame (dotted column names)."""
    records = [r if isinstance(r, dict) else {"value": r} for r in records_of(payload)]
    if not records:
        return pd.DataFrame()
    return pd.json_normalize(records, sep=".")
