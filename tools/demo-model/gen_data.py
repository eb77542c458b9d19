#!/usr/bin/env python3
"""Synthetic reasoning tasks for hearth's demo model (pure Python stdlib).

Every example is one chat in the ChatML-with-think format of Nemotron-3-Nano
(docs: shared MODEL-nemotron-h.md section 6.2):

    <|im_start|>system\\n<|im_end|>\\n<|im_start|>user\\n{question}<|im_end|>\\n
    <|im_start|>assistant\\n<think>\\n{reasoning}\\n</think>\\n{answer}<|im_end|>\\n      (reasoning on)
    <|im_start|>assistant\\n<think></think>{answer}<|im_end|>\\n                            (reasoning off)

Tasks: add, sub (up to 4 digits, worked column by column), compare (which of two
numbers is larger/smaller, digit by digit), count (letters in a word), reverse and
sort (lists of 3-6 items), facts (one-line facts about hearth, many phrasings).

usage:
  gen_data.py --out DIR [--seed N] [--train N] [--heldout-per-task N] [--reasoning-off 0.25]
writes DIR/train.jsonl   {"task", "mode", "prompt", "completion"}  (prompt + completion = full chat)
       DIR/heldout.jsonl {"id", "task", "mode", "prompt", "expected"}
and checks that no held-out problem occurs in the training set.
The same seed always gives byte-identical files.
"""
import argparse
import hashlib
import json
import os
import random
import sys

TASKS = ["add", "sub", "compare", "count", "reverse", "sort", "facts"]
# share of each task in the training mix
TRAIN_MIX = {"add": 0.20, "sub": 0.20, "compare": 0.12, "count": 0.15,
             "reverse": 0.10, "sort": 0.13, "facts": 0.10}

IM_START, IM_END, THINK, END_THINK = "<|im_start|>", "<|im_end|>", "<think>", "</think>"


def render_prompt(question, thinking=True, system=""):
    """The prompt a chat template renders for one user turn plus the generation prompt."""
    p = (f"{IM_START}system\n{system}{IM_END}\n"
         f"{IM_START}user\n{question}{IM_END}\n"
         f"{IM_START}assistant\n")
    return p + (f"{THINK}\n" if thinking else f"{THINK}{END_THINK}")


def render_completion(reasoning, answer, thinking=True):
    """What the assistant writes after the prompt; the trailing newline closes the turn."""
    if thinking:
        return f"{reasoning}\n{END_THINK}\n{answer}{IM_END}\n"
    return f"{answer}{IM_END}\n"


def extract_answer(output):
    """Final answer in a generated continuation: the text after the last </think>
    (or all of it when reasoning was off), cut at <|im_end|> / </s>, stripped."""
    if END_THINK in output:
        output = output.rsplit(END_THINK, 1)[1]
    for stop in (IM_END, "</s>"):
        if stop in output:
            output = output.split(stop, 1)[0]
    return output.strip()


# --------------------------------------------------------------------------- words

WORDS = """
able acid aged also area army away baby back ball band bank base bath bear beat bell belt bird
blue boat body bone book born boss both bowl bread brick bridge bright brush cake call calm camp card
care cart case cash cast cave chair chalk cheese chess child chin city clay clock cloud coat code coin
cold cook cool copy corn cost crab crow cube cup dance dark date deer desk dish door dove down draw dream
dress drum duck dust eagle earth east echo edge egg engine farm fast fear field fire fish flag flame
floor flower fog food foot forest fork fox frog fruit game garden gate ghost gift glass glove goat gold
grape grass green guitar hair hall hammer hand happy harbor hat heart hill home honey hook horse hotel
house ice island jacket jam jar jelly jewel juice jungle kettle key king kite kitten knee knife ladder
lake lamp leaf lemon letter light lion lizard lock magic mango map market mask meadow melon metal milk
mirror money monkey moon morning mouse mouth music nail needle nest night noise north nose ocean
office olive onion orange owl paint paper parrot party peach pearl pencil pepper piano pillow pilot
pizza planet plant plate pocket pony potato puzzle queen rabbit radio rain river road robot rock
rocket roof rope rose ruler salt sand school scarf sea seed shadow sheep shell ship shirt shoe silver
sister sky sleep smile snake snow soap sock soup south spoon spring star stone storm street sugar summer
sun table tail teacher tent thunder tiger toast tomato tooth towel tower town toy train tree truck
turtle umbrella valley violin wagon wall water wave whale wheel window winter wolf wood world yard
yellow zebra zero apple banana butter candle carpet castle cherry circle cotton cousin dinner doctor
dragon feather finger garlic hollow insect kingdom laptop marble mellow mitten noodle orbit pebble
pickle pirate pocket poppy rhythm saddle silk sparrow strawberry summit teapot thimble tunnel velvet
walnut whistle window yogurt blanket compass lantern library mountain necklace notebook pineapple
raincoat sandwich skeleton squirrel sunshine telescope tortoise volcano waterfall broccoli cucumber
elephant giraffe kangaroo mushroom octopus penguin pumpkin rainbow scissors spider sweater tomorrow
triangle village vanilla wizard balloon bicycle chimney cupcake dolphin hedgehog jigsaw ketchup lobster
""".split()
WORDS = sorted(set(WORDS))
LETTERS = "abcdefghijklmnopqrstuvwxyz"
PLACES = ["Ones", "Tens", "Hundreds", "Thousands"]


def rand_number(rng, max_digits=4):
    nd = rng.randint(1, max_digits)
    lo = 0 if nd == 1 else 10 ** (nd - 1)
    return rng.randint(lo, 10 ** nd - 1)


def digits_padded(n, width):
    return [int(c) for c in str(n).rjust(width, "0")]


# --------------------------------------------------------------------------- tasks
# Each maker returns (key, question, reasoning, answer). `key` identifies the problem
# (independent of phrasing) so held-out problems can be kept out of training.

def make_add(rng):
    a, b = rand_number(rng), rand_number(rng)
    q = rng.choice(["What is {a} + {b}?", "Compute {a} + {b}.", "{a} + {b} = ?",
                    "Add {a} and {b}.", "What is the sum of {a} and {b}?"]).format(a=a, b=b)
    w = max(len(str(a)), len(str(b)))
    da, db = digits_padded(a, w), digits_padded(b, w)
    lines = [f"Line up: {''.join(map(str, da))} + {''.join(map(str, db))}"]
    carry = 0
    for i in range(w):
        x, y = da[w - 1 - i], db[w - 1 - i]
        s = x + y + carry
        lines.append(f"{PLACES[i]}: {x} + {y} + {carry} = {s}, write {s % 10}, carry {s // 10}")
        carry = s // 10
    if carry:
        lines.append("The last carry 1 is the leading digit.")
    lines.append(f"Result: {a + b}")
    return ("add", min(a, b), max(a, b)), q, "\n".join(lines), str(a + b)


def make_sub(rng):
    a, b = rand_number(rng), rand_number(rng)
    if a < b:
        a, b = b, a
    q = rng.choice(["What is {a} - {b}?", "Compute {a} - {b}.", "{a} - {b} = ?",
                    "Subtract {b} from {a}.", "What is {a} minus {b}?"]).format(a=a, b=b)
    w = len(str(a))
    da, db = digits_padded(a, w), digits_padded(b, w)
    lines = [f"Line up: {''.join(map(str, da))} - {''.join(map(str, db))}"]
    borrow = 0
    for i in range(w):
        x, y = da[w - 1 - i], db[w - 1 - i]
        d = x - y - borrow
        if d < 0:
            lines.append(f"{PLACES[i]}: {x} - {y} - {borrow} = {d}, {d} + 10 = {d + 10}, write {d + 10}, borrow 1")
            borrow = 1
        else:
            lines.append(f"{PLACES[i]}: {x} - {y} - {borrow} = {d}, write {d}, borrow 0")
            borrow = 0
    lines.append(f"Result: {a - b}")
    return ("sub", a, b), q, "\n".join(lines), str(a - b)


def make_compare(rng):
    kind = rng.random()
    while True:
        if kind < 0.45:          # same length, shared leading digits: needs the digit walk
            nd = rng.randint(2, 4)
            a = rng.randint(10 ** (nd - 1), 10 ** nd - 1)
            s = list(str(a))
            k = rng.randint(1, nd - 1)  # first differing position
            s[k] = str(rng.choice([d for d in range(10) if d != int(s[k])]))
            for j in range(k + 1, nd):
                s[j] = str(rng.randint(0, 9))
            b = int("".join(s))
        elif kind < 0.75:        # same length, random
            nd = rng.randint(1, 4)
            lo = 0 if nd == 1 else 10 ** (nd - 1)
            a, b = rng.randint(lo, 10 ** nd - 1), rng.randint(lo, 10 ** nd - 1)
        else:                    # any lengths
            a, b = rand_number(rng), rand_number(rng)
        if a != b:
            break
    want_larger = rng.random() < 0.5
    if want_larger:
        q = rng.choice(["Which is larger, {a} or {b}?", "Which number is bigger: {a} or {b}?",
                        "Which is greater, {a} or {b}?"])
    else:
        q = rng.choice(["Which is smaller, {a} or {b}?", "Which number is less: {a} or {b}?",
                        "Which is lower, {a} or {b}?"])
    q = q.format(a=a, b=b)
    sa, sb = str(a), str(b)
    big, small = max(a, b), min(a, b)
    lines = [f"{sa} has {len(sa)} digits, {sb} has {len(sb)} digits."]
    if len(sa) != len(sb):
        lines.append("More digits means larger.")
    else:
        lines.append("Same length, compare from the left:")
        for x, y in zip(sa, sb):
            if x == y:
                lines.append(f"{x} and {y}: same")
            else:
                lines.append(f"{x} and {y}: {max(x, y)} is bigger")
                break
    lines.append(f"So {big} is larger and {small} is smaller.")
    return ("compare", small, big), q, "\n".join(lines), str(big if want_larger else small)


def make_count(rng):
    word = rng.choice(WORDS)
    present = sorted(set(word))
    if rng.random() < 0.75:
        letter = rng.choice(present)
    else:
        letter = rng.choice([c for c in LETTERS if c not in present])
    q = rng.choice(['How many times does the letter "{l}" appear in "{w}"?',
                    'How many {l}\'s are in the word "{w}"?',
                    'Count the letter "{l}" in "{w}".',
                    'In the word "{w}", how many times does "{l}" occur?']).format(l=letter, w=word)
    marks, n = [], 0
    for c in word:
        if c == letter:
            n += 1
            marks.append(f"{c}={n}")
        else:
            marks.append(c)
    lines = [f'Spell "{word}": {" ".join(word)}',
             f"Mark each {letter}: {' '.join(marks)}",
             f"Total: {n}"]
    return ("count", word, letter), q, "\n".join(lines), str(n)


def rand_items(rng):
    n = rng.randint(3, 6)
    if rng.random() < 0.5:
        return rng.sample(WORDS, n)
    return [str(x) for x in rng.sample(range(100), n)]


def make_reverse(rng):
    items = rand_items(rng)
    q = rng.choice(["Reverse the list: {l}", "Reverse this list: {l}",
                    "Write this list backwards: {l}", "Reverse the order of: {l}"]).format(l=", ".join(items))
    n = len(items)
    lines = [f"There are {n} items: " + ", ".join(f"({i + 1}) {x}" for i, x in enumerate(items)),
             "From last to first: " + ", ".join(f"({i + 1}) {items[i]}" for i in range(n - 1, -1, -1))]
    ans = ", ".join(reversed(items))
    return ("reverse",) + tuple(items), q, "\n".join(lines), ans


def make_sort(rng):
    n = rng.randint(3, 6)
    items = rng.sample(range(100), n)
    asc = rng.random() < 0.6
    if asc:
        q = rng.choice(["Sort from smallest to largest: {l}", "Sort these numbers in increasing order: {l}",
                        "Put in ascending order: {l}"])
    else:
        q = rng.choice(["Sort from largest to smallest: {l}", "Sort these numbers in decreasing order: {l}",
                        "Put in descending order: {l}"])
    q = q.format(l=", ".join(map(str, items)))
    word = "Smallest" if asc else "Largest"
    pick = min if asc else max
    rest, out, lines = list(items), [], []
    while len(rest) > 1:
        m = pick(rest)
        lines.append(f"{word} of {', '.join(map(str, rest))}: {m}")
        out.append(m)
        rest.remove(m)
    lines.append(f"Last: {rest[0]}")
    out.append(rest[0])
    ans = ", ".join(map(str, out))
    lines.append(f"Sorted: {ans}")
    return ("sort", asc) + tuple(sorted(items)), q, "\n".join(lines), ans


FACTS = [
    (["Where does my data go?", "Is my data sent anywhere?", "Do you send my messages to a server?",
      "Who can see what I type?", "Is this chat private?"],
     "The user asks about their data. hearth runs the model on this device, so nothing leaves it.",
     "It stays on this device. Nothing you type is sent to a server."),
    (["What is hearth?", "What are you?", "Tell me what hearth is.", "What is this app?",
      "What kind of program is hearth?"],
     "The user asks what hearth is. It is a local language model engine in the browser.",
     "hearth runs a small language model entirely in your browser."),
    (["Do you need the internet?", "Does this work offline?", "Can I use you without a connection?",
      "Do you need a network connection?", "Will this work on a plane?"],
     "The user asks about the network. Only the first model download needs it.",
     "Only once, to download the model. After that it works offline."),
    (["Which model are you?", "What model is this?", "What are you built on?",
      "What is your architecture?", "What kind of model are you?"],
     "The user asks about the model. It is a small hybrid Mamba-2 and attention model.",
     "A small Nemotron-H model (Mamba-2 layers plus attention) trained by the hearth project."),
    (["Where do you run?", "What hardware do you use?", "Do you use my GPU?",
      "How do you compute your answers?", "What does hearth run on?"],
     "The user asks where the computation happens. It happens locally.",
     "On this device: the GPU through WebGPU, or the CPU through WebAssembly."),
    (["Where is the model stored?", "Where are the weights kept?", "Do I have to download you every time?",
      "Where is the model saved?", "Is the model cached?"],
     "The user asks about storage. The weights are cached in the browser.",
     "In your browser's private storage (OPFS) on this device, so it loads without downloading again."),
    (["What can you do?", "What are you good at?", "What tasks can you handle?",
      "How can you help me?", "What should I ask you?"],
     "The user asks what I can do. I was trained on a few simple tasks.",
     "Simple tasks: adding and subtracting numbers, comparing numbers, counting letters, "
     "and reversing or sorting short lists."),
    (["Can you make mistakes?", "Are your answers always right?", "Should I trust your answers?",
      "Are you always correct?", "How reliable are you?"],
     "The user asks about reliability. I am a very small model.",
     "Yes, I am a very small model and can be wrong. Check anything important."),
]
FACT_PREFIXES = ["", "Hi! ", "Hey, ", "Quick question: ", "Hello. ", "Please tell me: ",
                 "I wonder: ", "Question: ", "Hi there. ", "Excuse me, "]


def make_facts(rng):
    f = rng.randrange(len(FACTS))
    qs, reasoning, answer = FACTS[f]
    qi, pi, lower = rng.randrange(len(qs)), rng.randrange(len(FACT_PREFIXES)), rng.random() < 0.3
    q = qs[qi]
    if lower:
        q = q.lower()
    q = FACT_PREFIXES[pi] + q
    return ("facts", f, qi, pi, lower), q, reasoning, answer


MAKERS = {"add": make_add, "sub": make_sub, "compare": make_compare, "count": make_count,
          "reverse": make_reverse, "sort": make_sort, "facts": make_facts}


# --------------------------------------------------------------------------- sets

def heldout_set(seed, per_task):
    """per_task distinct problems per task, each once with reasoning on and once off."""
    rows, keys = [], set()
    for task in TASKS:
        rng = random.Random(f"{seed}/heldout/{task}")
        got = 0
        while got < per_task:
            key, q, _, ans = MAKERS[task](rng)
            if key in keys:
                continue
            keys.add(key)
            for mode in ("think", "nothink"):
                rows.append({"id": f"{task}-{got:04d}-{mode}", "task": task, "mode": mode,
                             "prompt": render_prompt(q, thinking=(mode == "think")), "expected": ans})
            got += 1
    return rows, keys


def train_set(seed, n, heldout_keys, reasoning_off=0.25):
    rng = random.Random(f"{seed}/train")
    tasks, weights = list(TRAIN_MIX), [TRAIN_MIX[t] for t in TRAIN_MIX]
    rows, skipped = [], 0
    while len(rows) < n:
        task = rng.choices(tasks, weights)[0]
        key, q, reasoning, ans = MAKERS[task](rng)
        if key in heldout_keys:
            skipped += 1
            continue
        thinking = rng.random() >= reasoning_off
        rows.append({"task": task, "mode": "think" if thinking else "nothink",
                     "prompt": render_prompt(q, thinking), "completion": render_completion(reasoning, ans, thinking)})
    return rows, skipped


def write_jsonl(path, rows):
    h = hashlib.sha256()
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            line = json.dumps(r, ensure_ascii=False) + "\n"
            f.write(line)
            h.update(line.encode("utf-8"))
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--train", type=int, default=200000, help="training examples (0: held-out only)")
    ap.add_argument("--heldout-per-task", type=int, default=250)
    ap.add_argument("--reasoning-off", type=float, default=0.25)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    held, keys = heldout_set(a.seed, a.heldout_per_task)
    print(f"heldout.jsonl: {len(held)} rows, sha256 {write_jsonl(os.path.join(a.out, 'heldout.jsonl'), held)}")
    if a.train:
        train, skipped = train_set(a.seed, a.train, keys, a.reasoning_off)
        # independent disjointness check on the rendered questions
        def question(prompt):
            return prompt.split(f"{IM_START}user\n", 1)[1].split(IM_END, 1)[0]
        held_q = {(r["task"], question(r["prompt"])) for r in held}
        clash = sum((r["task"], question(r["prompt"])) in held_q for r in train)
        if clash:
            sys.exit(f"error: {clash} training questions occur in the held-out set")
        print(f"train.jsonl: {len(train)} rows ({skipped} draws dropped as held-out problems), "
              f"sha256 {write_jsonl(os.path.join(a.out, 'train.jsonl'), train)}")
        counts = {}
        for r in train:
            counts[r["task"], r["mode"]] = counts.get((r["task"], r["mode"]), 0) + 1
        print("train mix:", ", ".join(f"{t}/{m} {c}" for (t, m), c in sorted(counts.items())))


if __name__ == "__main__":
    main()
