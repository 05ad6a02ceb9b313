#!/usr/bin/env python3
"""Writes the constant tables of src/agora_token/fp_deflate.c (from RFC 1951, section 3.2.5/3.2.6).

python tools/gen_deflate_tables.py > /tmp/t.c   # then paste between the TABLES markers
"""


def rev(code: int, bits: int) -> int:
    out = 0
    for _ in range(bits):
        out = (out << 1) | (code & 1)
        code >>= 1
    return out


def emit(name: str, ctype: str, values, per_line: int = 16) -> None:
    print(f"static const {ctype} {name}[{len(values)}] = {{")
    for i in range(0, len(values), per_line):
        print("    " + ", ".join(str(v) for v in values[i : i + per_line]) + ",")
    print("};")


# Lengths 3..258: code 257 + index, with extra bits; 258 is code 285 with none (RFC 1951 3.2.5).
LEN_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
len_base, base = [], 3
for x in LEN_EXTRA[:-1]:
    len_base.append(base)
    base += 1 << x
len_base.append(258)
len_code = []
for length in range(3, 259):
    code = max(i for i in range(28) if len_base[i] <= length) if length != 258 else 28
    len_code.append(code)
# Distances 1..32768: 30 codes.
DIST_EXTRA = [0, 0, 0, 0] + [i // 2 for i in range(2, 28)]
dist_base, base = [], 1
for x in DIST_EXTRA:
    dist_base.append(base)
    base += 1 << x
assert base == 32769


def dcode(d0: int) -> int:  # d0 = distance - 1
    return max(i for i in range(30) if dist_base[i] - 1 <= d0)


dist_lo = [dcode(d) for d in range(256)]
dist_hi = [dcode(d << 7) if d >= 2 else 0 for d in range(256)]  # for d0 >= 256: index d0 >> 7
# Fixed Huffman code (RFC 1951 3.2.6), bit-reversed so it can be sent least significant bit first.
slen = [8] * 144 + [9] * 112 + [7] * 24 + [8] * 8
scode = []
for sym in range(288):
    if sym < 144:
        c = 0x30 + sym
    elif sym < 256:
        c = 0x190 + sym - 144
    elif sym < 280:
        c = sym - 256
    else:
        c = 0xC0 + sym - 280
    scode.append(rev(c, slen[sym]))
print("/* TABLES: written by tools/gen_deflate_tables.py */")
emit("T_LEN_CODE", "uint8_t", len_code)
emit("T_LEN_BASE", "uint16_t", [b - 3 for b in len_base])
emit("T_LEN_EXTRA", "uint8_t", LEN_EXTRA)
emit("T_DIST_LO", "uint8_t", dist_lo)
emit("T_DIST_HI", "uint8_t", dist_hi)
emit("T_DIST_BASE", "uint16_t", [b - 1 for b in dist_base])
emit("T_DIST_EXTRA", "uint8_t", DIST_EXTRA)
emit("T_SLIT_CODE", "uint16_t", scode, 12)
emit("T_SLIT_LEN", "uint8_t", slen, 24)
emit("T_SDIST_CODE", "uint16_t", [rev(d, 5) for d in range(30)])
emit("T_SDIST_LEN", "uint8_t", [5] * 30)
print("/* END TABLES */")
