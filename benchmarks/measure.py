"""Run a command as a child process and measure it: wall time, and peak memory two ways.

- `peak_rss_mb`: the child's own peak resident set (VmHWM from /proc, read while it runs; a
  high-water mark, so a sample taken after the peak still sees it).
- `peak_tree_rss_mb`: the peak of the summed resident sets of the child and all its descendants
  (newswatch's extraction workers are processes of their own), sampled every `SAMPLE_SECONDS`.
  A page shared by several processes (a library's code, or what forked workers inherited from
  the process they were forked from) is counted once per process, so this overstates what the
  tree costs the machine, by more the more the processes share.
- `peak_tree_pss_mb`: the peak of the summed proportional set sizes (PSS, from
  /proc/PID/smaps_rollup: each resident page divided by the number of processes mapping it),
  sampled every `PSS_SAMPLE_SECONDS` (the kernel walks the page tables for it, so it is read less
  often). Summed over a tree it counts every page once: what the tree costs in memory. PSS has
  no high-water mark, so a peak shorter than the sampling interval can be missed.
- `processes`: each process's own peak RSS (VmHWM) and sampled peak PSS, by what it is.

wait4's ru_maxrss is not used: Linux carries the parent's resident set at fork into the child's
maximum, so a child started by a large benchmark process would report the benchmark's size.

`cpu_seconds` is the user and system CPU time of the child and all its descendants. A descendant
its parent does not wait for (newswatch's fork server, which exits just after the daemon, with the
CPU time of the workers it forked and reaped) is handed to this process as their subreaper and
waited for here, so its time is counted too. Other jobs on a shared machine inflate it (the same
loop cost 55 ms and 95 ms of CPU a page in two runs an hour apart), but far less unevenly than
wall time: ratios of CPU times within one run are what to compare.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.05
PSS_SAMPLE_SECONDS = 0.5
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class ProcessRun:
    """One child process: wall time, CPU time (its own and its reaped children's) and peak resident
    memory. On this shared machine wall time follows the other jobs' load; CPU time much less so."""

    wall_seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    peak_tree_rss_mb: float = 0.0
    cpu_seconds: float = 0.0
    peak_tree_pss_mb: float = 0.0
    processes: list[ProcessPeak] = field(default_factory=list)


@dataclass
class ProcessPeak:
    """One process of a measured tree: what it is (from its command line) and its peaks."""

    pid: int
    role: str
    peak_rss_mb: float = 0.0
    peak_pss_mb: float = 0.0


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, CPU clock ticks spent: utime + stime), for every process in /proc."""
    table: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                # The command name may hold spaces and parentheses; the fields after it do not.
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process visible in /proc."""
    tree: dict[int, list[int]] = {}
    for pid, (parent, _) in process_table().items():
        tree.setdefault(parent, []).append(pid)
    return tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def high_water_mb(pid: int) -> float:
    """The peak resident set of one process so far (VmHWM), in MB; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def pss_mb(pid: int) -> float:
    """The proportional set size of one process now, in MB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def descendants(root: int) -> list[int]:
    """`root` and every process below it, parents first."""
    tree = _children()
    found, pending = [], [root]
    while pending:
        pid = pending.pop(0)
        found.append(pid)
        pending.extend(tree.get(pid, ()))
    return found


def tree_rss_mb(root: int) -> float:
    """The summed resident set of `root` and all its descendants now, in MB."""
    return sum(_rss_kb(pid) for pid in descendants(root)) / 1024


def role(pid: int, root: int) -> str:
    """What a process of the measured tree is, in a few words, from its command line."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if pid == root:
        return "measured process"
    if "resource_tracker" in command:
        return "multiprocessing resource tracker"
    if "forkserver" in command:
        # Workers forked by the fork server keep its command line; the server is their parent.
        return "extraction worker (forked)" if _parent(pid) != root else "fork server"
    if "spawn_main" in command:
        return "extraction worker (spawned)"
    return command[:60]


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


class TreeSampler:
    """Samples the process tree under a pid in a thread and keeps the peak."""

    def __init__(self, root: int, interval: float = SAMPLE_SECONDS) -> None:
        self.root = root
        self.interval = interval
        self.peak_mb = 0.0
        # The root process's own peak (not its workers'), as last read before it exited.
        self.root_peak_mb = 0.0
        # The peak of the tree's summed PSS, and each process's own peaks, by pid.
        self.peak_pss_mb = 0.0
        self.processes: dict[int, ProcessPeak] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-rss", daemon=True)

    def sample(self, *, pss: bool = True) -> None:
        pids = descendants(self.root)
        self.peak_mb = max(self.peak_mb, sum(_rss_kb(pid) for pid in pids) / 1024)
        self.root_peak_mb = max(self.root_peak_mb, high_water_mb(self.root))
        tree_pss = 0.0
        for pid in pids:
            peak = self.processes.get(pid)
            if peak is None:
                peak = self.processes[pid] = ProcessPeak(pid, role(pid, self.root))
            peak.peak_rss_mb = max(peak.peak_rss_mb, high_water_mb(pid))
            if pss:
                own = pss_mb(pid)
                peak.peak_pss_mb = max(peak.peak_pss_mb, own)
                tree_pss += own
        self.peak_pss_mb = max(self.peak_pss_mb, tree_pss)

    def _run(self) -> None:
        every = max(1, round(PSS_SAMPLE_SECONDS / self.interval))
        count = 0
        while not self._stop.is_set():
            self.sample(pss=count % every == 0)
            count += 1
            self._stop.wait(self.interval)

    def peaks(self) -> list[ProcessPeak]:
        """Each process seen, largest PSS first."""
        return sorted(self.processes.values(), key=lambda peak: -peak.peak_pss_mb)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


PR_SET_CHILD_SUBREAPER = 36
ORPHAN_WAIT_SECONDS = 30.0


def _become_subreaper() -> bool:
    """Orphaned descendants of our children become ours (Linux), so their CPU time can be
    collected by waiting for them; False where the call is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap_orphans(pids: list[int], deadline: float) -> None:
    """Wait for each of `pids` that is now this process's child (orphaned, handed to us)."""
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break  # not ours: reaped by its own parent, whose time we get through it
            if done:
                break
            time.sleep(0.05)


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(
    command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> ProcessRun:
    """Run `command` to its end, timing it and measuring its peak memory and CPU time (no other
    child of this process may end meanwhile: their CPU time would be counted too)."""
    stem = Path(os.environ.get("TMPDIR", "/tmp")) / f"nw-bench-{os.getpid()}-{time.monotonic_ns()}"
    with open(f"{stem}.out", "w+") as out, open(f"{stem}.err", "w+") as err:
        cpu_before = _children_cpu_seconds()
        started = time.perf_counter()
        _become_subreaper()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        with TreeSampler(process.pid) as sampler:
            process.wait()
        wall = time.perf_counter() - started
        left = [pid for pid in sampler.processes if pid != process.pid]
        _reap_orphans(left, time.monotonic() + ORPHAN_WAIT_SECONDS)
        cpu = _children_cpu_seconds() - cpu_before
        out.seek(0)
        err.seek(0)
        result = ProcessRun(
            wall_seconds=wall,
            peak_rss_mb=sampler.root_peak_mb,
            returncode=process.returncode,
            stdout=out.read(),
            stderr=err.read(),
            peak_tree_rss_mb=max(sampler.peak_mb, sampler.root_peak_mb),
            cpu_seconds=cpu,
            peak_tree_pss_mb=sampler.peak_pss_mb,
            processes=sampler.peaks(),
        )
    for suffix in (".out", ".err"):
        Path(f"{stem}{suffix}").unlink(missing_ok=True)
    return result
