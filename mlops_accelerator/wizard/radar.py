"""The maturity radar: current vs target level per dimension, drawn as inline SVG (no plotting library)."""

from __future__ import annotations

import html
import math
from typing import Any

CURRENT = "var(--jp-error-color1, #c50f1f)"  # theme colours: legible in light and dark themes
TARGET = "var(--jp-brand-color1, #0f6cbd)"
LINE = "var(--jp-border-color2, #d6d6d6)"


def radar_svg(axes: list[str], series: list[tuple[str, list[float | None], str]], *, max_level: int = 4,
              ring_labels: dict[int, str] | None = None, size: int = 330, pad_x: int = 95) -> str:
    """An SVG radar chart. series: (name, values per axis (None = not rated), colour)."""
    n = max(len(axes), 3)
    cx, cy = size / 2 + pad_x, size / 2 + 4
    r = size / 2 - 48

    def point(i: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        d = r * value / max_level
        return cx + d * math.cos(angle), cy + d * math.sin(angle)

    width = size + 2 * pad_x
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {size + 8}" width="{width}" '
             f'height="{size + 8}" role="img" aria-label="Maturity radar" class="mlops-radar-svg" '
             'style="font-family: var(--jp-ui-font-family, system-ui, sans-serif)">']
    for level in range(1, max_level + 1):  # rings
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, level) for i in range(n)))
        ring = f"var(--jp-layout-color{2 if level % 2 else 1}, #fafafa)"
        parts.append(f'<polygon points="{pts}" style="fill:{ring};stroke:{LINE}" stroke-width="1"/>')
    for level in range(1, max_level + 1):
        x, y = point(0, level)
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 4:.1f}" font-size="10" '
                     f'style="fill:var(--jp-ui-font-color2, #666)">{level}</text>')
    for i, label in enumerate(axes):  # spokes and labels
        x, y = point(i, max_level)
        parts.append(f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" style="stroke:{LINE}"/>')
        lx, ly = point(i, max_level + 0.45)
        anchor = "middle" if abs(lx - cx) < 5 else ("start" if lx > cx else "end")
        words = label.split()
        lines = [" ".join(words[: (len(words) + 1) // 2]), " ".join(words[(len(words) + 1) // 2:])] \
            if len(label) > 14 and len(words) > 1 else [label]
        top = ly + 4 - 7 * (len(lines) - 1)
        spans = "".join(f'<tspan x="{lx:.1f}" y="{top + 15 * k:.1f}">{html.escape(t)}</tspan>'
                        for k, t in enumerate(lines))
        parts.append(f'<text font-size="12.5" font-weight="600" style="fill:var(--jp-ui-font-color1, #323130)" '
                     f'text-anchor="{anchor}">'
                     f"{spans}</text>")
    for name, values, colour in series:
        vals = [v if v is not None else 0 for v in values] + [0] * (n - len(values))
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, v) for i, v in enumerate(vals)))
        dash = ' stroke-dasharray="6 4"' if colour == TARGET else ""
        parts.append(f'<polygon points="{pts}" style="fill:{colour};stroke:{colour}" fill-opacity="0.14" '
                     f'stroke-width="2.5"{dash}><title>{html.escape(name)}</title></polygon>')
        for i, v in enumerate(values):
            if v is None:
                continue
            x, y = point(i, v)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" style="fill:{colour}">'
                         f"<title>{html.escape(name)}: {html.escape(axes[i])} {v:g}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)


def maturity_series(values: dict[str, Any], dimensions: dict[str, str]) -> tuple[list[str], list, list]:
    """Axis labels, current and target levels from stage 1's `maturity_assessment` records."""
    rated = {r.get("dimension"): r for r in values.get("maturity_assessment") or [] if isinstance(r, dict)}
    axes, current, target = [], [], []
    for key, label in dimensions.items():
        axes.append(label)
        row = rated.get(key)
        current.append(_level(row.get("current_level")) if row else None)
        target.append(_level(row.get("target_level")) if row else None)
    return axes, current, target


def _level(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def radar_html(values: dict[str, Any]) -> str:
    """Stage 1's radar and its table as HTML (shown under the maturity task of the form widget)."""
    from ..settings import schema_for

    module = __import__(schema_for("foundations").__module__, fromlist=["x"])
    dimensions: dict[str, str] = getattr(module, "DIMENSIONS", {})
    levels: dict[int, str] = getattr(module, "MATURITY_LEVELS", {})
    criteria: dict[str, dict[int, str]] = getattr(module, "MATURITY_CRITERIA", {})
    axes, current, target = maturity_series(values, dimensions)
    svg = radar_svg(axes, [("Target", target, TARGET), ("Current", current, CURRENT)], ring_labels=levels)
    rows = []
    for (key, label), c, t in zip(dimensions.items(), current, target, strict=True):
        if c is None:
            rows.append(f"<tr><th scope='row'>{html.escape(label)}</th><td colspan=2>not rated yet</td></tr>")
            continue
        now = criteria.get(key, {}).get(int(c), "")
        rows.append(f"<tr><th scope='row'>{html.escape(label)}</th><td>{int(c)} · {html.escape(now)}</td>"
                    f"<td>{'' if t is None else int(t)}</td></tr>")
    rated = [c for c in current if c is not None]
    head = ""
    if rated and len(rated) == len(current):
        lowest = int(min(rated))
        head = (f"<p class='mlops-radar-overall'>Overall level: <b>{lowest} · {html.escape(levels.get(lowest, ''))}"
                "</b> (the lowest dimension)</p>")
    elif len(rated) < len(current):
        head = "<p>Rate all four dimensions (add rows above) to see the overall level.</p>"
    return (f"<div class='mlops-radar-panel'><h4>Maturity radar</h4><p class='mlops-small'>Current level (solid) "
            f"against target (dashed) for each dimension; it redraws as you choose levels.</p>{head}"
            f"<div class='mlops-radar-row'><div class='mlops-radar'>{svg}</div><table class='mlops-table'><thead><tr>"
            f"<th scope='col'>Dimension</th><th scope='col'>Now</th><th scope='col'>Target</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div></div>")
