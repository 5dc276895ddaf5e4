"""``explorer._gc.no_gc``: the collector is process-wide, so overlapping blocks in several
threads must leave it as it was — checked in a fresh interpreter (in this one, a sandbox
started by another test may be parsing a release inside its own block)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCENARIO = """
import gc, threading
from explorer._gc import no_gc

seen = []
inside, release = threading.Event(), threading.Event()

def other():
    with no_gc():
        inside.set()
        release.wait(10)

thread = threading.Thread(target=other)
seen.append(gc.isenabled())              # before: on
with no_gc():
    thread.start()
    inside.wait(10)
    seen.append(gc.isenabled())          # both inside: off
seen.append(gc.isenabled())              # the other still inside: off
release.set()
thread.join(10)
seen.append(gc.isenabled())              # both done: on again
try:
    with no_gc():
        raise KeyError
except KeyError:
    pass
seen.append(gc.isenabled())              # after an error: on
gc.disable()
with no_gc():
    pass
seen.append(gc.isenabled())              # off before: stays off
print(seen)
"""


def test_overlapping_blocks_in_two_threads_restore_the_collector():
    out = subprocess.run([sys.executable, "-c", SCENARIO], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True).stdout.strip()
    assert out == "[True, False, False, True, True, False]"
