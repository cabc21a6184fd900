"""The cycle's one-line summary counts in the singular where there is one (docs/cli.md)."""

from __future__ import annotations

import pytest

from pipeline.cycle import CycleReport, FeedReport


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([1], "cycle: 1 feed, 1 fetched, 0 not modified, 0 failed, 0 held back; 1 entry, 1 new,"),
        ([2, 0], "cycle: 2 feeds, 2 fetched, 0 not modified, 0 failed, 0 held back; 2 entries, 2 new,"),
        ([], "cycle: 0 feeds, 0 fetched, 0 not modified, 0 failed, 0 held back; 0 entries, 0 new,"),
    ],
)
def test_summary_counts_feeds_and_entries_in_words(entries: list[int], expected: str) -> None:
    report = CycleReport(
        [
            FeedReport(f"f{index}", f"https://example.org/{index}", entries=count, new=count)
            for index, count in enumerate(entries)
        ]
    )
    assert report.summary().startswith(expected)
