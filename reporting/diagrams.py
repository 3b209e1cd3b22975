"""Layouts for the inline SVG diagrams (drawn by the Jinja2 templates): boxes sized to their labels,
so no label is cut; the browser test checks each label's bounding box stays inside its box."""

from __future__ import annotations

from dataclasses import dataclass

from reporting.analysis import Custody

CHAR_W = 7.2  # px per character at 12 px sans-serif, generous so real glyphs fit
PAD = 10


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    lines: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Diagram:
    width: float
    height: float
    boxes: list[Box]
    edges: list[Edge]
    headers: list[tuple[float, float, str]]  # x, baseline y, label


#: Widest drawing, in CSS px, that prints on A4 within the page margins (210 - 2 x 11 mm at 96 px per
#: inch = 710 px) without being scaled down: a diagram no wider than this keeps its text at the size the
#: stylesheet gives it, the same in every diagram of the report (templates/base.css.j2).
PRINT_WIDTH = 700.0


def _width(lines: tuple[str, ...]) -> float:
    return max(len(line) for line in lines) * CHAR_W + 2 * PAD


def _wrap(text: str, limit: int = 38) -> tuple[str, ...]:
    words, lines, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > limit:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append(current)
    return tuple(lines)


def custody_layout(c: Custody, store_label: str, headers: tuple[str, str, str]) -> Diagram:
    """The key store and its operator on top; below it two columns, each key -> the data stores it
    protects. Stacked rather than three columns side by side, so the drawing stays within PRINT_WIDTH
    (labels wrapped at 38 and 44 characters: 24 + 294 + 40 + 337 px at most, unless one word is longer)
    and is never scaled down: a scaled drawing prints its text smaller than the others."""
    row_h, line_h, gap, indent, between = 22.0, 15.0, 8.0, 24.0, 40.0
    store = _wrap(store_label) + _wrap(c.store_operator or (c.keys[0].operator if c.keys else "—"))
    keys = [_wrap(f"{k.name} — {k.where.split(' (')[0]}") for k in c.keys]
    stores = [[_wrap(s, 44) for s in k.protects] for k in c.keys]
    w_store = _width(store)
    w_key = max((_width(k) for k in keys), default=120.0)
    w_data = max((_width(s) for group in stores for s in group), default=120.0)
    sh = row_h + line_h * (len(store) - 1)
    sy = 24.0
    x_key = indent
    x_data = x_key + w_key + between
    head_y = sy + sh + 24.0
    y = head_y + 14.0
    boxes: list[Box] = [Box(0, sy, w_store, sh, store, "store")]
    edges: list[Edge] = []
    key_mids: list[float] = []
    for key_lines, group in zip(keys, stores, strict=True):
        top = y
        data_boxes = []
        for lines in group or [("—",)]:
            h = row_h + line_h * (len(lines) - 1)
            data_boxes.append(Box(x_data, y, w_data, h, lines, "data"))
            y += h + gap
        kh = row_h + line_h * (len(key_lines) - 1)
        ky = top + max(0.0, (y - gap - top - kh) / 2)
        boxes.append(Box(x_key, ky, w_key, kh, key_lines, "key"))
        key_mids.append(ky + kh / 2)
        for d in data_boxes:
            if d.lines != ("—",):
                boxes.append(d)
                edges.append(Edge(x_key + w_key, ky + kh / 2, x_data, d.y + d.h / 2))
        y = max(y, ky + kh + gap)
    # The store feeds every key: a trunk down from the store box, one branch to each key.
    trunk = indent / 2
    if key_mids:
        edges.append(Edge(trunk, sy + sh, trunk, key_mids[-1]))
        edges += [Edge(trunk, mid, x_key, mid) for mid in key_mids]
    return Diagram(
        max(w_store, x_data + w_data) + 2,
        y + 4,
        boxes,
        edges,
        [(0, 16, headers[0]), (x_key, head_y, headers[1]), (x_data, head_y, headers[2])],
    )


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    w: float
    value: str


def bars(values: list[tuple[str, float, str]], width: float = 420.0) -> tuple[float, float, list[Bar]]:
    """Horizontal bars: (label, amount, shown value) -> bars scaled to the largest amount."""
    left = max((len(label) for label, _, _ in values), default=8) * CHAR_W + 10
    # Room for the longest value label after its bar, so no value runs out of the drawing.
    room = width - left - max((len(shown) for _, _, shown in values), default=10) * CHAR_W - 16
    top = max((v for _, v, _ in values), default=0.0) or 1.0
    out = [
        Bar(label, 26 + i * 22, max(1.0, room * v / top), shown) for i, (label, v, shown) in enumerate(values)
    ]
    return left, 30 + 22 * max(1, len(values)) + 6, out
