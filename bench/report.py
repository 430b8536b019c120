"""Results: figures with their setup, targets met or missed; JSON file and a printed table."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    name: str
    setup: dict[str, Any]
    values: dict[str, Any]


@dataclass
class Target:
    name: str
    measured: float
    limit: float
    higher_is_better: bool
    detail: str = ""

    @property
    def met(self) -> bool:
        if math.isnan(self.measured):
            return False
        return self.measured >= self.limit if self.higher_is_better else self.measured <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


@dataclass
class Section:
    bench: str
    figures: list[Figure] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def figure(self, name: str, setup: dict[str, Any], **values: Any) -> Figure:
        made = Figure(name, setup, values)
        self.figures.append(made)
        return made

    def target(
        self, name: str, measured: float, limit: float, *, higher: bool, detail: str = ""
    ) -> Target:
        made = Target(name, round(measured, 3), limit, higher, detail)
        self.targets.append(made)
        return made

    def as_dict(self) -> dict[str, Any]:
        return {
            "figures": [asdict(f) for f in self.figures],
            "targets": [t.as_dict() for t in self.targets],
            "notes": self.notes,
            "seconds": round(self.seconds, 1),
            "error": self.error,
        }


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _plain(value: Any) -> Any:
    """NaN (a figure that could not be measured) becomes null: results.json stays strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write(path: Path, meta: dict[str, Any], sections: list[Section]) -> None:
    body = {"meta": meta, "benchmarks": {s.bench: s.as_dict() for s in sections}}
    path.write_text(json.dumps(_plain(body), indent=2, default=str, allow_nan=False) + "\n")


def _value(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _pairs(items: dict[str, Any]) -> str:
    return "  ".join(f"{k}={_value(v)}" for k, v in items.items())


def table(sections: list[Section]) -> str:
    lines = []
    for section in sections:
        lines.append(f"== {section.bench} ({section.seconds:.0f}s)")
        if section.error:
            lines.append(f"   ERROR: {section.error}")
        for fig in section.figures:
            lines.append(f" - {fig.name}: {_pairs(fig.values)}")
            lines.append(f"     setup: {_pairs(fig.setup)}")
        for tgt in section.targets:
            sign = ">=" if tgt.higher_is_better else "<="
            state = "MET" if tgt.met else "MISSED"
            lines.append(
                f"   target {tgt.name}: {_value(tgt.measured)} (want {sign} {tgt.limit}) {state}"
                + (f"  [{tgt.detail}]" if tgt.detail else "")
            )
        for note in section.notes:
            lines.append(f"   note: {note}")
    return "\n".join(lines)
