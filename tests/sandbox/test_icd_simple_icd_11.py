"""The PyPI client ``simple-icd-11`` (unchanged) against the sandbox's no-auth container mount.

Its local-deployment mode (``ICDExplorer(..., customUrl=...)`` -> ``ICDOtherAPIClient``) checks
``HEAD {url}icd/entity`` answers 405, then walks ``/icd/release/11/...`` with ``codeinfo`` and
``include=diagnosticCriteria`` look-ups. Every answer here comes from WHO's release files.
"""

from __future__ import annotations

import pytest

from explorer import sandbox
from explorer.sandbox.icd_data import IcdStore

simple_icd_11 = pytest.importorskip(
    "simple_icd_11", reason="simple-icd-11 is not installed (pip install simple-icd-11)")


@pytest.fixture(scope="module")
def container_url():
    with sandbox.start() as sb:
        yield sb.credentials("icd", auth=False)["base_url"] + "/"


def test_latest_release_and_lookups(container_url):
    ex = simple_icd_11.ICDExplorer("en", "", "", customUrl=container_url)
    assert ex.getRelease() == "2025-01"
    cholera = ex.getEntityFromCode("1A00")
    assert (cholera.getId(), cholera.getTitle(), cholera.getClassKind()) == (
        "257068234", "Cholera", "category")
    assert cholera.getDefinition().startswith("Cholera is a potentially epidemic")
    assert [a.getAxisName() for a in cholera.getPostcoordinationScale()] == [
        "infectiousAgent", "associatedWith"]
    assert cholera.getParent().getTitle() == "Bacterial intestinal infections"
    assert [a.getCode() for a in cholera.getAncestors()] == ["", "", "01"]
    assert ex.getEntityFromCode("CA23").getTitle() == "Asthma"
    assert ex.getEntityFromCode("1F0Y").isResidual() is True
    assert ex.isValidCode("XK8G") and not ex.isValidCode("banana")
    assert not ex.isValidId("5")
    ka6 = ex.getEntityFromId("911707612")
    assert (ka6.getBlockId(), ka6.getCodeRange()) == ("BlockL1-KA6", "KA60-KA6Z")
    assert [e.getId() for e in ka6.getExclusion(includeFromUpperLevels=False)][:1] == [
        "1000704511"]
    assert ex.getEntityFromCode("8B20").getExclusion(includeFromUpperLevels=False)[0]\
        .getCode() == "8B25.4"


def test_descendants_of_a_chapter_are_the_files(container_url):
    ex = simple_icd_11.ICDExplorer("en", "", "", release="2024-01", customUrl=container_url)
    chapter = ex.getEntityFromCode("17")
    assert chapter.getTitle() == "Conditions related to sexual health"
    got = [e.getId() for e in chapter.getDescendants()]
    rel = IcdStore().release("2024-01")
    row = rel.by_code["17"]
    assert got == [rel.keys[r] for r in range(row + 1, rel.ends[row])]  # tabular order
    assert {e.getCode() for e in chapter.getDescendants()} >= {"HA00", "HA0Z"}


def test_code_ranges_as_codes(container_url):
    ex = simple_icd_11.ICDExplorer("en", "", "", customUrl=container_url,
                                   useCodeRangesAsCodes=True)
    block = ex.getEntityFromCode("1B10-1B1Z")
    assert block.getTitle() == "Tuberculosis" and block.getClassKind() == "block"
