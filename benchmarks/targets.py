"""Issue 16's targets against one `python -m benchmarks` run: each figure as a ratio against the
baseline measured in the same run, the target, and whether it is met, as a Markdown table (the one
the README shows). Pure: reads the results the benchmarks return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    figure: str
    measured: float
    unit: str  # "x" for a ratio, "MB", "articles/s"
    baseline: str  # what the figure is measured against, in the same run
    target: float
    comparison: str  # ">=" (at least), "<=" (at most) or "<" (under), as the issue words it

    @property
    def met(self) -> bool:
        if self.comparison == ">=":
            return self.measured >= self.target
        if self.comparison == "<=":
            return self.measured <= self.target
        return self.measured < self.target

    def row(self) -> str:
        return (
            f"| {self.figure} | {_number(self.measured, self.unit)} | {self.baseline} | "
            f"{self.comparison} {_number(self.target, self.unit)} | {'met' if self.met else 'not met'} |"
        )


def _number(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:,.0f} {unit}"


def collect(
    speed: dict[str, Any],
    footprint: dict[str, Any] | None,
    scale: dict[str, Any] | None,
    polling: dict[str, Any] | None,
) -> list[Target]:
    """The targets this run measured (a benchmark skipped, or run without its peer, gives none)."""
    verdicts = speed["verdicts"]
    rows = {row["name"]: row for row in speed["rows"]}
    loop = "bare trafilatura loop"
    targets = [
        Target("end to end, 2 extraction workers", verdicts["two_workers_x_limit"], "x", loop, 1.8, ">="),
        Target("end to end, 1 extraction worker", verdicts["one_worker_x_limit"], "x", loop, 0.95, ">="),
    ]
    summary = rows.get("newswatch once, feed-summary mode (no pages)")
    peer = rows.get("rss2email run (first: every item new)")
    if summary is not None and peer is not None:
        speed_ratio = peer["seconds"] / summary["seconds"]
        targets.append(Target("feed-summary mode, speed", speed_ratio, "x", "rss2email", 1.0, ">="))
        memory = summary["peak_tree_rss_mb"] / peer["peak_rss_mb"]
        targets.append(Target("feed-summary mode, peak memory", memory, "x", "rss2email", 2.0, "<="))
    if polling is not None and "ratio_304_process" in polling["verdicts"]:
        ratio = polling["verdicts"]["ratio_304_process"]
        figure = "all-304 poll of 1,000 feeds, whole processes"
        targets.append(Target(figure, ratio, "x", "rss2email", 2.0, ">="))
    if footprint is not None:
        pss = footprint["peak_tree_pss_mb"]
        limit = footprint["target_mb"]
        figure = "daemon + 2 workers, 100,000 stored articles (PSS)"
        targets.append(Target(figure, pss, "MB", "-", limit, "<"))
    if scale is not None and scale["sizes"][-1]["topics"] >= 100_000:
        rate = scale["rate_at_largest"]
        targets.append(Target("matcher at 100,000 topics, one core", rate, "articles/s", "-", 500, ">="))
        step = scale["worst_step"]
        figure = "matcher, 10x the topics (worst step)"
        targets.append(Target(figure, step, "x", "time per article", 2.0, "<"))
    return targets


def render(targets: list[Target], machine: str) -> str:
    lines = [
        f"Targets against this run ({machine}):",
        "",
        "| figure | this run | against | target | |",
        "|---|---|---|---|---|",
        *(target.row() for target in targets),
    ]
    return "\n".join(lines)
