#!/usr/bin/env python3
"""gen_unicode.py - writes src/unicode_table.c: the Unicode tables the tokenizer needs.

Reads the Unicode Character Database as Debian's `unicode-data` package installs it
(/usr/share/unicode): UnicodeData.txt (general category, canonical combining class, canonical
decompositions), PropList.txt (White_Space) and DerivedNormalizationProps.txt (NFC_QC,
Full_Composition_Exclusion). The output is const data only, so the build needs no Python.

Usage: python3 tools/gen_unicode.py [UCD_DIR] > src/unicode_table.c
"""
import os
import sys

UCD = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"
MAX_CP = 0x110000

# Must match the HK_GC_* order in src/unicode.h.
GC_NAMES = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd",
            "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf",
            "Cs", "Co"]
GC_INDEX = {n: i for i, n in enumerate(GC_NAMES)}

# Hangul syllables are composed and decomposed by formula (unicode.c), not by table.
S_BASE, S_COUNT = 0xAC00, 11172


def data_lines(name):
    with open(os.path.join(UCD, name), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                yield [field.strip() for field in line.split(";")]


def cp_range(field):
    if ".." in field:
        a, b = field.split("..")
        return int(a, 16), int(b, 16)
    return int(field, 16), int(field, 16)


def version():
    with open(os.path.join(UCD, "PropList.txt"), encoding="utf-8") as f:
        first = f.readline().strip()  # "# PropList-15.0.0.txt"
    return first.lstrip("# ").replace("PropList-", "").replace(".txt", "")


def main():
    gc = bytearray(MAX_CP)  # 0 = Cn (unassigned)
    ccc = bytearray(MAX_CP)
    decomp = {}  # code point -> canonical decomposition (one level)
    first = None
    for f in data_lines("UnicodeData.txt"):
        cp, name, cat, cc, dm = int(f[0], 16), f[1], f[2], int(f[3]), f[5]
        if name.endswith(", First>"):
            first = cp
            continue
        lo = first if name.endswith(", Last>") else cp
        first = None
        for c in range(lo, cp + 1):
            gc[c] = GC_INDEX[cat]
            ccc[c] = cc
        if dm and not dm.startswith("<"):
            decomp[cp] = [int(x, 16) for x in dm.split()]

    ws = bytearray(MAX_CP)
    for f in data_lines("PropList.txt"):
        if f[1] == "White_Space":
            a, b = cp_range(f[0])
            for c in range(a, b + 1):
                ws[c] = 1

    qc = bytearray(MAX_CP)  # 0 = Yes, 1 = No, 2 = Maybe
    excluded = set()
    for f in data_lines("DerivedNormalizationProps.txt"):
        if f[1] == "NFC_QC":
            a, b = cp_range(f[0])
            for c in range(a, b + 1):
                qc[c] = 1 if f[2] == "N" else 2
        elif f[1] == "Full_Composition_Exclusion":
            a, b = cp_range(f[0])
            excluded.update(range(a, b + 1))

    # props byte: bits 0-4 general category, bit 5 White_Space, bits 6-7 NFC_QC.
    props = [gc[c] | (ws[c] << 5) | (qc[c] << 6) for c in range(MAX_CP)]

    def ranges(values):
        out = []
        for c in range(MAX_CP):
            if c == 0 or values[c] != values[c - 1]:
                out.append((c, values[c]))
        return out

    prop_ranges = ranges(props)
    ccc_ranges = ranges(ccc)

    def full(cp):
        if cp not in decomp:
            return [cp]
        return [x for d in decomp[cp] for x in full(d)]

    full_decomp = {cp: full(cp) for cp in sorted(decomp)}
    pool, index = [], []
    for cp, seq in full_decomp.items():
        index.append((cp, len(pool), len(seq)))
        pool.extend(seq)
    max_len = max(len(s) for s in full_decomp.values())

    comps = sorted((d[0], d[1], cp) for cp, d in decomp.items()
                   if len(d) == 2 and cp not in excluded)

    out = []
    w = out.append
    w("/* unicode_table.c - Unicode %s tables (general category, White_Space, NFC): generated, do not edit.\n"
      " *\n"
      " * Written by tools/gen_unicode.py from Debian's unicode-data package (UnicodeData.txt,\n"
      " * PropList.txt, DerivedNormalizationProps.txt). Regenerate with\n"
      " *     python3 tools/gen_unicode.py > src/unicode_table.c\n"
      " */\n" % version())
    w('#include "unicode.h"\n\n')
    w("const char hk_uc_version[] = \"%s\";\n\n" % version())

    def emit_u32(name, values, fmt="0x%08x", per_line=8):
        w("const uint32_t %s[%d] = {\n" % (name, len(values)))
        for i in range(0, len(values), per_line):
            w("    " + ", ".join(fmt % v for v in values[i:i + per_line]) + ",\n")
        w("};\n")

    w("/* Latin-1 fast path: props of U+0000..U+00FF. */\n")
    w("const uint8_t hk_uc_latin1_props[256] = {\n")
    for i in range(0, 256, 16):
        w("    " + ", ".join("0x%02x" % props[c] for c in range(i, i + 16)) + ",\n")
    w("};\n\n")

    w("/* (first code point << 8) | props; a range runs to the next entry's first code point.\n"
      " * props: bits 0-4 general category (HK_GC_*), bit 5 White_Space, bits 6-7 NFC_QC (0 Y, 1 N, 2 M). */\n")
    emit_u32("hk_uc_prop_ranges", [(c << 8) | v for c, v in prop_ranges])
    w("const size_t hk_uc_prop_ranges_n = %d;\n\n" % len(prop_ranges))

    w("/* (first code point << 8) | canonical combining class, same range convention. */\n")
    emit_u32("hk_uc_ccc_ranges", [(c << 8) | v for c, v in ccc_ranges])
    w("const size_t hk_uc_ccc_ranges_n = %d;\n\n" % len(ccc_ranges))

    w("/* Full canonical decompositions (recursively expanded; Hangul excluded), sorted by code point;\n"
      " * each entry names a slice of hk_uc_decomp_pool. Longest: %d code points. */\n" % max_len)
    w("const hk_uc_decomp hk_uc_decomps[%d] = {\n" % len(index))
    for i in range(0, len(index), 4):
        w("    " + " ".join("{0x%05x, %d, %d}," % e for e in index[i:i + 4]) + "\n")
    w("};\n")
    w("const size_t hk_uc_decomps_n = %d;\n" % len(index))
    emit_u32("hk_uc_decomp_pool", pool, "0x%05x", 10)
    w("\n")

    w("/* Canonical compositions {first, second, composite}: every two-code-point canonical\n"
      " * decomposition whose composite is not Full_Composition_Exclusion, sorted by (first, second). */\n")
    w("const hk_uc_comp hk_uc_comps[%d] = {\n" % len(comps))
    for i in range(0, len(comps), 3):
        w("    " + " ".join("{0x%05x, 0x%05x, 0x%05x}," % e for e in comps[i:i + 3]) + "\n")
    w("};\n")
    w("const size_t hk_uc_comps_n = %d;\n" % len(comps))

    assert max_len <= 4, max_len  # HK_UC_DECOMP_MAX in unicode.h
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
