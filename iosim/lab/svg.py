"""The topology of a lab as an SVG picture: devices, links, interface names and addresses.

Layout: devices that say ``position = [x, y]`` in ``lab.toml`` sit there (in grid units);
the others are placed automatically. The longest chain of the network (its diameter, found by
two breadth-first searches) runs left to right across the middle; every other device hangs
below or above the device it is cabled to; a shared segment is drawn as a bar that its
devices hang from. Addresses are the running lab's, so a seeded lab shows its own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from iosim.cli.interfaces import short_name
from iosim.lab.views import interface_address

if TYPE_CHECKING:
    from iosim.lab.running import Lab

COLUMN = 300.0  # grid unit, pixels
ROW = 140.0
BOX_W, BOX_H = 96.0, 40.0
MARGIN = 80.0


@dataclass
class _Node:
    name: str
    kind: str  # router | host | segment
    x: float = 0.0
    y: float = 0.0


def _graph(lab: Lab) -> tuple[dict[str, _Node], dict[str, list[str]]]:
    nodes = {n: _Node(n, "router") for n in lab.routers}
    nodes.update({n: _Node(n, "host") for n in lab.hosts})
    edges: dict[str, list[str]] = {n: [] for n in nodes}
    for i, spec in enumerate(lab.topology.links):
        if len(spec.ends) == 2 and spec.name is None:
            a, b = spec.ends[0][0], spec.ends[1][0]
            edges[a].append(b)
            edges[b].append(a)
            continue
        seg = f"segment:{i}"
        nodes[seg] = _Node(spec.name or f"segment {i + 1}", "segment")
        edges[seg] = []
        for dev, _ in spec.ends:
            edges[seg].append(dev)
            edges[dev].append(seg)
    return nodes, edges


def _farthest(start: str, edges: dict[str, list[str]]) -> tuple[str, dict[str, str | None]]:
    parent: dict[str, str | None] = {start: None}
    queue = deque([start])
    last = start
    while queue:
        last = queue.popleft()
        for nxt in edges[last]:
            if nxt not in parent:
                parent[nxt] = last
                queue.append(nxt)
    return last, parent


def _layout(lab: Lab, nodes: dict[str, _Node], edges: dict[str, list[str]]) -> None:
    placed: set[str] = set()
    taken: set[tuple[int, int]] = set()
    row_base = 0
    for start in nodes:  # one component after the other, each below the previous
        if start in placed:
            continue
        a, _ = _farthest(start, edges)
        b, parent = _farthest(a, edges)
        spine: list[str] = []
        at: str | None = b
        while at is not None:
            spine.append(at)
            at = parent[at]
        for col, name in enumerate(spine):
            nodes[name].x, nodes[name].y = col, row_base
            placed.add(name)
            taken.add((col, row_base))
        queue = deque(spine)
        lowest = row_base
        while queue:
            here = queue.popleft()
            for nxt in edges[here]:
                if nxt in placed:
                    continue
                col = int(nodes[here].x)
                for step in (1, -1, 2, -2, 3, -3, 4, -4):
                    row = int(nodes[here].y) + step
                    if row < row_base - 4:
                        continue
                    if (col, row) not in taken:
                        break
                else:
                    col, row = max(c for c, _ in taken) + 1, int(nodes[here].y)
                while (col, row) in taken:
                    col += 1
                nodes[nxt].x, nodes[nxt].y = col, row
                taken.add((col, row))
                placed.add(nxt)
                lowest = max(lowest, row)
                queue.append(nxt)
        row_base = lowest + 2
    for name, node in nodes.items():
        spec_pos = (lab.topology.routers[name].position if name in lab.topology.routers
                    else lab.topology.hosts[name].position if name in lab.topology.hosts
                    else None)
        if spec_pos is not None:
            node.x, node.y = spec_pos
    min_x = min(n.x for n in nodes.values())
    min_y = min(n.y for n in nodes.values())
    for node in nodes.values():
        node.x = MARGIN + (node.x - min_x) * COLUMN + BOX_W / 2
        node.y = MARGIN + (node.y - min_y) * ROW + BOX_H / 2


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "middle",
          weight: str = "normal", fill: str = "#222") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{fill}">{escape(text)}</text>')


def _end_label(lab: Lab, node: _Node, other: _Node, device: str, interface: str) -> list[str]:
    """Interface name (above or beside the line) and address (below it), at ``node``'s end
    of the line to ``other``."""
    dx, dy = other.x - node.x, other.y - node.y
    name = short_name(interface) if device in lab.routers else interface
    addr = interface_address(lab, device, interface)
    if abs(dx) >= abs(dy):  # a flat line: the labels sit above and below it, along it
        slope = dy / dx if dx else 0.0
        reach = BOX_W / 2 + 6 + 60 * abs(slope)  # slanted lines part before their labels
        x = node.x + reach * (1 if dx >= 0 else -1)
        y = node.y + slope * (x - node.x)
        anchor = "start" if dx >= 0 else "end"
        lines = [_text(x, y - 6, name, size=11, anchor=anchor, fill="#0b5394")]
        if addr:
            lines.append(_text(x, y + 15, addr, size=10, anchor=anchor, fill="#555"))
        return lines
    y = node.y + (BOX_H / 2 + 14) * (1 if dy >= 0 else -1) + (0 if dy >= 0 else -10)
    lines = [_text(node.x + 6, y, name, size=11, anchor="start", fill="#0b5394")]
    if addr:
        lines.append(_text(node.x + 6, y + 12, addr, size=10, anchor="start", fill="#555"))
    return lines


def topology_svg(lab: Lab) -> str:
    """The SVG document of the running lab's topology."""
    nodes, edges = _graph(lab)
    _layout(lab, nodes, edges)
    width = max(n.x for n in nodes.values()) + BOX_W / 2 + MARGIN
    height = max(n.y for n in nodes.values()) + BOX_H / 2 + MARGIN / 2
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
           'font-family="Helvetica, Arial, sans-serif">',
           f'<title>{escape(lab.resolved.info.title)}</title>',
           '<rect width="100%" height="100%" fill="white"/>',
           _text(16, 24, lab.resolved.info.title, size=15, anchor="start", weight="bold")]
    labels: list[str] = []
    for i, spec in enumerate(lab.topology.links):
        if len(spec.ends) == 2 and spec.name is None:
            (da, ia), (db, ib) = spec.ends
            a, b = nodes[da], nodes[db]
            out.append(f'<line x1="{a.x:.1f}" y1="{a.y:.1f}" x2="{b.x:.1f}" y2="{b.y:.1f}" '
                       'stroke="#444" stroke-width="2"/>')
            labels += _end_label(lab, a, b, da, ia) + _end_label(lab, b, a, db, ib)
            continue
        seg = nodes[f"segment:{i}"]
        for dev, intf in spec.ends:
            d = nodes[dev]
            out.append(f'<line x1="{seg.x:.1f}" y1="{seg.y:.1f}" x2="{d.x:.1f}" '
                       f'y2="{d.y:.1f}" stroke="#444" stroke-width="2"/>')
            labels += _end_label(lab, d, seg, dev, intf)
    style = {"router": ("#dbe9f6", "#2b5f8f", 8), "host": ("#eef6e4", "#4f7f2f", 2),
             "segment": ("#f4f4f4", "#777", 16)}
    for node in nodes.values():
        fill, stroke, radius = style[node.kind]
        out.append(f'<rect x="{node.x - BOX_W / 2:.1f}" y="{node.y - BOX_H / 2:.1f}" '
                   f'width="{BOX_W:.0f}" height="{BOX_H:.0f}" rx="{radius}" fill="{fill}" '
                   f'stroke="{stroke}" stroke-width="2"/>')
        out.append(_text(node.x, node.y + 5, node.name, size=14, weight="bold"))
    out += labels
    out.append("</svg>")
    return "\n".join(out) + "\n"
