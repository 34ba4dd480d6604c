#!/usr/bin/env python3
"""results/test/pngcheck.py PNG [R,G,B]: checks a browser screenshot is not blank: it decodes the
PNG (8-bit RGB/RGBA, no external library), counts distinct colours and non-white pixels and, given
a colour, the pixels of exactly that colour (e.g. the charts' first bar colour). Prints the counts;
exits 0 when the page shows something (and the colour, when given), 1 otherwise."""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise SystemExit(f"{path}: unsupported PNG (depth {depth}, type {ctype})")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev, out = zlib.decompress(idat), w * bpp, None, []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        prev = prev or bytearray(stride)
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(line)
        prev = line
    return w, h, bpp, out


w, h, bpp, rows = pixels(sys.argv[1])
want = tuple(int(x) for x in sys.argv[2].split(",")) if len(sys.argv) > 2 else None
colours, ink, hits = set(), 0, 0
for line in rows:
    for x in range(0, len(line), bpp):
        px = tuple(line[x:x + 3])
        colours.add(px)
        ink += px != (255, 255, 255)
        hits += px == want
print(f"{w}x{h}: {len(colours)} colours, {ink} non-white pixels" +
      (f", {hits} pixels of {want}" if want else ""))
sys.exit(0 if len(colours) > 8 and ink > 1000 and (not want or hits >= 50) else 1)
