"""``googlenet weights list|get|path``: the pretrained releases by name (weights/hub.py)."""

from __future__ import annotations

import argparse

from ..weights.catalogue import CATALOGUE, get_release
from ..weights.hub import fetch_release, is_cached, weights_cache
from ._common import print_json


def _list(args: argparse.Namespace) -> int:
    rows = [{"name": e.name, "model": e.model, "source": e.source,
             "size_mb": e.size_mb, "acc1": e.accuracy.top1 if e.accuracy else None,
             "acc5": e.accuracy.top5 if e.accuracy else None, "licence": e.licence,
             "default": e.default, "cached": is_cached(e.name), "url": e.url}
            for e in CATALOGUE]
    if args.json:
        print_json(rows)
        return 0
    head = ("name", "model", "source", "size MB", "acc@1", "licence", "cached")
    table = [head] + [
        (f"{r['name']}{' *' if r['default'] else ''}", str(r["model"]), str(r["source"]),
         "-" if r["size_mb"] is None else f"{r['size_mb']:.0f}",
         "-" if r["acc1"] is None else f"{r['acc1']:.1f}", str(r["licence"]),
         "yes" if r["cached"] else "no")
        for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"* the model's default (create_model(MODEL, pretrained=True)); cache: "
          f"{weights_cache()}")
    return 0


def _get(args: argparse.Namespace) -> int:
    for name in args.names:
        get_release(name)  # every name is checked before the first download starts
    for name in args.names:
        print(fetch_release(name, offline=args.offline, keep_original=args.keep_original))
    return 0


def _path(args: argparse.Namespace) -> int:
    print(fetch_release(args.name, offline=args.offline))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "weights", help="pretrained releases by name: list, fetch ahead of time, locate",
        description="Every catalogued release (googlenet_bn.tv_in1k, googlenet.bvlc, ...) "
                    "is downloaded from its publisher, checked against the publisher's "
                    "checksum, converted and cached the first time a command names it. "
                    "$GOOGLENET_OFFLINE=1 never downloads; $GOOGLENET_WEIGHTS_MIRROR (a "
                    "base URL or a folder) replaces the publishers' servers.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="name, model, source, size, acc@1, licence, "
                                              "cached?")
    listing.add_argument("--json", action="store_true", help="machine-readable, with URLs")
    listing.set_defaults(func=_list)
    get = actions.add_parser("get", help="download, verify, convert and cache releases now "
                                         "(for a machine that will be offline later)")
    get.add_argument("names", nargs="+", metavar="NAME", help="release names")
    get.add_argument("--keep-original", action="store_true",
                     help="keep the publisher's file beside the converted one")
    get.add_argument("--offline", action="store_true", default=None,
                     help="never download (as $GOOGLENET_OFFLINE=1)")
    get.set_defaults(func=_get)
    path = actions.add_parser("path", help="print a release's cached file (fetched first "
                                           "when missing)")
    path.add_argument("name", metavar="NAME", help="a release name")
    path.add_argument("--offline", action="store_true", default=None,
                     help="never download (as $GOOGLENET_OFFLINE=1)")
    path.set_defaults(func=_path)
