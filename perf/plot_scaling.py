#!/usr/bin/env python3
"""PNG plots of the measurements of perf/scaling.sh: efficiency and wall time against ranks.

    plot_scaling.py SCALING.tsv OUTDIR     writes OUTDIR/scaling_efficiency.png, scaling_time.png

SCALING.tsv has a header and the columns series, kind, ranks, wall_s, efficiency (others are
ignored). Only the standard library is used (no matplotlib on the target machines): a small
rasteriser with a 3x5 bitmap font, and a PNG encoder on zlib.
"""
import csv
import math
import struct
import sys
import zlib

# 3x5 glyphs: five rows of three pixels, one octal digit per row (4 = left, 2 = middle, 1 = right).
FONT = dict(zip(
    "0123456789.-%/:_()=+ ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "75557 26227 71747 71317 55711 74717 74757 71122 75757 75717 00002 00700 51245 11244 02020 "
    "00007 12221 42224 07070 02720 00000 25755 65656 34443 65556 74647 74644 34553 55755 72227 "
    "11152 55655 44447 57555 65555 25552 65644 25563 65655 34216 72222 55557 55552 55575 55255 "
    "55222 71247".split()))
COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14),
           (23, 190, 207), (140, 86, 75)]
GREY, BLACK, LIGHT = (150, 150, 150), (0, 0, 0), (228, 228, 228)


class Canvas:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.px = bytearray(b"\xff" * (w * h * 3))

    def dot(self, x, y, c, r=0):
        for yy in range(int(y) - r, int(y) + r + 1):
            for xx in range(int(x) - r, int(x) + r + 1):
                if 0 <= xx < self.w and 0 <= yy < self.h:
                    i = 3 * (yy * self.w + xx)
                    self.px[i:i + 3] = bytes(c)

    def line(self, x0, y0, x1, y1, c, r=0, dash=0):
        n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for k in range(n + 1):
            if dash and (k // dash) % 2:
                continue
            t = k / n
            self.dot(round(x0 + t * (x1 - x0)), round(y0 + t * (y1 - y0)), c, r)

    def text(self, x, y, s, c=BLACK, scale=2, anchor="left"):
        """Draws s with its top at y; anchor left, right or centre at x."""
        width = (4 * len(s) - 1) * scale
        x -= {"left": 0, "right": width, "centre": width // 2}[anchor]
        for ch in s.upper():
            for row, bits in enumerate(FONT.get(ch, "00000")):
                for col in range(3):
                    if int(bits) & (4 >> col):
                        for dy in range(scale):
                            for dx in range(scale):
                                self.dot(x + col * scale + dx, y + row * scale + dy, c)
            x += 4 * scale

    def png(self, path):
        rows = b"".join(b"\x00" + bytes(self.px[3 * self.w * y:3 * self.w * (y + 1)])
                        for y in range(self.h))

        def chunk(tag, data):
            return struct.pack(">I", len(data)) + tag + data + struct.pack(
                ">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h,
                                                                      8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def ticks(lo, hi, most=6):
    """Round tick values (1, 2 or 5 times a power of ten apart) from at most lo to at least hi."""
    span = max(hi - lo, 1e-12)
    step = 10 ** math.floor(math.log10(span / most))
    for m in (1, 2, 5, 10):
        if span / (m * step) <= most:
            step *= m
            break
    first = math.floor(lo / step + 1e-9) * step
    return [first + i * step for i in range(math.ceil((hi - first) / step - 1e-9) + 1)]


def label(v):
    return "%g" % round(v, 12)


def plot(series, title, path, ideal=None):
    left, right, top, bottom = 80, 700, 50, 380
    cv = Canvas(720, bottom + 62 + 16 * ((len(series) - 1) // 3))
    xs = sorted({r for pts in series.values() for r, _ in pts})
    ys = [v for pts in series.values() for _, v in pts] + ([ideal] if ideal else [])
    # Rank counts double on GPU hosts: a log2 axis keeps them evenly spaced.
    logx = len(xs) > 2 and xs[-1] / xs[0] >= 8
    fx = (lambda r: math.log2(r)) if logx else float
    x0, x1 = fx(xs[0]), fx(xs[-1])
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    pad = 0.06 * (x1 - x0)
    x0, x1 = x0 - pad, x1 + pad
    yt = ticks(0.0, max(ys) * 1.1 if ys else 1.0)
    y0, y1 = 0.0, yt[-1]
    X = lambda r: left + (fx(r) - x0) / (x1 - x0) * (right - left)
    Y = lambda v: bottom - (v - y0) / (y1 - y0) * (bottom - top)
    for v in yt:
        cv.line(left, Y(v), right, Y(v), LIGHT)
        cv.text(left - 8, Y(v) - 5, label(v), anchor="right")
    for r in xs:
        cv.line(X(r), bottom, X(r), bottom + 5, BLACK)
        cv.text(X(r), bottom + 10, str(r), anchor="centre")
    cv.line(left, top, left, bottom, BLACK)
    cv.line(left, bottom, right, bottom, BLACK)
    cv.text(left, 14, title, scale=3)
    cv.text((left + right) // 2, bottom + 32, "MPI ranks" + (" (log2)" if logx else ""),
            anchor="centre")
    if ideal is not None:
        cv.line(left, Y(ideal), right, Y(ideal), GREY, dash=6)
    for k, (name, pts) in enumerate(series.items()):
        c = COLOURS[k % len(COLOURS)]
        pts = sorted(pts)
        for (ra, va), (rb, vb) in zip(pts, pts[1:]):
            cv.line(X(ra), Y(va), X(rb), Y(vb), c, r=1)
        for r, v in pts:
            cv.dot(X(r), Y(v), c, r=4)
        # Legend below the axis label, one entry per series.
        lx, ly = left + (k % 3) * 210, bottom + 50 + (k // 3) * 16
        cv.line(lx, ly + 4, lx + 20, ly + 4, c, r=1)
        cv.text(lx + 28, ly, name.replace("_", " "))
    cv.png(path)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for column, title, ideal, name in (("efficiency", "EFFICIENCY", 1.0, "scaling_efficiency.png"),
                                       ("wall_s", "WALL SECONDS", None, "scaling_time.png")):
        series = {}
        for row in rows:
            series.setdefault(row["series"], []).append((int(row["ranks"]), float(row[column])))
        plot(series, title, "%s/%s" % (sys.argv[2], name), ideal)


if __name__ == "__main__":
    main()
