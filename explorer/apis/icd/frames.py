"""ICD JSON-LD payloads → plain records and pandas DataFrames (pure functions, no I/O).

Every frame has fixed, snake_case columns (``*_COLUMNS`` below), also when it is empty.
The functions are total over JSON: a value of the wrong type (``"@id": 5``, ``"child": [{}]``)
gives ``None`` (or an empty list) in its column, never an exception; only a payload that is not
an object at all raises :class:`~explorer.errors.ApiError`. The type guards that make this so
are :func:`string`, :func:`items`, :func:`strings` and :func:`payload_object`.
Language-tagged values (``{"@language": "en", "@value": "Cholera"}``) become plain strings,
term lists become lists of labels, URIs become short ids (``"257068234"``,
``"1646490591/other"``, ``"A00.0"`` for ICD-10).

>>> payload = {"@id": "http://id.who.int/icd/release/11/2025-01/mms/257068234",
...            "parent": ["http://id.who.int/icd/release/11/2025-01/mms/135352227"],
...            "code": "1A00", "classKind": "category",
...            "title": {"@language": "en", "@value": "Cholera"}}
>>> row = entity_record(payload)
>>> row["id"], row["code"], row["title"], row["parent_id"], row["is_leaf"], row["release"]
('257068234', '1A00', 'Cholera', '135352227', True, '2025-01')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import pandas as pd

from ...errors import ApiError

__all__ = [
    "AUTOCODE_COLUMNS",
    "CITATION",
    "CODE_COLUMNS",
    "ENTITY_COLUMNS",
    "RELEASE_COLUMNS",
    "SEARCH_COLUMNS",
    "TERM_COLUMNS",
    "TERM_KINDS",
    "autocode_record",
    "entity_frame",
    "entity_record",
    "frame",
    "items",
    "kind_of",
    "parse_uri",
    "payload_object",
    "search_frame",
    "string",
    "strip_highlight",
    "term_rows",
    "text",
    "uri_id",
    "strings",
]

#: WHO's citation (ICD-11 terms of use, §1.3), to show wherever ICD-11 content is shown.
CITATION = ("International Classification of Diseases, Eleventh Revision (ICD-11), World Health "
            "Organization (WHO) 2019/2021 https://icd.who.int/browse11. Licensed under Creative "
            "Commons Attribution-NoDerivatives 3.0 IGO licence (CC BY-ND 3.0 IGO).")
#: Columns of entity, children, ancestors, chapters and tree frames (and read_tabulation).
ENTITY_COLUMNS: list[str] = [
    "id", "code", "title", "class_kind", "depth", "parent_id", "parent_code", "chapter",
    "block_id", "code_range", "is_leaf", "is_residual", "definition", "long_definition",
    "fully_specified_name", "coding_note", "browser_url", "uri", "foundation_uri",
    "parent_ids", "child_ids", "synonyms", "narrower_terms", "inclusions", "exclusions",
    "index_terms", "postcoordination_axes", "release", "linearization",
]
#: Columns of ``code()`` / ``codes()``: the entity, the code asked for and its parts.
CODE_COLUMNS: list[str] = ["query", *ENTITY_COLUMNS, "stem_code", "postcoordination"]
SEARCH_COLUMNS: list[str] = [
    "code", "title", "score", "chapter", "id", "is_leaf", "is_residual_other",
    "is_residual_unspecified", "n_matching_terms", "matching_terms", "title_highlighted",
    "important", "postcoordination_availability", "entity_type", "has_coding_note",
    "stem_id", "uri",
]
AUTOCODE_COLUMNS: list[str] = [
    "text", "code", "title", "score", "matching_text", "match_level", "match_type", "is_title",
    "id", "uri", "foundation_uri",
]
TERM_COLUMNS: list[str] = [
    "id", "code", "kind", "label", "reference", "foundation_reference",
    "linearization_reference", "deprecated",
]
RELEASE_COLUMNS: list[str] = [
    "release", "date", "languages", "prerelease_languages", "latest", "title", "uri",
]
#: payload key → ``kind`` value in :func:`term_rows`, in display order.
TERM_KINDS: dict[str, str] = {
    "fullySpecifiedName": "fully_specified_name",
    "synonym": "synonym",
    "narrowerTerm": "narrower_term",
    "inclusion": "inclusion",
    "exclusion": "exclusion",
    "indexTerm": "index_term",
    "foundationChildElsewhere": "child_elsewhere",
}
_LIST_TERMS = {"synonym": "synonyms", "narrowerTerm": "narrower_terms",
               "inclusion": "inclusions", "exclusion": "exclusions", "indexTerm": "index_terms"}

_MMS = re.compile(r"/icd/release/11/(?:(?P<release>\d{4}(?:-\d{2})?)/)?(?P<lin>[a-z]+)"
                  r"(?:/(?P<id>.+))?$")
_FOUNDATION = re.compile(r"/icd/entity(?:/(?P<id>[^/?#]+))?$")
_ICD10 = re.compile(r"/icd/release/10(?:/(?P<release>\d{4}))?(?:/(?P<id>[^/]+))?$")
_EM = re.compile(r"</?em\b[^>]*>", re.IGNORECASE)


_NO_URI: tuple[None, None, None] = (None, None, None)
_END = object()


# -- type guards: what a JSON value may be where a parser expects a string or a list ------------
def string(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else ``None`` (numbers, objects, lists, "").

    >>> string("1A00"), string(5), string({}), string("")
    ('1A00', None, None, None)
    """
    return value if isinstance(value, str) and value else None


def items(value: Any) -> list[Any]:
    """``value`` as a list: a list itself, ``[]`` for ``None``, else ``[value]``.

    >>> items(["a"]), items(None), items("a"), items({"label": "x"})
    (['a'], [], ['a'], [{'label': 'x'}])
    """
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def strings(value: Any) -> list[str]:
    """The non-empty strings of a list (URIs, languages), or of one string; others dropped.

    >>> strings(["http://id.who.int/icd/entity/1", 5, {}, None]), strings(7)
    (['http://id.who.int/icd/entity/1'], [])
    """
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return []


def payload_object(payload: Any, what: str = "entity") -> Mapping[str, Any]:
    """``payload`` if it is a JSON object, else :class:`~explorer.errors.ApiError`.

    >>> payload_object({"code": "1A00"})
    {'code': '1A00'}
    >>> try:
    ...     payload_object([1], "search answer")
    ... except ApiError as exc:
    ...     print(exc.detail)
    expected a JSON object as the search answer, got a list
    """
    if isinstance(payload, Mapping):
        return payload
    raise ApiError(f"expected a JSON object as the {what}, got {kind_of(payload)}",
                   provider="icd", body=payload if isinstance(payload, (str, int, float))
                   else None, hint="check the URL points at an ICD API")


def kind_of(value: Any) -> str:
    """What a JSON value is, for messages: ``"a list"``, ``"null"``, ``"a string"``…

    >>> kind_of([]), kind_of(None), kind_of(5)
    ('a list', 'null', 'a number')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _number(value: Any) -> float | int | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _scalar(value: Any) -> str | int | float | bool | None:
    return value if isinstance(value, (str, int, float, bool)) else None


def parse_uri(uri: Any) -> tuple[str | None, str | None, str | None]:
    """``(linearization, release, id)`` of an ICD URI; the id is ``None`` for a release root.

    Anything that is not a string (``5``, ``{}``) parses as ``(None, None, None)``.

    >>> parse_uri("http://id.who.int/icd/release/11/2024-01/mms/1646490591/other")
    ('mms', '2024-01', '1646490591/other')
    >>> parse_uri("http://id.who.int/icd/entity/257068234")
    ('foundation', None, '257068234')
    >>> parse_uri("http://id.who.int/icd/release/10/2019/A00.0")
    ('icd10', '2019', 'A00.0')
    """
    if not isinstance(uri, str) or not uri:
        return _NO_URI
    return _parse_uri(uri)


@lru_cache(maxsize=1 << 17)
def _parse_uri(uri: str) -> tuple[str | None, str | None, str | None]:
    i = uri.find("/icd/release/11/")
    if i >= 0 and "?" not in uri and "#" not in uri:  # fast path (payload URIs)
        parts = uri[i + 16:].split("/", 2)
        if parts[0][:1].isdigit():
            if len(parts) == 1 or not parts[1]:
                return None, parts[0], None
            return parts[1], parts[0], (parts[2] or None) if len(parts) == 3 else None
        return parts[0] or None, None, "/".join(parts[1:]) or None
    path = uri.split("://", 1)[-1]
    path = path[path.find("/"):] if "/" in path else ""
    m = _ICD10.search(path)
    if m:
        return "icd10", m["release"], m["id"]
    m = _MMS.search(path)
    if m:
        return m["lin"], m["release"], m["id"]
    m = _FOUNDATION.search(path)
    if m:
        return "foundation", None, m["id"]
    return None, None, path.rsplit("/", 1)[-1] or None


def uri_id(uri: Any) -> str | None:
    """The short id of an ICD URI (``None`` for a release root, nothing or a non-string).

    >>> uri_id("http://id.who.int/icd/release/11/2026-01/mms/257068234"), uri_id(5)
    ('257068234', None)
    """
    return parse_uri(uri)[2]


def text(value: Any, language: str | None = None) -> str | None:
    """The plain string of a language-tagged value (a dict, a list of them, or a string).

    >>> text({"@language": "en", "@value": "Cholera"})
    'Cholera'
    >>> text([{"@language": "fr", "@value": "Choléra"}, {"@language": "en", "@value": "x"}], "fr")
    'Choléra'
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        out = value.get("@value")
        return out if isinstance(out, str) else None
    if isinstance(value, list):
        tagged = [v for v in value if isinstance(v, Mapping)]
        for v in tagged:
            if language is None or v.get("@language") == language:
                return text(v)
        return text(tagged[0]) if tagged else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def strip_highlight(title: str | None) -> str | None:
    """Remove WHO's search markup: ``"<em class='found'>Fever</em> x"`` → ``"Fever x"``.

    >>> strip_highlight("<em class='found'>Fever</em> x"), strip_highlight(5)
    ('Fever x', None)
    """
    if not isinstance(title, str):
        return None
    return _EM.sub("", title) if title else title


def _labels(terms: Any, language: str | None) -> list[str]:
    out = []
    for term in items(terms):
        label = text(term.get("label"), language) if isinstance(term, Mapping) else text(term)
        if label is not None:
            out.append(label)
    return out


def _ids(value: Any) -> list[str]:
    out = []
    for uri in strings(value):
        key = parse_uri(uri)[2]
        if key:
            out.append(key)
    return out


def entity_record(
    payload: Mapping[str, Any],
    *,
    language: str | None = None,
    depth: int | None = None,
    parent_code: str | None = None,
    chapter: str | None = None,
    parent_id: str | None = None,
    release: str | None = None,
) -> dict[str, Any]:
    """One row (dict with :data:`ENTITY_COLUMNS`) from an MMS, foundation or ICD-10 entity.

    ``depth`` (chapter = 1), ``parent_code`` and ``chapter`` are context the payload does not
    hold; the session computes them. A chapter is its own chapter. A value of the wrong type
    is ``None`` (or ``[]``) in its column.

    >>> entity_record({"@id": 5, "code": {}, "child": [{}]})["id"] is None
    True
    """
    payload = payload_object(payload)
    uri = string(payload.get("@id"))
    lin, rel, key = parse_uri(uri)
    parents = _ids(payload.get("parent"))
    kind = string(payload.get("classKind"))
    code = string(payload.get("code"))
    if kind == "chapter" and chapter is None:
        chapter = code
    if kind == "chapter" and depth is None:
        depth = 1
    browser = string(payload.get("browserUrl"))
    child_ids = _ids(payload.get("child"))
    row: dict[str, Any] = {
        "id": key,
        "code": code,
        "title": text(payload.get("title"), language),
        "class_kind": kind,
        "depth": depth,
        "parent_id": parent_id if parent_id is not None else (parents[0] if parents else None),
        "parent_code": parent_code,
        "chapter": chapter,
        "block_id": string(payload.get("blockId")),
        "code_range": string(payload.get("codeRange")),
        "is_leaf": not child_ids,
        "is_residual": bool(key) and key.endswith(("/other", "/unspecified")),
        "definition": text(payload.get("definition"), language),
        "long_definition": text(payload.get("longDefinition"), language),
        "fully_specified_name": text(payload.get("fullySpecifiedName"), language),
        "coding_note": text(payload.get("codingNote"), language),
        "browser_url": browser if browser != "NA" else None,
        "uri": uri,
        "foundation_uri": string(payload.get("source")) or (uri if lin == "foundation" else None),
        "parent_ids": parents,
        "child_ids": child_ids,
    }
    for key_, column in _LIST_TERMS.items():
        row[column] = _labels(payload.get(key_), language)
    row["postcoordination_axes"] = [
        name.rsplit("/", 1)[-1] for axis in items(payload.get("postcoordinationScale"))
        if isinstance(axis, Mapping) and (name := string(axis.get("axisName")))
    ]
    if lin == "icd10" and kind == "block" and not row["code_range"]:
        row["code_range"] = code
    row["release"] = rel or release
    row["linearization"] = lin
    return row


def frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """A DataFrame with exactly ``columns`` (in that order), also when ``rows`` is empty."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    data = {c: [r.get(c) for r in rows] for c in columns}
    out = pd.DataFrame(data, columns=columns)
    if "depth" in out:
        out["depth"] = out["depth"].astype("Int64")
    return out


def entity_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """:func:`frame` with :data:`ENTITY_COLUMNS`."""
    return frame(rows, ENTITY_COLUMNS)


def entity_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """``rows`` column by column (:data:`ENTITY_COLUMNS`): how a crawl's result is kept."""
    return {c: [r.get(c) for r in rows] for c in ENTITY_COLUMNS}


def entity_frame_of_columns(data: Any) -> pd.DataFrame | None:
    """The entity frame of :func:`entity_columns` read back (``None`` unless ``data`` has
    exactly those columns, as lists of one length: anything else is recomputed).

    >>> entity_frame_of_columns(entity_columns([{"id": "1", "depth": 2}]))[["id", "depth"]]
      id  depth
    0  1      2
    >>> entity_frame_of_columns({"id": ["1"]}) is None
    True
    """
    if not isinstance(data, Mapping) or list(data) != ENTITY_COLUMNS:
        return None
    lengths = {len(v) if isinstance(v, list) else -1 for v in data.values()}
    if len(lengths) != 1 or -1 in lengths or not next(iter(lengths)):
        return None
    out = pd.DataFrame(data, columns=ENTITY_COLUMNS)
    out["depth"] = out["depth"].astype("Int64")
    return out


def _search_entities(entities: Any) -> Iterable[Mapping[str, Any]]:
    """The entities of a search answer and their ``descendants``, depth first (no recursion:
    a hostile answer can nest them as deep as JSON allows); non-objects are skipped."""
    stack = [iter(items(entities))]
    while stack:
        ent = next(stack[-1], _END)
        if ent is _END:
            stack.pop()
        elif isinstance(ent, Mapping):
            yield ent
            stack.append(iter(items(ent.get("descendants"))))


def search_frame(payload: Mapping[str, Any]) -> pd.DataFrame:
    """The ``destinationEntities`` of a search answer, best first, with :data:`SEARCH_COLUMNS`.

    Nested results (``flatResults=false``) are flattened. Plain ``title`` has the
    ``<em class='found'>`` markup removed; ``title_highlighted`` keeps it. Values of the wrong
    type are ``None``; a non-numeric ``score`` is NaN.

    >>> df = search_frame({"destinationEntities": [{"theCode": "1A00", "score": 0.9}, "x"]})
    >>> df["code"].tolist(), df["score"].tolist()
    (['1A00'], [0.9])
    """
    payload = payload_object(payload, "search answer")
    rows = []
    for ent in _search_entities(payload.get("destinationEntities")):
        pvs = [pv for pv in items(ent.get("matchingPVs")) if isinstance(pv, Mapping)]
        title = string(ent.get("title"))
        uri = string(ent.get("id"))
        rows.append({
            "code": string(ent.get("theCode")),
            "title": strip_highlight(title),
            "score": _number(ent.get("score")),
            "chapter": string(ent.get("chapter")),
            "id": uri_id(uri),
            "is_leaf": _flag(ent.get("isLeaf")),
            "is_residual_other": ent.get("isResidualOther") is True,
            "is_residual_unspecified": ent.get("isResidualUnspecified") is True,
            "n_matching_terms": len(pvs),
            "matching_terms": [strip_highlight(string(pv.get("label"))) for pv in pvs],
            "title_highlighted": title,
            "important": _flag(ent.get("important")),
            "postcoordination_availability": _scalar(ent.get("postcoordinationAvailability")),
            "entity_type": _scalar(ent.get("entityType")),
            "has_coding_note": _flag(ent.get("hasCodingNote")),
            "stem_id": uri_id(ent.get("stemId")),
            "uri": uri,
        })
    out = frame(rows, SEARCH_COLUMNS)
    if rows:
        out["score"] = pd.to_numeric(out["score"], errors="coerce")
        out = out.sort_values("score", ascending=False, kind="stable", na_position="last")
        out = out.reset_index(drop=True)
    return out


def autocode_record(text_: str, payload: Mapping[str, Any] | None,
                    title: str | None = None) -> dict[str, Any]:
    """One :data:`AUTOCODE_COLUMNS` row from an ``autocode`` answer (no match → no code).

    >>> autocode_record("cholera", {"theCode": "1A00", "matchScore": "high"})["score"] is None
    True
    """
    payload = {} if payload is None else payload_object(payload, "autocode answer")
    lin_uri = string(payload.get("linearizationURI"))
    fnd_uri = string(payload.get("foundationURI"))
    return {
        "text": text_,
        "code": string(payload.get("theCode")),
        "title": title,
        "score": _number(payload.get("matchScore")),
        "matching_text": string(payload.get("matchingText")),
        "match_level": _scalar(payload.get("matchLevel")),
        "match_type": _scalar(payload.get("matchType")),
        "is_title": _flag(payload.get("isTitle")),
        "id": uri_id(lin_uri or fnd_uri),
        "uri": lin_uri,
        "foundation_uri": fnd_uri,
    }


def term_rows(payload: Mapping[str, Any], language: str | None = None) -> list[dict[str, Any]]:
    """Long rows (:data:`TERM_COLUMNS`) of every term of an entity, one per label.

    >>> [r["label"] for r in term_rows({"synonym": [{"label": "a"}, 5, {"label": {}}]})]
    ['a']
    """
    payload = payload_object(payload)
    key = uri_id(payload.get("@id"))
    code = string(payload.get("code"))
    rows = []
    for name, kind in TERM_KINDS.items():
        value = payload.get(name)
        if value is None:
            continue
        terms = value if isinstance(value, list) else [{"label": value}]
        for term in terms:
            if not isinstance(term, Mapping):
                continue
            label = text(term.get("label"), language) if "label" in term else text(term, language)
            if label is None:
                continue
            fref = string(term.get("foundationReference"))
            lref = string(term.get("linearizationReference"))
            rows.append({
                "id": key, "code": code, "kind": kind, "label": label,
                "reference": lref or fref, "foundation_reference": fref,
                "linearization_reference": lref, "deprecated": term.get("deprecated") is True,
            })
    return rows
