"""The explain page as one self-contained HTML file: inline CSS, inline SVG, PNG data
URIs, no script and no network.

Sections a browser test (and a reader) can find: ``#architecture``, one
``section.image`` per image, and inside it one ``section.block[data-block=NAME]`` per
block of the model.

>>> from googlenet.explain.html import write_explain_page
>>> from googlenet.weights.loaded import resolve_model
>>> write_explain_page(resolve_model("bvlc.safetensors"), ["cat.jpg"], "explain/")  # doctest: +SKIP
PosixPath('explain/explain.html')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from ..atomic import atomic_path
from ..errors import OutputError
from ..html_page import bar, document, figure
from ..models.features import BRANCH_SEP
from ..predict import collect_images
from ..weights.loaded import LoadedModel
from .anatomy import layer_count
from .branches import BlockView, block_costs
from .diagram import block_svg, model_svg
from .gradcam import Heatmap
from .modules import fmt_shape
from .page import ExplainOptions, ImageExplained, cam_layers, explain_image
from .render import data_uri, map_strip, overlay, to_rgb, upscale

CSS = """
section.image, section#architecture { background: #fff; border: 1px solid #ddd;
  border-radius: 8px; padding: 8px 20px 16px; margin: 18px 0; }
figure img.view { width: 224px; height: 224px; border: 1px solid #ccc; }
.bar.energy { background: #e0752d; }
section.block { border-top: 1px solid #ddd; padding: 8px 0; }
section.block .maps img { display: block; margin: 2px 0 8px; }
tr.used td { background: #fff1e6; }
details summary { cursor: pointer; color: #3b73c4; }
"""


def _pct(share: float) -> str:
    return f"{share:.0%}"


def _header(subject: LoadedModel) -> str:
    meta = subject.meta
    pre = subject.preprocessing
    what = meta.recipe.describe() if meta is not None else f"{subject.name} (registry)"
    # A grey model reads one channel, whatever order its preprocessing would give three.
    colour = pre.channel_order if subject.in_chans == 3 else f"{subject.in_chans}-channel grey"
    lines = [f"<h1>Inside {escape(subject.name)}</h1>",
             f'<p class="meta">weights: <code>{escape(subject.source)}</code> &middot; '
             f"{escape(what)} &middot; input {pre.input_size}x{pre.input_size} "
             f"{escape(colour)}, mean {pre.mean}, std {pre.std}</p>"]
    if subject.random:
        lines.append('<p class="warning" id="random-weights">These are <b>random weights</b>: '
                     "nothing has been learned, so the predictions, heat maps and maps below "
                     "show the wiring of the network, not what it sees. Pass a weights file "
                     "(--weights) to see a trained network.</p>")
    if not subject.has_classifier:
        lines.append('<p class="warning">This backbone has no classifier: no classes to '
                     "explain (fine-tune it first); the blocks' maps are shown.</p>")
    return "\n".join(lines)


def _architecture(subject: LoadedModel, diagram: str) -> str:
    count = f"<p>{escape(layer_count(subject.net.spec).text())} (counted as the paper does).</p>"
    return (f'<section id="architecture"><h2>Architecture</h2>{count}'
            f'<div class="diagram">{diagram}</div></section>')


def _cam_caption(cam: Heatmap, subject: LoadedModel) -> str:
    cls = subject.classes[cam.target] if cam.target < len(subject.classes) else str(cam.target)
    where = f"at {cam.layer}" if cam.layer != "input" else "on the pixels"
    return f"{cam.method} {where} for '{cls}'"


def _attention(item: ImageExplained, subject: LoadedModel) -> str:
    if not item.cams:
        return ""
    base = to_rgb(item.image)
    figs = [figure(data_uri(overlay(base, cam.heat)), _cam_caption(cam, subject))
            for cam in item.cams]
    ig = item.attribution
    if ig is not None:
        caption = (f"{_cam_caption(ig.heatmap, subject)} (from a black image; attributions "
                   f"sum to {ig.total:.3g}, the score rose {ig.score_gap:.3g}: "
                   f"{ig.error:.0%} off)")
        figs.append(figure(data_uri(overlay(base, ig.heatmap.heat)), caption))
    return "<h3>Where the network looks</h3><div class=\"row\">" + "".join(figs) + "</div>"


def _branch_rows(view: BlockView) -> str:
    shares = {k: view.shares(k) for k in ("channels", "macs", "params", "energy")}
    used = view.used
    rows = []
    for i, b in enumerate(view.branches):
        cls = ' class="used"' if b is used else ""
        rows.append(
            f"<tr{cls}><td><code>{escape(view.feature(b))}</code></td><td>{escape(b.ops)}</td>"
            f'<td class="num">{b.scale.text()}</td><td class="num">{b.pixels.text()}</td>'
            + "".join(f'<td class="num">{_pct(shares[k][i])}</td>'
                      for k in ("channels", "macs", "params"))
            + f'<td class="num">{_pct(shares["energy"][i])}</td>'
              f"<td>{bar(shares['energy'][i], 'energy')}</td></tr>")
    return "".join(rows)


def _block_section(view: BlockView, key: str, figure: str) -> str:
    used = view.used
    energy = view.shares("energy")[view.branches.index(used)]
    channels = view.shares("channels")[view.branches.index(used)]
    lead = (f"On this image the block used <b>{escape(used.name)}</b> most (a "
            f"{used.scale.text()} view of its input, {used.pixels.text()} pixels of the image): "
            f"{_pct(energy)} of the activation energy from {_pct(channels)} of the channels.")
    maps = "".join(
        f"<div><code>{escape(view.feature(b))}</code> strongest channels "
        f"{', '.join(map(str, b.top_channels))}"
        f'<img src="{data_uri(map_strip(b.maps))}" alt="{escape(b.name)} maps"></div>'
        for b in view.branches if b.maps is not None)
    proj = "" if view.projection is None else (
        f"<p>Residual projection: {escape(view.projection.ops)}, {view.projection.params:,} "
        "parameters.</p>")
    return (f'<section class="block" id="{escape(key)}-{escape(view.name)}" '
            f'data-block="{escape(view.name)}"><h4>{escape(view.name)} &middot; '
            f"{escape(view.label)} &middot; {fmt_shape(view.in_shape)} &rarr; "
            f"{fmt_shape(view.out_shape)}</h4><p>{lead}</p>"
            "<table><tr><th>branch (feature name)</th><th>ops</th><th>scale</th>"
            "<th>image px</th><th>channels</th><th>MACs</th><th>params</th>"
            f'<th colspan="2">activation energy</th></tr>{_branch_rows(view)}</table>{proj}'
            f'<details><summary>the block\'s figure</summary>{figure}</details>'
            f'<div class="maps">{maps}</div></section>')


def _image_section(index: int, item: ImageExplained, subject: LoadedModel,
                   figures: dict[str, str]) -> str:
    key = f"image-{index + 1}"
    view = upscale(to_rgb(item.image), 224, smooth=True)
    top = "".join(f'<tr><td>{escape(label)}</td><td class="num">{p:.1%}</td>'
                  f"<td>{bar(p)}</td></tr>" for label, p in item.top)
    table = f'<table class="topk"><tr><th colspan="3">top {len(item.top)}</th></tr>{top}</table>' \
        if item.top else ""
    blocks = "".join(_block_section(b, key, figures.get(b.name, "")) for b in item.blocks)
    return (f'<section class="image" id="{key}" data-image="{escape(str(item.path))}">'
            f"<h2>{escape(item.path.name)}</h2><div class=\"row\">"
            f"{figure(data_uri(view), 'the crop the model sees')}{table}</div>"
            f"{_attention(item, subject)}<h3>Inside each block</h3>"
            "<p>Each branch of a block looks at its input at one scale. Its share of the "
            "block's <i>activation energy</i> (sum of squares of its output) against its "
            "share of the channels says which scale the block used on this image. Feature "
            f"names work in <code>model.forward_intermediates(x, [\"block{BRANCH_SEP}"
            "branch\"])</code>.</p>" + blocks + "</section>")


def render_explain_page(subject: LoadedModel, items: list[ImageExplained], diagram: str,
                        options: ExplainOptions) -> str:
    """The whole page (see the module docstring)."""
    figures: dict[str, str] = {}
    if items:
        blocks = dict(subject.features.blocks())
        figures = {v.name: block_svg(blocks[v.name], v.name, v.in_shape, v.out_shape)
                   for v in items[0].blocks}
    body = "".join(_image_section(i, item, subject, figures) for i, item in enumerate(items))
    layers = ", ".join(options.layers) or "none"
    return document(f"googlenet explain: {subject.name}", CSS,
                    f"{_header(subject)}{_architecture(subject, diagram)}{body}"
                    f'<p class="meta">Grad-CAM at the last block and at: {escape(layers)}; '
                    f"integrated gradients with {options.ig_steps} steps; {options.maps} maps "
                    "per branch. Written by <code>googlenet explain</code>.</p>")


PAGE_NAME = "explain.html"


def write_explain_page(subject: LoadedModel, images: Sequence[str | os.PathLike[str]],
                       out_dir: str | os.PathLike[str],
                       options: ExplainOptions | None = None) -> Path:
    """Explain ``images`` (files or folders) with the loaded model ``subject`` (trained
    weights, or a registry model's random weights, which the page says) and write
    ``out_dir/explain.html``, which needs no other file."""
    options = options or ExplainOptions()
    files = collect_images(images)
    dest = Path(out_dir)
    try:  # before the work: a folder that cannot be made costs no minutes
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{dest}: cannot make the output folder ({err.strerror})") from None
    cam_layers(subject, options)  # checked before the first image's work
    size = subject.preprocessing.input_size
    costs = block_costs(subject.features, (size, size), subject.in_chans)
    explained = [explain_image(subject, f, options, costs) for f in files]
    html = render_explain_page(subject, explained, model_svg(subject.network, size), options)
    page = dest / PAGE_NAME
    with atomic_path(page) as tmp:
        Path(tmp).write_text(html, encoding="utf-8")
    return page
