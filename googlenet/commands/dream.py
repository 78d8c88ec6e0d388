"""``googlenet dream IMAGE --model M --layer inception_4c [--channel N]``: DeepDream,
the classic GoogLeNet demo (see :mod:`googlenet.explain.dream`). Writes the dream as a
PNG and, beside it, a strip of its octaves."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..atomic import atomic_path, writable_file
from ..errors import OutputError, UsageError
from ..explain.dream import DreamSettings, deep_dream, layer_objective, noise_image
from ..explain.render import hstack, png_bytes, to_rgb
from ..predict import read_image
from ._common import add_model_argument, add_sample_arguments, loaded_from_args, sample_from_args

STRIP_HEIGHT = 160  # pixels: each octave's image in the strip


def _write(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _run(args: argparse.Namespace) -> int:
    from_data = args.dataset is not None or args.index is not None
    if [args.image is not None, args.noise, from_data].count(True) != 1:
        raise UsageError("give an IMAGE to dream on, --dataset NAME --index N, or --noise "
                         "to start from noise")
    if Path(args.out).suffix.lower() != ".png":  # the dream is written as PNG bytes
        raise OutputError(f"--out {args.out}: the dream is written as PNG; name it .png")
    out = writable_file(args.out, "dream.png")
    strip = out.with_name(f"{out.stem}-octaves.png")
    subject = loaded_from_args(args)
    image = sample_from_args(args, out.parent) or args.image
    blocks = [name for name, _ in subject.features.blocks()]
    # The middle block by default: inception_4c in GoogLeNet, the classic choice.
    layer = args.layer or blocks[len(blocks) // 2]
    pre = subject.preprocessing
    start = noise_image(subject.in_chans, pre.input_size, args.seed) if args.noise \
        else read_image(image, pre, subject.in_chans)
    settings = DreamSettings(octaves=args.octaves, steps=args.steps, step_size=args.step_size,
                             jitter=args.jitter, seed=args.seed)
    dream = deep_dream(subject.features, pre, start, layer, args.channel, settings)
    _write(out, png_bytes(to_rgb(dream.image)))
    _write(strip, png_bytes(hstack([to_rgb(o) for o in dream.octaves], height=STRIP_HEIGHT)))
    before = layer_objective(subject.features, pre, start, layer, args.channel)
    after = layer_objective(subject.features, pre, dream.image, layer, args.channel)
    unit = f"{layer} channel {args.channel}" if args.channel is not None else layer
    print(f"{unit}: objective {before:.4g} -> {after:.4g} over {len(dream.octaves)} "
          f"octave(s) of {settings.steps} steps"
          + (" (random weights)" if subject.random else ""), file=sys.stderr)
    print(out)
    print(strip)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("dream", help="DeepDream: raise a layer's (or one unit's) response "
                                     "by gradient ascent on the image")
    p.add_argument("image", nargs="?", help="the image to start from (or --dataset NAME "
                                            "--index N, or --noise)")
    add_model_argument(p)
    add_sample_arguments(p)
    p.add_argument("--noise", action="store_true", help="start from grey noise, not an image")
    p.add_argument("--layer", help="the feature to raise: a block (inception_4c), a branch "
                                   "(inception_4c.branch_5x5)... (default: the middle block)")
    p.add_argument("--channel", type=int, help="raise only this channel: what one unit "
                                               "looks for")
    p.add_argument("--out", default="dream.png",
                   help="PNG to write; the octaves go beside it as NAME-octaves.png")
    p.add_argument("--input-size", "--size", dest="input_size",
                   help="dream at this size (default: the model's input size); --size is "
                        "its older spelling")
    p.add_argument("--octaves", type=int, default=4, help="scales, 1.4x apart (default 4)")
    p.add_argument("--steps", type=int, default=10, help="ascent steps per octave (default 10)")
    p.add_argument("--step-size", type=float, default=1.5,
                   help="pixels (0..255) moved per normalised step (default 1.5)")
    p.add_argument("--jitter", type=int, default=16, help="random shift in pixels (default 16)")
    p.add_argument("--seed", type=int, default=0, help="jitter and noise seed")
    p.set_defaults(func=_run)
