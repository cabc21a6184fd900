"""benchmarks/profile.py reads what py-spy really writes: a parent's samples and its spawned
workers' samples told apart, and stages found on the stack. Asserts no speed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.profile import parse_folded, py_spy_path, shares_of

# A parent that spins in one function while a spawned worker (as ExtractionPool starts them) spins
# in another whose name is one of the profile's stages.
PARENT_AND_WORKER = """
import multiprocessing, time
from concurrent.futures import ProcessPoolExecutor

def page_or_summary(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

def parent_spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

if __name__ == "__main__":
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        job = pool.submit(page_or_summary, 1.5)
        parent_spin(1.5)
        job.result()
"""


@pytest.mark.timeout(120)
def test_parent_and_worker_samples_are_told_apart(tmp_path: Path) -> None:
    py_spy = py_spy_path()
    script = tmp_path / "spin.py"
    script.write_text(PARENT_AND_WORKER)
    out = tmp_path / "spin.folded"
    recorded = subprocess.run(
        [
            *(py_spy, "record", "--subprocesses", "--gil", "--rate", "100", "--format", "raw"),
            *("--output", str(out), "--", sys.executable, str(script)),
        ],
        capture_output=True,
        text=True,
    )
    if recorded.returncode != 0 and "ptrace" in recorded.stderr.lower():
        pytest.skip(f"py-spy may not trace here: {recorded.stderr.strip()[:200]}")
    assert recorded.returncode == 0, recorded.stderr

    inclusive, _owned, staged = shares_of(parse_folded(out))

    assert set(inclusive) == {"parent", "worker"}
    assert any(name.startswith("parent_spin (") for name in inclusive["parent"])
    assert not any(name.startswith("parent_spin (") for name in inclusive["worker"])
    assert staged["worker"]["page extraction (trafilatura)"] > 0
    assert staged["parent"]["page extraction (trafilatura)"] == 0
