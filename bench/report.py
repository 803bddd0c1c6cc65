"""The results of a run: a table on stdout, and the same as Markdown and JSON in bench/results/."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from .client import Measurement
from .pages import WORKER_MEMORY_TARGET_MB, Page
from .server import WorkerMemory

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COLUMNS = ["page", "path", "requests", "errors", "median ms", "p95 ms", "p99 ms", "req/s", "p95 target"]


def machine() -> dict[str, Any]:
    """Cores, memory and processor of this machine."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    for path, key, label in (("/proc/meminfo", "MemTotal", "memory_gb"), ("/proc/cpuinfo", "model name", "cpu")):
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:
            continue
        value = next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key)), "")
        info[label] = round(int(value.split()[0]) / 1024**2, 1) if label == "memory_gb" and value else value
    return info


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: other work on the machine skews the figures."""
    return [round(value, 2) for value in os.getloadavg()]


def page_result(page: Page, measurement: Measurement) -> dict[str, Any]:
    p95 = measurement.percentile(95)
    met = (
        None if page.p95_target_ms is None else p95 is not None and p95 < page.p95_target_ms and not measurement.errors
    )
    return {
        "page": page.name,
        "path": page.path,
        "requests": measurement.requests,
        "errors": measurement.error_count,
        "error_kinds": dict(measurement.errors.most_common()),
        "stopped_early": measurement.stopped_early,
        "median_ms": _round(measurement.percentile(50)),
        "p95_ms": _round(p95),
        "p99_ms": _round(measurement.percentile(99)),
        "max_ms": _round(max(measurement.latencies_ms, default=None)),
        "requests_per_second": round(measurement.per_second, 1),
        "p95_target_ms": page.p95_target_ms,
        "target_met": met,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def worker_results(memory: list[WorkerMemory]) -> list[dict[str, Any]]:
    return [
        {"pid": w.pid, "rss_mb": w.rss_mb, "peak_mb": w.peak_mb, "target_met": w.rss_mb < WORKER_MEMORY_TARGET_MB}
        for w in memory
    ]


def _verdict(met: bool | None, target: float | None, unit: str) -> str:
    return "" if met is None or target is None else f"< {target:g} {unit} {'ok' if met else 'MISSED'}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for p in report["pages"]:
        target = _verdict(p["target_met"], p["p95_target_ms"], "ms")
        errors = str(p["errors"]) + (" (stopped: time limit)" if p["stopped_early"] else "")
        numbers = [_number(p[key]) for key in ("median_ms", "p95_ms", "p99_ms", "requests_per_second")]
        rows.append([p["page"], p["path"], str(p["requests"]), errors, *numbers, target])
    return rows


def _headline(report: dict[str, Any]) -> list[str]:
    m, run = report["machine"], report["run"]
    rows = ", ".join(f"{count:,} {name}" for name, count in report["data"]["rows"].items())
    return [
        f"Date: {report['date']}",
        f"Data: {rows} (size {run['size']:,})",
        f"Database: {report['database']['version']}, cache: {report['database']['cache']}",
        f"Machine: {m['cores']} cores, {m.get('memory_gb', '?')} GB, {m.get('cpu', '?')}; Python {m['python']}",
        f"Load average (1, 5, 15 min): {_loads(m.get('load_before'))} before, {_loads(m.get('load_after'))} after"
        + (" - other work was competing for the CPU, figures are pessimistic" if _busy(m) else ""),
        f"Load: gunicorn {run['workers']} sync workers, {run['concurrency']} client threads, "
        f"{run['requests']} requests per page after {run['warmup']} warm-up",
    ]


def _busy(m: dict[str, Any]) -> bool:
    """Was the machine busy with other work before the run started?"""
    before = m.get("load_before") or [0.0]
    return bool(before[0] > 0.5 * (m.get("cores") or 1))


def _loads(values: list[float] | None) -> str:
    return " / ".join(f"{v:.2f}" for v in values) if values else "?"


def _memory_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for w in report["workers"]:
        verdict = _verdict(w["target_met"], WORKER_MEMORY_TARGET_MB, "MB")
        if w["peak_mb"] >= WORKER_MEMORY_TARGET_MB:
            verdict += ", but the peak was above it"
        rss, peak = f"{w['rss_mb']:.1f} MB resident", f"peak {w['peak_mb']:.1f} MB"
        lines.append(f"gunicorn worker {w['pid']}: {rss} after the run ({peak})  {verdict}")
    return lines or ["gunicorn workers: not found"]


def _error_lines(report: dict[str, Any]) -> list[str]:
    return [f"note: {note}" for note in report.get("notes", [])] + [
        f"errors on {p['page']}: " + ", ".join(f"{kind} x{n}" for kind, n in p["error_kinds"].items())
        for p in report["pages"]
        if p["errors"]
    ]


def render_text(report: dict[str, Any]) -> str:
    rows = _rows(report)
    widths = [max(len(cell) for cell in column) for column in zip(COLUMNS, *rows, strict=True)]
    numeric = set(range(2, 8))

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    table = [line(COLUMNS), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    return "\n".join([*_headline(report), "", *table, "", *_memory_lines(report), *_error_lines(report)]).rstrip()


def render_markdown(report: dict[str, Any]) -> str:
    head = "| " + " | ".join(COLUMNS) + " |"
    rule = "|" + "|".join(" --- " if i < 2 else " ---: " for i in range(len(COLUMNS) - 1)) + "| --- |"
    rows = ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in _rows(report)]
    run = [f"- {line}" for line in _headline(report)]
    after = [f"- {line}" for line in [*_memory_lines(report), *_error_lines(report)]]
    return "\n".join(["# Benchmark", "", *run, "", head, rule, *rows, "", *after, ""])


def write(report: dict[str, Any], directory: Path = RESULTS_DIR) -> tuple[Path, Path]:
    """Write ``<date>-<engine>-<size>.md`` and ``.json``; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{report['date'][:19].replace(':', '').replace('-', '')}-{report['database']['engine']}-{report['run']['size']}"
    markdown, data = directory / f"{stem}.md", directory / f"{stem}.json"
    markdown.write_text(render_markdown(report))
    data.write_text(json.dumps(report, indent=2) + "\n")
    return markdown, data
