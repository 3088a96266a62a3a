#!/usr/bin/env python3
"""Plots test accuracy against server updates from rnnl-train --out JSON Lines files, as an SVG.

    scripts/plot_accuracy.py -o docs/figures/rnl_deep.svg --title "rnl_deep, 100 workers" \
        "AdaComp=runs/adacomp.jsonl" "dense ASGD=runs/none.jsonl"

Each argument is LABEL=FILE (or FILE, labelled by its name). Only the Python standard library is
used, so the script runs wherever rnnl-train does.
"""
import argparse
import json
import pathlib
import sys
from xml.sax.saxutils import escape

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]


def read_series(spec):
    label, _, path = spec.rpartition("=")
    path = pathlib.Path(path)
    points = []
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        sys.exit(f"plot_accuracy: cannot read {path}: {e.strerror}")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            sys.exit(f"plot_accuracy: {path}:{number}: not JSON ({e.msg})")
        if "updates" in record and "test_accuracy" in record:
            points.append((float(record["updates"]), 100.0 * float(record["test_accuracy"])))
    if not points:
        sys.exit(f"plot_accuracy: {path} has no records with 'updates' and 'test_accuracy'")
    return label or path.stem, points


def nice_step(span, ticks):
    raw = span / ticks
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("series", nargs="+", help="LABEL=FILE.jsonl")
    parser.add_argument("-o", "--output", required=True, help="SVG file to write")
    parser.add_argument("--title", default="")
    parser.add_argument("--ymin", type=float, default=None, help="lowest accuracy shown (percent)")
    args = parser.parse_args()

    series = [read_series(s) for s in args.series]
    x_max = max(x for _, pts in series for x, _ in pts) or 1.0
    y_min = args.ymin if args.ymin is not None else max(0.0, min(y for _, pts in series for _, y in pts) - 2)
    y_max = 100.0
    width, height, left, right, top, bottom = 800, 440, 60, 250, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x):
        return left + plot_w * x / x_max

    def py(y):
        return top + plot_h * (1 - (max(y, y_min) - y_min) / (y_max - y_min))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           f'font-size="12"><rect width="100%" height="100%" fill="white"/>']
    out.append(f'<text x="{left}" y="22" font-size="14">{escape(args.title)}</text>')
    x_step = nice_step(x_max, 6)
    x = 0.0
    while x <= x_max + 1e-9:
        out.append(f'<line x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" y2="{top + plot_h}" stroke="#ddd"/>')
        label = f"{x / 1000:g}k" if x >= 1000 else f"{x:g}"
        out.append(f'<text x="{px(x):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{label}</text>')
        x += x_step
    y_step = nice_step(y_max - y_min, 6)
    y = y_max
    while y >= y_min - 1e-9:
        out.append(f'<line x1="{left}" y1="{py(y):.1f}" x2="{left + plot_w}" y2="{py(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
        y -= y_step
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle">server updates</text>')
    out.append(f'<text x="16" y="{top + plot_h / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + plot_h / 2})">test accuracy (%)</text>')
    for k, (label, pts) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        ly = top + 14 + 18 * k
        out.append(f'<line x1="{left + plot_w + 12}" y1="{ly - 4}" x2="{left + plot_w + 32}" y2="{ly - 4}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        final = pts[-1][1]
        out.append(f'<text x="{left + plot_w + 36}" y="{ly}">{escape(label)} ({final:.1f})</text>')
    out.append("</svg>\n")
    target = pathlib.Path(args.output)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text("\n".join(out))
    tmp.replace(target)


if __name__ == "__main__":
    main()
