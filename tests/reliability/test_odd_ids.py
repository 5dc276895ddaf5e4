"""Odd ids (issue item 17): ``'..'``, ``'.'`` and ``''`` are ids no URL can hold.

Given to any helper of ITCare, GOPACS or Jindexe that takes an id — as a value, or inside the
row or JSON object a helper also accepts — they must raise the typed
:class:`explorer.errors.NotFound` (as ICD does) and never send a request: the sandbox, over
127.0.0.1, must have received nothing, not even a token request.

The list of helpers is checked against the session classes themselves: a new helper whose
first argument is an id must be added here (closing the class, not only the examples).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import explorer
from explorer import apis, sandbox
from explorer.errors import NotFound
from explorer.session import Session

ODD = ["..", ".", ""]

#: (provider, helper, how to call it with an odd id ``x``)
CASES: list[tuple[str, str, Callable[[Any, str], Any]]] = [
    ("itcare", "instance", lambda s, x: s.instance(x)),
    ("itcare", "instance", lambda s, x: s.instance(x, include=True)),
    ("itcare", "networks", lambda s, x: s.networks(x)),
    ("itcare", "filesystems", lambda s, x: s.filesystems(x)),
    ("itcare", "snapshots", lambda s, x: s.snapshots(x)),
    ("itcare", "service", lambda s, x: s.service(x)),
    ("itcare", "action", lambda s, x: s.action(x)),
    ("itcare", "action", lambda s, x: s.action({"id": x, "status": "IN_PROGRESS"})),
    ("itcare", "wait", lambda s, x: s.wait(x, timeout=1, interval=0.1, progress=False)),
    ("itcare", "wait", lambda s, x: s.wait({"id": x, "status": "IN_PROGRESS"}, timeout=1,
                                           interval=0.1, progress=False)),
    ("gopacs", "announcement", lambda s, x: s.announcement(x)),
    ("gopacs", "announcement_profile", lambda s, x: s.announcement_profile(x)),
    ("gopacs", "plot_profile", lambda s, x: s.plot_profile(x)),
    ("gopacs", "ean_effectivity", lambda s, x: s.ean_effectivity(x)),
    ("gopacs", "ean_effectivity", lambda s, x: s.ean_effectivity({"id": x})),
    ("gopacs", "participant", lambda s, x: s.participant(x)),
    ("gopacs", "contract_participants", lambda s, x: s.contract_participants(x)),
    ("gopacs", "contract_participants", lambda s, x: s.contract_participants("C-1", role=x)),
    ("jindexe", "establishment", lambda s, x: s.establishment(x)),
    ("jindexe", "listing", lambda s, x: s.listing(x)),
    ("jindexe", "posts", lambda s, x: s.posts(x, progress=False)),
]
#: positional first parameters that are not ids
NOT_IDS = {"self"}


@pytest.fixture(scope="module")
def box() -> Iterator[sandbox.Sandbox]:
    with sandbox.start() as s:
        yield s


@pytest.fixture(scope="module")
def sessions(box) -> dict[str, Any]:
    return {name: explorer.connect(name, sandbox=box) for name in ("itcare", "gopacs", "jindexe")}


def _case_id(case: tuple[str, str, Callable[[Any, str], Any]], index: int) -> str:
    return f"{case[0]}.{case[1]}#{index}"


PARAMS = [
    pytest.param(provider, helper, call, odd, id=f"{_case_id((provider, helper, call), i)}-"
                                             f"{odd or 'empty'}",
)
    for i, (provider, helper, call) in enumerate(CASES) for odd in ODD
]


@pytest.mark.parametrize("provider, helper, call, odd", PARAMS)
def test_an_odd_id_is_not_found_and_sends_nothing(box, sessions, provider, helper, call, odd):
    session = sessions[provider]
    box.reset_counters()
    with pytest.raises(NotFound) as caught:
        call(session, odd)
    assert box.count() == 0 and box.token_requests() == 0, "a request was sent"
    assert caught.value.provider == provider
    assert repr(odd) in str(caught.value)  # the message names the id it refused


def _id_helpers(cls: type[Session]) -> set[str]:
    """Public helpers of ``cls`` (not of :class:`Session`) whose first argument is required and
    positional: an id, a code or a record."""
    found = set()
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_") or hasattr(Session, name):
            continue
        params = [p for p in inspect.signature(member).parameters.values()
                  if p.name not in NOT_IDS]
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        if params and params[0].kind in positional and params[0].default is inspect.Parameter.empty:
            found.add(name)
    return found


@pytest.mark.parametrize("provider", ["itcare", "gopacs", "jindexe"])
def test_every_helper_that_takes_an_id_is_in_the_list(provider):
    declared = _id_helpers(apis.get(provider).session_class)
    covered = {helper for name, helper, _ in CASES if name == provider}
    assert declared - covered == set(), f"add these {provider} helpers to CASES"
    assert covered - declared == set()
