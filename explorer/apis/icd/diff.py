"""What changed between two ICD-11 MMS releases: :func:`compare`, one row per changed entity.

Input: two entity frames — from :func:`~explorer.apis.icd.read_tabulation` (WHO's
SimpleTabulation files: pass the paths) or from ``IcdSession.classification()``/``tree()``
(``IcdSession.compare`` crawls both releases and calls this).

**Keys.** An entity is its foundation entity: the row's ``id``, which in the MMS is the
foundation id (``257068234`` is ``http://id.who.int/icd/entity/257068234`` in every release).
Residual categories (``…Y`` "other specified", ``…Z`` "unspecified") have no foundation entity
of their own: WHO gives them their parent's id plus ``/other`` or ``/unspecified``
(``344162786/other`` is 1A03.Y), and that is their key. So a residual is matched across
releases by its parent entity and its kind, whatever its code: ``1A03.Y`` renumbered is
``recoded``, not removed and added.

**Change kinds** (:data:`CHANGE_KINDS`, in precedence order):

* ``added`` / ``removed`` — the key is only in the new / old release;
* ``recoded`` — the code differs (blocks have none: never recoded);
* ``moved`` — the parent entity differs (a new intermediate block moves what it groups);
* ``retitled`` — the title differs (exact text, as WHO writes it);
* ``residual-changed`` — an "other specified" residual (``…/other``) whose own code, title and
  parent may be the same, but whose parent's *specified* (non-residual) children changed: what
  it covers is "everything else under the parent", so a child added under the parent takes
  cases it used to hold (and a removed one gives them back). "Unspecified" residuals keep
  their meaning when siblings change and are not flagged.

**Several changes.** One row per entity: ``change`` is the first kind that applies in the order
above (an ordered categorical, so ``value_counts()`` lists every kind); ``changes`` spells all
of them, comma-separated, for reading (``"recoded,moved"``); the flag columns ``recoded``,
``moved``, ``retitled`` and ``residual_changed`` tell each one, for filtering
(``df[df.moved]`` — ``added`` and ``removed`` exclude the others: ``df.change == "added"``).
``df.attrs["counts"]`` counts each kind wherever it applies (an entity recoded and moved
counts in both).

Columns (:data:`COMPARE_COLUMNS`): ``id``, ``change``, ``changes``, the four flags,
``class_kind``, ``chapter`` (new release's, else old), ``old_code``/``new_code``,
``old_title``/``new_title``, ``old_parent``/``new_parent`` (the parent's code, else its block
id), ``old_parent_id``/``new_parent_id``, ``is_residual`` and ``foundation_uri``. Rows follow
the new release's tabular order (removed entities near their old place). ``df.attrs``:
``old_release``, ``new_release``, ``counts``, ``unchanged`` and ``citation``.

>>> old = pd.DataFrame({"id": ["1", "2", "3"], "code": ["01", "1A00", "1A01"],
...                     "title": ["Chapter", "Cholera", "Typhoid"],
...                     "parent_id": [None, "1", "1"],
...                     "class_kind": ["chapter", "category", "category"],
...                     "chapter": ["01", "01", "01"]})
>>> new = old.copy()
>>> new.loc[2, "code"] = "1A02"
>>> new.loc[1, "title"] = "Cholera (renamed)"
>>> compare(old, new)[["id", "change", "old_code", "new_code"]].values.tolist()
[['2', 'retitled', '1A00', '1A00'], ['3', 'recoded', '1A01', '1A02']]
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from ._args import checked
from .frames import CITATION
from .tabulation import read_tabulation

__all__ = ["CHANGE_KINDS", "COMPARE_COLUMNS", "FLAGS", "compare", "entity_table"]

#: The kinds of change :func:`compare` reports, in precedence order.
CHANGE_KINDS: tuple[str, ...] = ("added", "removed", "recoded", "moved", "retitled",
                                 "residual-changed")
#: The kinds an entity present in both releases may combine: one flag column each.
FLAGS: dict[str, str] = {"recoded": "recoded", "moved": "moved", "retitled": "retitled",
                         "residual-changed": "residual_changed"}
COMPARE_COLUMNS: list[str] = [
    "id", "change", "changes", *FLAGS.values(), "class_kind", "chapter", "old_code",
    "new_code", "old_title", "new_title", "old_parent", "new_parent", "old_parent_id",
    "new_parent_id", "is_residual", "foundation_uri",
]
_NEEDED = ("id", "code", "title", "parent_id", "class_kind", "chapter")
_OPTIONAL = ("block_id", "is_residual", "foundation_uri")
_RESIDUAL = ("/other", "/unspecified")


def entity_table(source: Any, side: str = "") -> pd.DataFrame:
    """The columns :func:`compare` needs of one release, indexed by ``id`` (a path is read
    with :func:`read_tabulation`); ``_pos`` is the row's tabular position."""
    if isinstance(source, (str, os.PathLike)) or hasattr(source, "read"):
        source = read_tabulation(source)
    if not isinstance(source, pd.DataFrame):
        raise TypeError(f"compare() takes tabulation files or entity DataFrames, got "
                        f"{type(source).__name__} for the {side} release")
    missing = [c for c in _NEEDED if c not in source.columns]
    if missing:
        raise ValueError(f"the {side} release frame has no {', '.join(missing)} column; pass "
                         "read_tabulation() or IcdSession.classification()/tree() frames")
    df = pd.DataFrame({c: source[c].to_numpy(dtype=object) for c in _NEEDED})
    for column in _OPTIONAL:
        df[column] = source[column].to_numpy(dtype=object) if column in source.columns \
            else None
    df["id"] = df["id"].astype(object)
    df["_pos"] = np.arange(len(df), dtype=float)
    df = df[df["id"].notna()].drop_duplicates("id")
    ids = df["id"].astype(str)
    residual = ids.str.endswith(_RESIDUAL)
    df["is_residual"] = df["is_residual"].where(df["is_residual"].notna(), residual)
    df["is_residual"] = df["is_residual"].astype(bool) | residual
    label = pd.Series(df["code"].where(df["code"].notna(), df["block_id"]).to_numpy(),
                      index=ids.to_numpy())
    df["parent"] = df["parent_id"].map(label)
    df = df.set_index("id")
    release = source.attrs.get("release")
    if not release and "release" in source.columns:
        release = next(iter(source["release"].dropna().head(1)), None)
    df.attrs = {"release": release}
    return df


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality where two missing values are equal."""
    a_na, b_na = a.isna().to_numpy(), b.isna().to_numpy()
    eq = (a.astype(object).to_numpy() == b.astype(object).to_numpy())
    return np.where(a_na | b_na, a_na & b_na, eq)


def _specified_children(df: pd.DataFrame) -> pd.Series:
    """Per parent id, a signature of the set of its non-residual children (the sum of 40-bit
    hashes of their ids): equal sets, equal signatures; different sets collide with a
    probability of about 1e-12."""
    kids = df[~df["is_residual"].to_numpy(dtype=bool) & df["parent_id"].notna().to_numpy()]
    hashes = (pd.util.hash_array(kids.index.to_numpy(dtype=object)) >> np.uint64(24))
    sig = pd.Series(hashes.astype(np.int64), index=kids.index)  # 40 bits: sums cannot overflow
    return sig.groupby(kids["parent_id"].to_numpy()).sum()


@checked
def compare(old: Any, new: Any) -> pd.DataFrame:
    """One row per entity that changed between two releases (see the module docstring for
    keys, kinds and columns). ``old``/``new``: SimpleTabulation files (``.zip``, ``.txt``,
    ``.txt.gz``) or entity frames (``read_tabulation``, ``IcdSession.classification``).

    >>> import explorer
    >>> df = explorer.icd.compare("2024-01/SimpleTabulation-ICD-11-MMS-en.zip",
    ...                           "2025-01/SimpleTabulation-ICD-11-MMS-en.txt.gz")  # doctest: +SKIP
    >>> df["change"].value_counts()                                  # doctest: +SKIP
    """
    a, b = entity_table(old, "old"), entity_table(new, "new")
    m = a.merge(b, how="outer", left_index=True, right_index=True, suffixes=("_old", "_new"),
                sort=False)
    # display order: the new release's; a removed entity just after the last entity above it
    # (in the old release) that the new release still has
    anchor = pd.Series(a.index.map(b["_pos"]), index=a.index, dtype=float).ffill().fillna(-1)
    m["_order"] = m["_pos_new"].where(m["_pos_new"].notna(), m.index.map(anchor) + 0.5)
    in_old = m["_pos_old"].notna().to_numpy()
    in_new = m["_pos_new"].notna().to_numpy()
    both = in_old & in_new
    flags = {
        "added": in_new & ~in_old,
        "removed": in_old & ~in_new,
        "recoded": both & ~_same(m["code_old"], m["code_new"]),
        "moved": both & ~_same(m["parent_id_old"], m["parent_id_new"]),
        "retitled": both & ~_same(m["title_old"], m["title_new"]),
    }
    ids = m.index.to_series().astype(str)
    other = both & ids.str.endswith("/other").to_numpy()
    sig_old, sig_new = _specified_children(a), _specified_children(b)
    parents = m["parent_id_new"].where(m["parent_id_new"].notna(), m["parent_id_old"])
    before = parents.map(sig_old).fillna(0).to_numpy()
    after = parents.map(sig_new).fillna(0).to_numpy()
    flags["residual-changed"] = other & (before != after)
    table = pd.DataFrame(flags, index=m.index)
    changed = table.any(axis=1).to_numpy()
    m, table = m[changed], table[changed]
    first = np.select([table[k].to_numpy() for k in CHANGE_KINDS], list(CHANGE_KINDS),
                      default=CHANGE_KINDS[0])
    names = table.dot(pd.Series([k + "," for k in CHANGE_KINDS], index=list(CHANGE_KINDS)))

    def pick(column: str) -> pd.Series:
        new_ = m[f"{column}_new"]
        return new_.where(new_.notna(), m[f"{column}_old"])

    out = pd.DataFrame({
        "id": m.index.to_numpy(dtype=object),
        "change": pd.Categorical(first, categories=list(CHANGE_KINDS), ordered=True),
        "changes": names.str.rstrip(",").to_numpy(dtype=object),
        **{flag: table[kind].to_numpy(dtype=bool) for kind, flag in FLAGS.items()},
        "class_kind": pick("class_kind").to_numpy(dtype=object),
        "chapter": pick("chapter").to_numpy(dtype=object),
        "old_code": m["code_old"].to_numpy(dtype=object),
        "new_code": m["code_new"].to_numpy(dtype=object),
        "old_title": m["title_old"].to_numpy(dtype=object),
        "new_title": m["title_new"].to_numpy(dtype=object),
        "old_parent": m["parent_old"].to_numpy(dtype=object),
        "new_parent": m["parent_new"].to_numpy(dtype=object),
        "old_parent_id": m["parent_id_old"].to_numpy(dtype=object),
        "new_parent_id": m["parent_id_new"].to_numpy(dtype=object),
        "is_residual": pick("is_residual").astype(bool).to_numpy(),
        "foundation_uri": pick("foundation_uri").to_numpy(dtype=object),
        "_order": m["_order"].to_numpy(), "_tie": m["_pos_old"].to_numpy(),
    })
    out = out.sort_values(["_order", "_tie"], kind="stable").drop(columns=["_order", "_tie"])
    out = out.reset_index(drop=True)
    out.attrs = {
        "old_release": a.attrs.get("release"),
        "new_release": b.attrs.get("release"),
        "counts": {k: int(table[k].sum()) for k in CHANGE_KINDS},
        "unchanged": int((~changed & both).sum()),
        "citation": CITATION,
    }
    return out

