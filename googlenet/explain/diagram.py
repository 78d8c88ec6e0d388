"""Architecture diagrams as SVG, drawn from the model's rows and its blocks' tables.

No Graphviz: the layout is simple enough to place by hand. On the left, the network top
to bottom, one box per row of its spec (Table 1's rows for GoogLeNet), grouped into
stages by their output resolution, with the auxiliary heads beside the rows they read.
On the right, one block expanded into its branches as the paper's Figures 2 and 3 draw
it: the previous layer, a column per branch (its convolutions and pools with kernel
sizes and widths), the filter concatenation, and a residual's addition when it has one.

Every element a test or a page needs to find carries a ``data-name`` (``row``,
``aux``, ``branch`` groups), and every name is also drawn as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from torch import nn

from ..errors import UnknownFeatureError
from ..layers import InceptionBlock
from ..models.features import NamedFeatures
from ..models.network import as_network
from ..specs.blocks import BlockSpec, Branch, Conv, Identity, Op, pair
from .modules import fmt_shape, model_rows

CHAR = 7.2  # width of one 12px monospace character
ROW_H, ROW_GAP, PAD = 24, 12, 16
OP_H, OP_GAP, COL_GAP = 24, 16, 14

STYLE = """
text { font: 12px monospace; fill: #222; }
text.title { font: bold 15px sans-serif; }
text.stage { font: 11px sans-serif; fill: #666; }
text.note, text.size { fill: #666; }
text.note { paint-order: stroke; stroke: #fff; stroke-width: 4px; }
text.name { font-weight: bold; }
rect { stroke: #555; stroke-width: 1; rx: 4; }
rect.stage { fill: #f4f6fa; stroke: none; }
rect.stem { fill: #ffffff; } rect.pool { fill: #ffe3e3; } rect.block { fill: #dcebff; }
rect.head { fill: #eeeeee; } rect.aux { fill: #fff4d6; stroke-dasharray: 4 3; }
rect.chosen { fill: #b8d6ff; stroke: #1d5fbf; stroke-width: 2; }
rect.c1 { fill: #fff2b3; } rect.ck { fill: #c6e2ff; } rect.cf { fill: #d4f0d4; }
rect.pl { fill: #ffd6d6; } rect.id { fill: #eeeeee; } rect.io { fill: #ffffff; }
line, path { stroke: #555; stroke-width: 1.2; fill: none; }
line.aux, path.link { stroke-dasharray: 4 3; }
"""


def _w(text: str) -> float:
    """The width of a box that holds ``text``."""
    return CHAR * len(text) + PAD


@dataclass
class _Svg:
    parts: list[str]

    def rect(self, x: float, y: float, w: float, h: float, cls: str) -> None:
        self.parts.append(f'<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                          f'height="{h:.1f}"/>')

    def text(self, x: float, y: float, s: str, cls: str = "", anchor: str = "start") -> None:
        klass = f' class="{cls}"' if cls else ""
        self.parts.append(f'<text{klass} x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">'
                          f"{escape(s)}</text>")

    def line(self, x1: float, y1: float, x2: float, y2: float, cls: str = "",
             arrow: bool = True) -> None:
        klass = f' class="{cls}"' if cls else ""
        end = ' marker-end="url(#arrow)"' if arrow else ""
        self.parts.append(f'<line{klass} x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" '
                          f'y2="{y2:.1f}"{end}/>')

    def group(self, cls: str, name: str) -> None:
        self.parts.append(f'<g class="{cls}" data-name="{escape(name)}">')

    def end(self) -> None:
        self.parts.append("</g>")


def _document(width: float, height: float, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img">'
            f"<title>{escape(title)}</title><style>{STYLE}</style>"
            '<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
            'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker>'
            f'</defs><rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" '
            f'fill="#ffffff" stroke="none"/>{"".join(body)}</svg>')


# -- one block, as Figures 2 and 3 draw it ------------------------------------------------

def op_text(op: Op) -> str:
    """``3x3 conv 128``, ``1x7 conv 192``, ``3x3/2 max pool``, ``pass-through``."""
    if isinstance(op, Identity):
        return "pass-through"
    if isinstance(op, Conv):
        kh, kw = pair(op.kernel)
        stride = f"/{op.stride}" if op.stride != 1 else ""
        return f"{kh}x{kw}{stride} conv {op.out}" + ("" if op.act else " (linear)")
    stride = f"/{op.stride}" if op.stride != 1 else ""
    return f"{op.kernel}x{op.kernel}{stride} {op.kind} pool"


def _op_class(op: Op) -> str:
    if isinstance(op, Identity):
        return "id"
    if isinstance(op, Conv):
        kh, kw = pair(op.kernel)
        return "c1" if (kh, kw) == (1, 1) else "cf" if kh != kw else "ck"
    return "pl"


def _branch_width(branch: Branch) -> float:
    chain = max((_w(op_text(o)) for o in branch.ops), default=0.0)
    arms = sum(_w(op_text(o)) for o in branch.split) + COL_GAP * max(len(branch.split) - 1, 0)
    return max(chain, arms, _w(branch.name))


def _op_box(svg: _Svg, op: Op, mid: float, y: float) -> float:
    """Draw ``op`` centred on ``mid`` with its top at ``y``; returns its width."""
    w = _w(op_text(op))
    svg.rect(mid - w / 2, y, w, OP_H, _op_class(op))
    svg.text(mid, y + 16, op_text(op), anchor="middle")
    return w


def _draw_branch(svg: _Svg, branch: Branch, mid: float, top: float, concat_y: float) -> None:
    """One column: the branch's name, its chain of ops, its split arms, arrows down to
    the concatenation at ``concat_y``."""
    svg.group("branch", branch.name)
    svg.text(mid, top - 8, branch.name, "note", "middle")
    y = top
    for i, op in enumerate(branch.ops):
        _op_box(svg, op, mid, y)
        y += OP_H + OP_GAP
        if i + 1 < len(branch.ops):
            svg.line(mid, y - OP_GAP, mid, y)
    if not branch.split:
        svg.line(mid, y - OP_GAP, mid, concat_y)
        svg.end()
        return
    widths = [_w(op_text(o)) for o in branch.split]
    x = mid - (sum(widths) + COL_GAP * (len(widths) - 1)) / 2
    for op, w in zip(branch.split, widths, strict=True):
        if branch.ops:  # the arms read the chain's output
            svg.line(mid, y - OP_GAP, x + w / 2, y)
        _op_box(svg, op, x + w / 2, y)
        svg.line(x + w / 2, y + OP_H, x + w / 2, concat_y)
        x += w + COL_GAP
    svg.end()


def _draw_block(svg: _Svg, spec: BlockSpec, name: str, x0: float, y0: float,
                in_text: str, out_text: str) -> tuple[float, float]:
    """Draw ``spec`` with its top-left corner at (x0, y0); returns (width, height)."""
    cols = [_branch_width(b) for b in spec.branches]
    residual = spec.residual
    label = "" if residual is None else (
        f"x + {residual.scale:g} x (1x1 linear conv)" + (" > ReLU" if residual.relu else ""))
    inner = max(sum(cols) + COL_GAP * (len(cols) - 1), _w(in_text), _w(out_text), _w(label))
    side = 90 if spec.residual is not None else 0  # room for the identity path
    cx = x0 + inner / 2
    depth = max(len(b.ops) + bool(b.split) for b in spec.branches)
    svg.rect(cx - _w(in_text) / 2, y0, _w(in_text), OP_H, "io")
    svg.text(cx, y0 + 16, in_text, anchor="middle")
    top = y0 + OP_H + 44  # room for the fan-out and the branch names
    concat_y = top + depth * (OP_H + OP_GAP) + 10
    x = cx - (sum(cols) + COL_GAP * (len(cols) - 1)) / 2
    for branch, col in zip(spec.branches, cols, strict=True):
        svg.line(cx, y0 + OP_H, x + col / 2, top - 24, arrow=False)
        svg.line(x + col / 2, top - 24, x + col / 2, top)
        _draw_branch(svg, branch, x + col / 2, top, concat_y)
        x += col + COL_GAP
    svg.rect(x0, concat_y, inner, OP_H, "io")  # the concatenation spans every branch
    svg.text(cx, concat_y + 16, out_text, anchor="middle")
    bottom = concat_y + OP_H
    if residual is not None:
        add_y = bottom + 24
        svg.line(cx, bottom, cx, add_y)
        svg.rect(cx - _w(label) / 2, add_y, _w(label), OP_H, "io")
        svg.text(cx, add_y + 16, label, anchor="middle")
        right = x0 + inner + side / 2
        svg.parts.append(f'<path d="M{cx + _w(in_text) / 2:.1f},{y0 + 12:.1f} H{right:.1f} '
                         f'V{add_y + 12:.1f} H{cx + _w(label) / 2:.1f}" '
                         'marker-end="url(#arrow)"/>')
        svg.text(right + 4, (y0 + add_y) / 2, "identity", "note")
        bottom = add_y + OP_H
    svg.text(x0, bottom + 18, f"{name}: {spec.label or 'block'}", "note")
    return inner + side, bottom - y0 + 24


def block_svg(block: InceptionBlock, name: str, in_shape: tuple[int, ...],
              out_shape: tuple[int, ...]) -> str:
    """One block on its own, as the paper's Figure 2b draws inception (3a)."""
    svg = _Svg([])
    w, h = _draw_block(svg, block.spec, name, PAD, PAD,
                       f"previous layer {fmt_shape(in_shape)}",
                       f"filter concatenation {fmt_shape(out_shape)}")
    return _document(w + 2 * PAD + 60, h + 2 * PAD, svg.parts, f"{name}: {block.spec.label}")


# -- the whole network ----------------------------------------------------------------------

def model_svg(model: nn.Module, input_size: int, block: str | None = None,
              title: str = "") -> str:
    """The network top to bottom with its aux heads, and ``block`` (default: the first)
    expanded into its branches. ``model`` is any model with named features."""
    assert isinstance(model, NamedFeatures)
    rows, aux = model_rows(model, input_size)
    blocks = dict(model.blocks())
    chosen = next(iter(blocks), None) if block is None else model.resolve_feature(block)
    if chosen is not None and chosen not in blocks:
        raise UnknownFeatureError(f"{block!r} is not a block of {model.model_name}; blocks: "
                             f"{', '.join(blocks)}")
    svg = _Svg([])
    heading = title or str(getattr(model, "model_name", type(model).__name__))
    svg.text(PAD, PAD + 12, f"{heading} at {input_size}x{input_size}", "title")
    box_w = max(_w(f"{r.name}  {r.text}  {r.size}") for r in rows) + 8
    x, y = PAD + 70, PAD + 36
    where: dict[str, float] = {}
    for i, r in enumerate(rows):
        if i == 0 or rows[i - 1].stage != r.stage:  # a new stage: its band and label
            n = next((j for j in range(i, len(rows)) if rows[j].stage != r.stage), len(rows)) - i
            svg.rect(PAD, y - 6, box_w + 80, n * (ROW_H + ROW_GAP), "stage")
            svg.text(PAD + 4, y + 16, r.stage, "stage")
        svg.group(f"row {r.kind}", r.name)
        svg.rect(x, y, box_w, ROW_H, "chosen" if r.name == chosen else r.kind)
        svg.text(x + 8, y + 16, r.name, "name")
        svg.text(x + 8 + CHAR * (len(r.name) + 2), y + 16, r.text)
        svg.text(x + box_w - 8, y + 16, r.size, "size", "end")
        svg.end()
        if i + 1 < len(rows):
            svg.line(x + box_w / 2, y + ROW_H, x + box_w / 2, y + ROW_H + ROW_GAP)
        where[r.name] = y
        y += ROW_H + ROW_GAP
    height, main_right = float(y), x + box_w
    figure, (bw, bh) = _Svg([]), (0.0, 0.0)
    if chosen is not None:
        at = [r.name for r in rows].index(chosen)
        in_shape = rows[at - 1].shape if at else (as_network(model).in_chans,
                                                  input_size, input_size)
        bw, bh = _draw_block(figure, blocks[chosen].spec, chosen, 0, 0,
                             f"previous layer {fmt_shape(in_shape)}",
                             f"filter concatenation {fmt_shape(rows[at].shape)}")
    top = PAD + 36
    aux_x = right = main_right + 40
    for a in aux:
        ay, text_w = where.get(a.after, PAD), _w(f"{a.name}  {a.text}") + 8
        svg.group("aux", a.name)
        svg.line(main_right, ay + ROW_H / 2, aux_x, ay + ROW_H / 2, "aux")
        svg.rect(aux_x, ay, text_w, ROW_H, "aux")
        svg.text(aux_x + 8, ay + 16, a.name, "name")
        svg.text(aux_x + 8 + CHAR * (len(a.name) + 2), ay + 16, a.text)
        svg.end()
        right = max(right, aux_x + text_w)
    width = right
    if chosen is not None:
        # Beside the network, unless an aux head's row falls within the figure's height.
        clash = any(where.get(a.after, 0) < top + bh + 10 for a in aux)
        bx = right + 30 if clash else aux_x
        svg.parts.append(f'<path class="link" d="M{main_right:.1f},{where[chosen] + 12:.1f} '
                         f'H{bx - 14:.1f} V{top + 12:.1f} H{bx:.1f}"/>')
        svg.parts.append(f'<g transform="translate({bx:.1f},{top:.1f})">'
                         f'{"".join(figure.parts)}</g>')
        width, height = max(width, bx + bw), max(height, top + bh)
    return _document(width + PAD, height + PAD, svg.parts, heading)
