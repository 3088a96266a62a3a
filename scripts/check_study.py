#!/usr/bin/env python3
"""Checks that a study's outputs are well formed: summary.csv parses (every row has the header's
columns, numeric columns hold numbers), every table of summary.md has as many cells per row as its
header, and every image under plots/ is a non-empty PNG (signature, IHDR with a non-zero size) or
SVG (parses as XML, root <svg>). Usage: check_study.py STUDY_DIR [MIN_IMAGES]. Exit 1 on a problem."""
import csv
import math
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def fail(message):
    print(f"check_study: {message}", file=sys.stderr)
    sys.exit(1)


def check_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        fail(f"{path}: no configuration rows")
    header = rows[0]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            fail(f"{path}:{number}: {len(row)} fields, header has {len(header)}")
        for key, value in zip(header, row):
            if key in ("runs", "finished", "diverged", "failed", "abandoned") or key.startswith(("final_accuracy", "bytes_to_")):
                if value == "":
                    continue
                try:
                    x = float(value)
                except ValueError:
                    fail(f"{path}:{number}: {key} = {value!r} is not a number")
                if not math.isfinite(x):
                    fail(f"{path}:{number}: {key} is not finite")
    return len(rows) - 1


def cells(line):
    return len(line.strip().strip("|").split("|"))


def check_markdown(path):
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    tables = 0
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            width = cells(lines[i])
            if cells(lines[i + 1]) != width:
                fail(f"{path}:{i + 2}: the separator row has {cells(lines[i + 1])} cells, the header {width}")
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                if cells(lines[i]) != width:
                    fail(f"{path}:{i + 1}: {cells(lines[i])} cells, the header has {width}")
                i += 1
            tables += 1
        else:
            i += 1
    if tables == 0:
        fail(f"{path}: no table")
    return tables


def check_image(path):
    data = path.read_bytes()
    if not data:
        fail(f"{path}: empty")
    if path.suffix == ".png":
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
            fail(f"{path}: not a PNG")
        width, height = struct.unpack(">II", data[16:24])
        if width == 0 or height == 0:
            fail(f"{path}: a PNG of size {width}x{height}")
    else:
        try:
            root = ET.fromstring(data)
        except ET.ParseError as e:
            fail(f"{path}: not XML ({e})")
        if not root.tag.endswith("svg"):
            fail(f"{path}: the root element is {root.tag}, not svg")


def main():
    if len(sys.argv) not in (2, 3):
        fail("usage: check_study.py STUDY_DIR [MIN_IMAGES]")
    study = Path(sys.argv[1])
    minimum = int(sys.argv[2]) if len(sys.argv) == 3 else 1
    configurations = check_csv(study / "summary.csv")
    tables = check_markdown(study / "summary.md")
    images = sorted(p for p in (study / "plots").glob("*") if p.suffix in (".png", ".svg"))
    if len(images) < minimum:
        fail(f"{study}/plots: {len(images)} images, expected at least {minimum}")
    for image in images:
        check_image(image)
    print(f"check_study: {study}: {configurations} configurations, {tables} tables, {len(images)} images: well formed")


if __name__ == "__main__":
    main()
