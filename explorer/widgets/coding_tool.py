"""``CodingTool``: WHO's ICD-11 Embedded Classification Tool (ECT) inside Jupyter.

WHO's own search-as-you-type coding tool (``@whoicd/icd11ect`` 1.8.0, vendored unmodified in
``explorer/_vendor/icd11ect/``) runs in the notebook's page and talks to the API of the
session: WHO's API, WHO's local container or the sandbox. Nothing is fetched from the internet
to load it: the frontend asks the kernel for the ECT's script and style once per page (custom
messages, not widget state).

Authentication goes through the session. When the ECT needs a token it asks the kernel (a
custom message); the kernel answers with the session's current token — renewed by the session
when it is about to expire — in a custom message too. No token is ever part of the widget's
synced state, so none reaches the notebook file or its saved widget state.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
>>> tool = CodingTool(icd)
>>> tool.api_server_url == icd.base_url, tool.api_secured
(True, True)
>>> tool.on_select(lambda row: print("picked", row["code"]))
>>> tool.selection.columns.tolist()[:3]
['code', 'title', 'search_query']

Selections made in the tool land in :attr:`CodingTool.selection` (a DataFrame) and go to the
``on_select`` callbacks. Licence: the ECT is WHO's, used under its *ICD-11 Terms of Use and
License Agreement* section 2 (incorporated in an application, not modified, not sold on its
own): ``explorer/_vendor/icd11ect/license.pdf`` and ``README.md`` beside it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as w
import pandas as pd
import traitlets

from ._util import WAITING, when_connected

__all__ = ["ECT_DIR", "ECT_VERSION", "SELECTION_COLUMNS", "CodingTool", "ect_assets"]

log = logging.getLogger(__name__)

_STATIC = Path(__file__).with_name("static")
#: The vendored ECT: ``index.js``, ``style.css``, ``license.pdf`` (WHO's terms), ``README.md``.
ECT_DIR = Path(__file__).resolve().parents[1] / "_vendor" / "icd11ect"
ECT_VERSION = "1.8.0"
#: Columns of :attr:`CodingTool.selection`, one row per pick in the tool.
SELECTION_COLUMNS = ["code", "title", "search_query", "selected_text", "best_match_text",
                     "linearization_uri", "foundation_uri", "uri"]
#: The ECT's field → our column (everything it passes to ``selectedEntityFunction``).
_ECT_FIELDS = {"code": "code", "title": "title", "searchQuery": "search_query",
               "selectedText": "selected_text", "bestMatchText": "best_match_text",
               "linearizationUri": "linearization_uri", "foundationUri": "foundation_uri",
               "uri": "uri"}
#: The ECT asks for a new token 300 s before the token's ``exp``; hand it one that lasts
#: longer than that, or it would ask again before every call.
ECT_EXPIRY_MARGIN = 300.0
#: ECT settings a caller may pass (the server, security, language and release come from the
#: session); see WHO's ECT documentation.
ECT_SETTINGS = frozenset({
    "popupMode", "simplifiedMode", "disableHierarchy", "wordsAvailable", "chaptersAvailable",
    "chaptersFilter", "subtreesFilter", "flexisearchAvailable", "searchByCodeOrURI", "height",
    "enableKeyboard", "hierarchyResizable", "otherPostcoordination", "sourceApp",
    "medicalCodingMode", "includeDiagnosticCriteria", "viewSelectedURI", "enableSelectButton",
})
_MAX_TEXT = 2000


@lru_cache(maxsize=1)
def ect_assets() -> tuple[bytes, bytes]:
    """The vendored ECT's ``index.js`` and ``style.css``, as bytes (read once).

    >>> js, css = ect_assets()
    >>> len(js) > 700_000, b".ectComponent" in css
    (True, True)
    """
    return (ECT_DIR / "index.js").read_bytes(), (ECT_DIR / "style.css").read_bytes()


class CodingTool(anywidget.AnyWidget):
    """WHO's ICD-11 Embedded Coding Tool on an ICD session (or a :class:`CredentialForm`:
    it waits for the connection).

    Type in the box: WHO's search-as-you-type results, chapters filter, details and
    postcoordination, as on WHO's site. A pick goes to :attr:`selection` and to the
    ``on_select`` callbacks (a ``pd.Series`` with :data:`SELECTION_COLUMNS`).
    ``settings`` passes documented ECT settings (``{"flexisearchAvailable": False}``…).

    >>> import explorer
    >>> icd = explorer.connect("icd", sandbox=True, cache=False, progress=False)
    >>> tool = CodingTool(icd, settings={"chaptersAvailable": False})
    >>> tool.search("cholera")          # types it into the tool (in the browser)
    >>> tool.selection.empty
    True
    """

    _esm = _STATIC / "coding_tool.js"
    _css = _STATIC / "coding_tool.css"

    #: The ECT's ``apiServerUrl``: the session's base URL ("" while waiting for a form).
    api_server_url = traitlets.Unicode("").tag(sync=True)
    #: The ECT's ``apiSecured``: whether the API wants a token (not on WHO's local container).
    api_secured = traitlets.Bool(True).tag(sync=True)
    #: The ECT's ``language`` (the session's).
    language = traitlets.Unicode("en").tag(sync=True)
    #: The ECT's ``minorVersion``: the session's release ("" for the server's latest).
    release = traitlets.Unicode("").tag(sync=True)
    #: Other ECT settings (only the names in ``ECT_SETTINGS``).
    settings = traitlets.Dict().tag(sync=True)
    #: A line shown above the tool (who it talks to).
    caption = traitlets.Unicode("").tag(sync=True)

    def __init__(self, session: Any, *, settings: Mapping[str, Any] | None = None,
                 on_select: Callable[[pd.Series], Any] | None = None, **kwargs: Any) -> None:
        unknown = sorted(set(settings or {}) - ECT_SETTINGS)
        if unknown:
            raise ValueError(f"unknown ECT settings {unknown}; allowed: "
                             f"{', '.join(sorted(ECT_SETTINGS))} (the server, security, "
                             "language and release come from the session)")
        super().__init__(settings=dict(settings or {}), **kwargs)
        self.selection = pd.DataFrame(columns=SELECTION_COLUMNS)
        self.last: dict[str, Any] | None = None
        #: What the tool in the browser last reported: ``waiting``, ``loading``, ``ready`` or
        #: ``error: …`` (``""`` before any view reported).
        self.status = ""
        self.tokens_given = 0
        self._session: Any = None
        self._handlers = w.CallbackDispatcher()
        if on_select is not None:
            self.on_select(on_select)
        self.on_msg(self._on_msg)
        name = getattr(session, "api", None)
        name = getattr(name, "name", name)
        if name is not None and name != "icd":
            raise ValueError(f"CodingTool needs an ICD session or form, not {name!r}")
        when_connected(session, self._connected, lambda: setattr(self, "caption", WAITING))

    # -- connection -----------------------------------------------------------------------------
    def _connected(self, session: Any) -> None:
        if getattr(session, "revision", 11) != 11:
            raise ValueError("the Embedded Coding Tool codes in ICD-11: pass an ICD-11 session")
        self._session = session
        release = ""
        try:
            release = session.release or ""
        except Exception as exc:  # noqa: BLE001 - the ECT then uses the server's latest
            log.debug("no release from the session: %s", exc)
        with self.hold_sync():
            self.language = getattr(session, "language", "en") or "en"
            self.release = release
            self.api_secured = getattr(session, "flow", None) is not None
            self.api_server_url = session.base_url
            self.caption = (f"WHO ICD-11 Coding Tool {ECT_VERSION} — {session.api.title} "
                            f"[{session.deployment}] {session.base_url}"
                            + (f", release {release}" if release else ""))

    @property
    def session(self) -> Any:
        """The ICD session in use (``None`` while waiting for a form)."""
        return self._session

    # -- from Python to the tool ----------------------------------------------------------------
    def search(self, text: str) -> None:
        """Type ``text`` into the tool (every view of it); the results show in the browser."""
        self.send({"event": "search", "q": str(text)})

    def clear(self) -> pd.DataFrame:
        """Empty :attr:`selection` and the tool's search box."""
        self.selection = pd.DataFrame(columns=SELECTION_COLUMNS)
        self.last = None
        self.send({"event": "clear"})
        return self.selection

    def on_select(self, callback: Callable[[pd.Series], Any], remove: bool = False) -> None:
        """Call ``callback(row)`` for each pick in the tool (``row``: a Series with
        :data:`SELECTION_COLUMNS`). ``remove=True`` unregisters it."""
        self._handlers.register_callback(callback, remove=remove)

    # -- from the tool --------------------------------------------------------------------------
    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, Mapping):
            self._handle(content)

    def _handle(self, content: Mapping[str, Any]) -> None:
        """One message from the browser: ``assets``, ``token`` (with an ``id``), ``select``
        (with the ECT's ``entity``) or ``status``."""
        event = content.get("event")
        if event == "assets":
            js, css = ect_assets()
            self.send({"event": "assets", "version": ECT_VERSION}, buffers=[js, css])
        elif event == "token":
            self._give_token(content.get("id"))
        elif event == "select" and isinstance(content.get("entity"), Mapping):
            self._picked(content["entity"])
        elif event == "status" and isinstance(content.get("state"), str):
            self.status = content["state"][:_MAX_TEXT]

    def _give_token(self, request_id: Any) -> None:
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            return
        try:
            token = self._token()
        except Exception as exc:  # noqa: BLE001 - told to the tool, redacted
            redact = getattr(self._session, "redact", None)
            text = str(exc) if redact is None else redact(str(exc))
            self.send({"event": "token", "id": request_id, "error": text[:_MAX_TEXT]})
            return
        self.tokens_given += 1
        self.send({"event": "token", "id": request_id, "token": token})

    def _token(self) -> str:
        """The session's access token for the ECT: valid now and, when the token's lifetime
        allows, for longer than the ECT's 300 s margin (the session renews it)."""
        session = self._session
        if session is None:
            raise RuntimeError("not connected yet")
        flow = getattr(session, "flow", None)
        if flow is None:
            raise RuntimeError("this session does not authenticate (apiSecured is off)")
        token = flow.token()
        if token.lifetime > 2 * (ECT_EXPIRY_MARGIN + 30) and \
                token.expires_in < ECT_EXPIRY_MARGIN + 30:
            token = flow.renew(token)
        return token.access_token

    def _picked(self, entity: Mapping[str, Any]) -> None:
        row = {column: None for column in SELECTION_COLUMNS}
        for key, column in _ECT_FIELDS.items():
            value = entity.get(key)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                row[column] = str(value)[:_MAX_TEXT]
        if not row["code"] and not row["linearization_uri"] and not row["uri"]:
            return
        new = pd.DataFrame([row], columns=SELECTION_COLUMNS)
        self.selection = new if self.selection.empty else pd.concat(
            [self.selection, new], ignore_index=True)
        self.last = row
        self._handlers(self.selection.iloc[-1])

    def __repr__(self) -> str:
        where = self.api_server_url or "not connected"
        return f"<CodingTool {where} selection={len(self.selection)}>"
