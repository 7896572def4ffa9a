"""Turn benchmark rows into the console table, `bench/results.json` and the results
section of `docs/benchmarks.md`.

Called by `bench.__main__` after every run. In the docs, only the text between the
two markers below is replaced; the prose around it (method, findings) is kept.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

BEGIN = "<!-- bench:results:begin (written by `make bench`; edit outside the markers) -->"
END = "<!-- bench:results:end -->"


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if unit == "p99 ms":
        return f"{value:.2f} ms"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    if unit == "s":
        return f"{value:.2f} s"
    if isinstance(value, float):
        return f"{value:,.0f}"
    return str(value)


def ratio_text(row: dict[str, Any]) -> str:
    if row.get("ratio") is None:
        return "n/a"
    return f"{row['ratio']:.2f}x" if row["id"] in ("P3", "P6") else f"{row['ratio']:.2f}"


def table(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = [["id", "measures", "figure", "baseline", "ratio", "goal", "met", "notes"]]
    for row in rows:
        unit = row.get("unit", "")
        notes = row.get("extra") or row.get("error") or ""
        out.append([row["id"], f"{row['name']} ({unit})", fmt(row.get("figure"), unit),
                     fmt(row.get("baseline"), unit), ratio_text(row), row.get("goal", ""),
                     "yes" if row.get("met") else "no", notes])
    return out


def console(rows: list[dict[str, Any]], machine_line: str) -> str:
    cells = table(rows)
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
             for r in cells]
    return "\n".join(lines + [f"machine: {machine_line}"])


def markdown(rows: list[dict[str, Any]], machine_line: str, when: str, load: str) -> str:
    cells = table(rows)
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in cells[1:]]
    baselines = [f"- {r['id']} baseline: {r.get('baseline_is', '')}" for r in rows]
    return "\n".join([
        f"Latest run: {when}, on {machine_line}. P1 load generator: {load}.", "",
        *lines, "", *baselines,
    ])


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def write_docs(path: Path, section: str) -> None:
    block = f"{BEGIN}\n{section}\n{END}"
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = f"# Benchmarks\n\n{block}\n" + (f"\n{text}" if text else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
