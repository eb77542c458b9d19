#!/usr/bin/env python3
"""Train hearth's demo model (a ~12 M parameter Nemotron-H) on the synthetic tasks of gen_data.py.

Runs on the GPU machine (torch, transformers >= 5 with NemotronHForCausalLM, tokenizers,
safetensors, numpy). In one go it
  1. generates the training and held-out data (gen_data.py, seeded),
  2. trains a byte-level BPE tokenizer (--vocab ids, default 2048; chat special tokens at ids 0..13) on the
     training text and writes tokenizer.json + tokenizer_config.json,
  3. trains NemotronHForCausalLM (use_mamba_kernels=False) with bf16 autocast, AdamW and a
     cosine schedule, loss on the assistant part only, for --steps steps or until
     --time-budget seconds have passed,
  4. saves the weights in bf16 (save_pretrained, 15 MB shards) with config.json and
     generation_config.json (eos [2, 11]),
  5. evaluates the bf16 model with greedy decoding on the held-out problems (reasoning on
     and off), writes outputs.jsonl and eval.json (score.py's exact match per task).

usage: train.py --out DIR [--seed N] [--steps N|auto] [--batch N] [--lr X] [--time-budget S] [--smoke] [--no-eval]
       train.py --eval-only CKPT --out DIR
DIR gets the checkpoint files, train_log.txt, eval.json, outputs.jsonl, heldout.jsonl.
"""
import argparse
import hashlib
import json
import math
import os
import random
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_data  # noqa: E402
import score as scorer  # noqa: E402
import tokenizer_spec as ts  # noqa: E402

PATTERN = "M*-M*-M*-M*-"   # M = Mamba-2, * = attention, - = relu^2 MLP
MODEL_CONFIG = dict(
    hidden_size=384,
    intermediate_size=1536,
    mlp_hidden_act="relu2",
    num_attention_heads=6,
    num_key_value_heads=2,
    head_dim=64,
    mamba_num_heads=12,
    mamba_head_dim=64,
    n_groups=2,
    ssm_state_size=64,
    conv_kernel=4,
    chunk_size=64,
    expand=2,
    mamba_hidden_act="silu",
    use_conv_bias=True,
    use_bias=False,
    mamba_proj_bias=False,
    mlp_bias=False,
    attention_bias=False,
    layer_norm_epsilon=1e-5,
    tie_word_embeddings=False,
    max_position_embeddings=4096,
    bos_token_id=1,
    eos_token_id=2,
    pad_token_id=0,
    use_mamba_kernels=False,
    residual_in_fp32=False,
    initializer_range=0.02,
)
EOS_IDS = [2, 11]          # </s>, <|im_end|>
IM_END_ID = 11

LOG = None


def log(*a):
    s = " ".join(str(x) for x in a)
    print(s, flush=True)
    if LOG:
        LOG.write(s + "\n")
        LOG.flush()


# --------------------------------------------------------------------------- tokenizer

SPECIAL_RE = re.compile("|".join(re.escape(t) for t in ts.SPECIAL_TOKENS))


def train_tokenizer(texts, out_dir, vocab_size):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(ignore_merges=False))
    # Training only: digits are isolated as well, so no merge ever joins two digits. The
    # saved tokenizer uses Llama 3's pre-tokenizer unchanged; without digit merges it still
    # splits every number into single digits.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(ts.LLAMA3_SPLIT_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.Split(Regex(r"\p{N}"), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                  special_tokens=list(ts.SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())

    def pieces():  # the chat markup is special tokens, never BPE material
        for t in texts:
            for p in SPECIAL_RE.split(t):
                if p:
                    yield p

    tok.train_from_iterator(pieces(), trainer=trainer)
    j = json.loads(tok.to_str())
    j["normalizer"] = None
    j["pre_tokenizer"] = ts.LLAMA3_PRE_TOKENIZER
    j["post_processor"] = ts.POST_PROCESSOR
    j["decoder"] = ts.DECODER
    j["model"]["ignore_merges"] = False
    j["model"]["merges"] = [m if isinstance(m, str) else " ".join(m) for m in j["model"]["merges"]]
    for t in j["added_tokens"]:
        t["special"], t["normalized"] = True, False
    path = os.path.join(out_dir, "tokenizer.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False, indent=1)
    final = Tokenizer.from_file(path)
    for i, t in enumerate(ts.SPECIAL_TOKENS):
        assert final.token_to_id(t) == i, (t, final.token_to_id(t))
    assert final.get_vocab_size() <= vocab_size
    digit_merges = [m for m in j["model"]["merges"] if re.search(r"\d.*\d", m)]
    assert not digit_merges, digit_merges[:5]
    return final


def choose_chat_template(held):
    """The repository's template if it renders our prompts exactly, else the fallback."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    cands = []
    if os.path.exists(ts.REPO_TEMPLATE):
        cands.append(("models/templates/nemotron-3-nano.jinja", open(ts.REPO_TEMPLATE, encoding="utf-8").read()))
    else:
        log("chat template: models/templates/nemotron-3-nano.jinja not found")
    cands.append(("fallback (tokenizer_spec.py)", ts.FALLBACK_CHAT_TEMPLATE))
    for name, text in cands:
        try:
            t = env.from_string(text)
            bad = 0
            for r in held:
                q = r["prompt"].split("<|im_start|>user\n", 1)[1].split("<|im_end|>", 1)[0]
                out = t.render(messages=[{"role": "user", "content": q}], add_generation_prompt=True,
                               enable_thinking=(r["mode"] == "think"), bos_token="<s>", eos_token="<|im_end|>")
                bad += out != r["prompt"]
        except Exception as e:  # noqa: BLE001
            log(f"chat template {name}: error {e!r}")
            continue
        log(f"chat template {name}: {bad} of {len(held)} held-out prompts render differently")
        if bad == 0:
            return name, text
    raise SystemExit("no chat template renders the training format")


# --------------------------------------------------------------------------- data

def encode_examples(tok, rows, max_len):
    prompts = [r["prompt"] for r in rows]
    fulls = [r["prompt"] + r["completion"] for r in rows]
    pe = tok.encode_batch(prompts, add_special_tokens=False)
    fe = tok.encode_batch(fulls, add_special_tokens=False)
    ids, starts, ends, keep, dropped, prefix_bad = [], [], [], [], 0, 0
    for k, (p, f) in enumerate(zip(pe, fe)):
        p, f = p.ids, f.ids
        if f[:len(p)] != p:
            prefix_bad += 1
            continue
        if len(f) > max_len:
            dropped += 1
            continue
        end = len(f) - 1 - f[::-1].index(IM_END_ID)   # loss up to and including <|im_end|>
        ids.append(f)
        keep.append(k)
        starts.append(len(p))
        ends.append(end + 1)
    n = len(ids)
    L = max(len(x) for x in ids)
    arr = np.zeros((n, L), dtype=np.int64)
    lens = np.zeros(n, dtype=np.int64)
    for i, x in enumerate(ids):
        arr[i, :len(x)] = x
        lens[i] = len(x)
    return arr, lens, np.array(starts), np.array(ends), keep, dropped, prefix_bad


def batch_order(rng, lens, batch):
    """Shuffle, then sort by length inside windows of 64 batches (less padding), shuffle batches."""
    idx = rng.permutation(len(lens))
    win = batch * 64
    batches = []
    for s in range(0, len(idx), win):
        w = idx[s:s + win]
        w = w[np.argsort(lens[w], kind="stable")]
        batches += [w[i:i + batch] for i in range(0, len(w) - batch + 1, batch)]
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


# --------------------------------------------------------------------------- eval

GEN_MODE = "hf-generate"


@torch.no_grad()
def greedy_nocache(model, x, m, max_new):
    """Reference greedy loop: full forward pass over the whole sequence for every new token."""
    done = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    eos = torch.tensor(EOS_IDS, device=x.device)
    for _ in range(max_new):
        nxt = model(input_ids=x, attention_mask=m, use_cache=False).logits[:, -1].argmax(-1)
        nxt = torch.where(done, torch.zeros_like(nxt), nxt)
        x = torch.cat([x, nxt[:, None]], 1)
        m = torch.cat([m, (~done).long()[:, None]], 1)
        done |= torch.isin(nxt, eos)
        if bool(done.all()):
            break
    return x


@torch.no_grad()
def generate_batch(model, x, m, max_new):
    global GEN_MODE
    if GEN_MODE == "hf-generate":
        try:
            return model.generate(input_ids=x, attention_mask=m, do_sample=False, max_new_tokens=max_new,
                                  eos_token_id=EOS_IDS, pad_token_id=0)
        except Exception as e:  # noqa: BLE001
            log(f"model.generate failed ({e!r}); using the no-cache greedy loop")
            GEN_MODE = "no-cache loop"
    return greedy_nocache(model, x, m, max_new)


@torch.no_grad()
def generate_all(model, tok, held, batch, max_new, deadline=None, verbose=False):
    """Greedy continuations for every held-out prompt (left-padded batches, HF generate)."""
    dev = next(model.parameters()).device
    enc = tok.encode_batch([r["prompt"] for r in held], add_special_tokens=False)
    outs = {}
    for mode in ("think", "nothink"):
        idx = [i for i, r in enumerate(held) if r["mode"] == mode]
        idx.sort(key=lambda i: len(enc[i].ids))
        for s in range(0, len(idx), batch):
            if deadline and time.time() > deadline:
                log(f"deadline reached: {len(idx) - s} {mode} prompts not evaluated")
                break
            t0 = time.time()
            chunk = idx[s:s + batch]
            L = max(len(enc[i].ids) for i in chunk)
            x = torch.zeros((len(chunk), L), dtype=torch.long)
            m = torch.zeros((len(chunk), L), dtype=torch.long)
            for j, i in enumerate(chunk):
                t = enc[i].ids
                x[j, L - len(t):] = torch.tensor(t)
                m[j, L - len(t):] = 1
            y = generate_batch(model, x.to(dev), m.to(dev), max_new[mode])
            for j, i in enumerate(chunk):
                new = y[j, L:].tolist()
                for k, t in enumerate(new):
                    if t in EOS_IDS:
                        new = new[:k + 1]
                        break
                outs[held[i]["id"]] = tok.decode(new, skip_special_tokens=False)
            if verbose:
                log(f"  eval batch {mode} {s}-{s + len(chunk)}: {y.shape[1] - L} new tokens in {time.time() - t0:.1f}s")
    return outs


# --------------------------------------------------------------------------- main

def pack(src, dst):
    """Shards as they are, train_log.txt and eval.json for a quick look, the rest in one tar.gz
    (what comes back from the GPU machine is limited to 8 files)."""
    import shutil
    import tarfile
    os.makedirs(dst, exist_ok=True)
    names = sorted(os.listdir(src))
    for n in names:
        if n.endswith(".safetensors") or n in ("train_log.txt", "eval.json"):
            shutil.copy(os.path.join(src, n), os.path.join(dst, n))
    with tarfile.open(os.path.join(dst, "demo-model.tar.gz"), "w:gz") as t:
        for n in names:
            if not n.endswith(".safetensors"):
                t.add(os.path.join(src, n), arcname=n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--train-examples", type=int, default=200000)
    ap.add_argument("--tokenizer-examples", type=int, default=60000)
    ap.add_argument("--heldout-per-task", type=int, default=250)
    ap.add_argument("--vocab", type=int, default=2048, help="BPE vocabulary size to aim for (the model uses "
                    "the size reached)")
    ap.add_argument("--steps", default="auto", help="optimizer steps, or 'auto': measure the step rate over "
                    "steps 50-150 and fit the cosine schedule into --time-budget (the count is logged; pass it "
                    "back as --steps N to repeat the run)")
    ap.add_argument("--batch", type=int, default=96)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-ratio", type=float, default=0.05)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--time-budget", type=float, default=330.0, help="seconds of training before stopping")
    ap.add_argument("--deadline", type=float, default=560.0, help="seconds after start after which no further "
                    "evaluation batch is started (its problems then count as missing)")
    ap.add_argument("--pack", help="folder that receives the shards and a tar.gz of everything else "
                    "(done after saving and again after the evaluation)")
    ap.add_argument("--max-len", type=int, default=384)
    ap.add_argument("--eval-batch", type=int, default=512)
    ap.add_argument("--eval-limit", type=int, default=0, help="problems per task and mode to evaluate (0: all)")
    ap.add_argument("--smoke", action="store_true", help="small data, few steps, short eval")
    ap.add_argument("--no-eval", action="store_true", help="stop after saving the checkpoint")
    ap.add_argument("--eval-only", metavar="CKPT", help="only evaluate the checkpoint folder CKPT (written by "
                    "this script) and write eval.json, outputs.jsonl, eval_log.txt, heldout.jsonl to --out")
    a = ap.parse_args()
    if a.smoke:
        a.train_examples, a.tokenizer_examples = 20000, 20000
        a.steps, a.warmup, a.time_budget = "auto", 70, min(a.time_budget, 45)
        a.eval_limit = a.eval_limit or 16
    auto_steps = a.steps == "auto"
    a.steps = 10 ** 9 if auto_steps else int(a.steps)
    # with --steps auto the schedule's length is fixed at step 150 (lr is then still ~ the peak)

    if a.eval_only:
        return eval_only(a)
    global LOG, GEN_MODE
    os.makedirs(a.out, exist_ok=True)
    LOG = open(os.path.join(a.out, "train_log.txt"), "w")
    t_start = time.time()
    log("args:", json.dumps(vars(a)))
    log(f"torch {torch.__version__}, cuda {torch.cuda.is_available()}, "
        f"device {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu'}")
    import tokenizers
    import transformers
    log(f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}")

    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    torch.cuda.manual_seed_all(a.seed)

    # 1. data
    held, keys = gen_data.heldout_set(a.seed, a.heldout_per_task)
    h_sha = gen_data.write_jsonl(os.path.join(a.out, "heldout.jsonl"), held)
    train, skipped = gen_data.train_set(a.seed, a.train_examples, keys)
    t_sha = hashlib.sha256("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in train).encode()).hexdigest()
    log(f"train set sha256 {t_sha} (same as gen_data.py --train {a.train_examples} writes)")
    log(f"data: {len(train)} training chats ({skipped} held-out draws dropped), {len(held)} held-out prompts "
        f"(sha256 {h_sha}) [{time.time() - t_start:.1f}s]")

    # 2. tokenizer + chat template
    t0 = time.time()
    tok = train_tokenizer([r["prompt"] + r["completion"] for r in train[:a.tokenizer_examples]], a.out, a.vocab)
    log(f"tokenizer: {tok.get_vocab_size()} ids, trained on {min(len(train), a.tokenizer_examples)} chats "
        f"in {time.time() - t0:.1f}s")
    if a.smoke:
        again = train_tokenizer([r["prompt"] + r["completion"] for r in train[:a.tokenizer_examples]], "/tmp", a.vocab)
        log("tokenizer retrained from the same text is identical:", again.to_str() == tok.to_str())
    tname, ttext = choose_chat_template(held)
    with open(os.path.join(a.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(ts.tokenizer_config(ttext), f, ensure_ascii=False, indent=1)
    log(f"chat template used: {tname}")
    sample = "Line up: 4857 + 0396\nSpell \"strawberry\": s t r a w b e r r y"
    e = tok.encode(sample, add_special_tokens=False)
    log("sample tokens:", e.tokens)

    arr, lens, starts, ends, keep, dropped, prefix_bad = encode_examples(tok, train, a.max_len)
    log(f"encoded: {len(lens)} chats, tokens mean {lens.mean():.1f} max {lens.max()}, "
        f"assistant tokens mean {(ends - starts).mean():.1f}; dropped {dropped} too long, "
        f"{prefix_bad} with prompt not a token prefix")
    comp = {m: 0 for m in ("think", "nothink")}
    for r, s, e_ in zip((train[k] for k in keep), starts, ends):
        comp[r["mode"]] = max(comp[r["mode"]], int(e_ - s))
    log(f"longest assistant part (tokens): {comp}")

    # 3. model
    from transformers import GenerationConfig, NemotronHConfig, NemotronHForCausalLM
    kinds = {"M": "linear_attention", "*": "full_attention", "-": "mlp"}
    cfg = NemotronHConfig(layers_block_type=[kinds[c] for c in PATTERN], vocab_size=tok.get_vocab_size(),
                          **MODEL_CONFIG)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = NemotronHForCausalLM(cfg).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: pattern {PATTERN} ({getattr(cfg, 'hybrid_override_pattern', '?')}), {n_params:,} parameters")
    log("config:", json.dumps({k: v for k, v in cfg.to_dict().items() if not k.startswith("moe")}))
    model.generation_config = GenerationConfig(bos_token_id=1, eos_token_id=EOS_IDS, pad_token_id=0,
                                               do_sample=False)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8, fused=dev.type == "cuda")

    def lr_at(step):
        if step < a.warmup:
            return a.lr * (step + 1) / a.warmup
        p = min(1.0, (step - a.warmup) / max(1, a.steps - a.warmup))
        return a.lr * (a.min_lr_ratio + (1 - a.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * p)))

    rng = np.random.default_rng(a.seed)
    batches, bpos, epoch = batch_order(rng, lens, a.batch), 0, 0
    arr_t = torch.from_numpy(arr)
    pos = torch.arange(arr.shape[1])
    model.train()
    t_train = time.time()
    step, tok_seen, loss_acc, n_acc = 0, 0, 0.0, 0
    stopped_by = "steps"
    while step < a.steps:
        if time.time() - t_train > a.time_budget:
            stopped_by = "time budget"
            break
        if bpos == len(batches):
            batches, bpos, epoch = batch_order(rng, lens, a.batch), 0, epoch + 1
        b = batches[bpos]
        bpos += 1
        L = int(lens[b].max())
        x = arr_t[b, :L]
        st = torch.from_numpy(starts[b])[:, None]
        en = torch.from_numpy(ends[b])[:, None]
        # target at position t is token t+1; it counts when starts <= t+1 < ends
        tgt_pos = pos[1:L][None, :]
        mask = (tgt_pos >= st) & (tgt_pos < en)
        tgt = torch.where(mask, x[:, 1:], torch.full_like(x[:, 1:], -100))
        x, tgt = x.to(dev, non_blocking=True), tgt.to(dev, non_blocking=True)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16):
            logits = model(input_ids=x, use_cache=False).logits
        loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                               ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step == 50:
            t50 = time.time()
        if auto_steps and step == 150:
            rate = 100 / (time.time() - t50)
            a.steps = 150 + int(rate * (a.time_budget - (time.time() - t_train)) * 0.98)
            log(f"auto steps: {rate:.2f} step/s over steps 50-150 -> --steps {a.steps}")
        tok_seen += int(mask.sum())
        loss_acc += loss.item() if step % 10 == 0 or step <= 3 else 0.0
        n_acc += 1 if step % 10 == 0 or step <= 3 else 0
        if step % 50 == 0 or step <= 3 or step == a.steps:
            el = time.time() - t_train
            log(f"step {step:5d} epoch {epoch} loss {loss_acc / max(1, n_acc):.4f} gnorm {float(gn):.2f} "
                f"lr {lr_at(step - 1):.2e} len {L} | {el:.0f}s, {step / el:.2f} step/s, "
                f"{tok_seen / el / 1000:.0f}k loss-tok/s")
            loss_acc, n_acc = 0.0, 0
    train_s = time.time() - t_train
    log(f"training stopped by {stopped_by}: {step} steps in {train_s:.1f}s, "
        f"{step * a.batch} chats, {tok_seen:,} assistant tokens")

    # 4. save bf16
    model.eval()
    model.to(torch.bfloat16)
    model.save_pretrained(a.out, max_shard_size="15MB")
    with open(os.path.join(a.out, "config.json")) as f:
        saved = json.load(f)
    if a.pack:
        pack(a.out, a.pack)
    log(f"saved: layers_block_type {saved.get('layers_block_type')}, use_mamba_kernels "
        f"{saved.get('use_mamba_kernels')}, dtype {saved.get('dtype', saved.get('torch_dtype'))}")

    # check the saved folder loads and its tokenizer renders our prompts
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
        hf_tok = AutoTokenizer.from_pretrained(a.out)
        bad = 0
        for r in held[::7]:
            q = r["prompt"].split("<|im_start|>user\n", 1)[1].split("<|im_end|>", 1)[0]
            p = hf_tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False,
                                           add_generation_prompt=True, enable_thinking=(r["mode"] == "think"))
            ids = hf_tok(p, add_special_tokens=False)["input_ids"]
            bad += p != r["prompt"] or list(ids) != tok.encode(r["prompt"], add_special_tokens=False).ids
        log(f"AutoTokenizer({type(hf_tok).__name__}) + apply_chat_template: {bad} of {len(held[::7])} prompts differ")
        re_model = AutoModelForCausalLM.from_pretrained(a.out, dtype=torch.bfloat16).to(dev).eval()
        probe = torch.tensor([tok.encode(held[0]["prompt"], add_special_tokens=False).ids], device=dev)
        with torch.no_grad():
            d = (re_model(input_ids=probe).logits.float() - model(input_ids=probe).logits.float()).abs().max()
        log(f"reloaded checkpoint: {type(re_model).__name__}, max |logit diff| vs in-memory model {float(d):.3g}")
        del re_model
    except Exception as e:  # noqa: BLE001
        log(f"reload check failed: {e!r}")

    meta = {"params": n_params, "pattern": PATTERN, "train_steps": step, "train_seconds": round(train_s, 1),
            "max_new_tokens": {"think": comp["think"] + 48, "nothink": comp["nothink"] + 16},
            "heldout_sha256": h_sha, "train_sha256": t_sha, "args": vars(a)}
    with open(os.path.join(a.out, "train_meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    if a.pack:
        pack(a.out, a.pack)
    if not a.no_eval:
        evaluate(model, tok, held, a, a.out, meta, t_start)
        if a.pack:
            pack(a.out, a.pack)
    log(f"total wall {time.time() - t_start:.1f}s")


def eval_only(a):
    """Evaluate a saved checkpoint folder (bf16) as a user would load it."""
    global LOG
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM
    t_start = time.time()
    os.makedirs(a.out, exist_ok=True)
    LOG = open(os.path.join(a.out, "eval_log.txt"), "w")
    log("eval-only args:", json.dumps(vars(a)))
    with open(os.path.join(a.eval_only, "train_meta.json")) as f:
        meta = json.load(f)
    held, _ = gen_data.heldout_set(meta["args"]["seed"], meta["args"]["heldout_per_task"])
    h_sha = gen_data.write_jsonl(os.path.join(a.out, "heldout.jsonl"), held)
    assert h_sha == meta["heldout_sha256"], "held-out set differs from the one recorded at training"
    tok = Tokenizer.from_file(os.path.join(a.eval_only, "tokenizer.json"))
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = AutoModelForCausalLM.from_pretrained(a.eval_only, dtype=torch.bfloat16).to(dev).eval()
    log(f"loaded {a.eval_only}: {type(model).__name__}, {sum(p.numel() for p in model.parameters()):,} parameters, "
        f"dtype {next(model.parameters()).dtype}, use_mamba_kernels {model.config.use_mamba_kernels}")
    evaluate(model, tok, held, a, a.out, meta, t_start)
    log(f"total wall {time.time() - t_start:.1f}s")


def evaluate(model, tok, held, a, out_dir, meta, t_start):
    """Greedy bf16 generation on the held-out prompts; writes outputs.jsonl and eval.json."""
    global GEN_MODE
    import transformers
    model.eval()
    t0 = time.time()
    ev = held
    if a.eval_limit:
        cnt, ev = {}, []
        for r in held:
            k = (r["task"], r["mode"])
            if cnt.get(k, 0) < a.eval_limit:
                cnt[k] = cnt.get(k, 0) + 1
                ev.append(r)
    max_new = meta["max_new_tokens"]
    # cross-check: cached generate vs. the no-cache loop on 24 reasoning prompts (left padding)
    try:
        th = [r for r in ev if r["mode"] == "think"]
        sub = th[::max(1, len(th) // 24)][:24]
        o1 = generate_all(model, tok, sub, 64, max_new)
        keep, GEN_MODE = GEN_MODE, "no-cache loop"
        o2 = generate_all(model, tok, sub, 64, max_new)
        GEN_MODE = keep
        log(f"cached generate vs no-cache loop: {sum(o1[k] == o2[k] for k in o1)} of {len(o1)} outputs identical")
    except Exception as e:  # noqa: BLE001
        log(f"cross-check failed: {e!r}")
    t0 = time.time()
    outs = generate_all(model, tok, ev, a.eval_batch, max_new, deadline=t_start + a.deadline, verbose=True)
    eval_s = time.time() - t0
    with open(os.path.join(out_dir, "outputs.jsonl"), "w", encoding="utf-8") as f:
        for r in ev:
            if r["id"] in outs:
                f.write(json.dumps({"id": r["id"], "output": outs[r["id"]]}, ensure_ascii=False) + "\n")
    res = scorer.score(ev, outs)
    if res["missing"]:
        log(f"{res['missing']} problems have no output (deadline); they count as wrong")
    for k, v in res["accuracy"].items():
        log(f"  {k:18s} {v * 100:6.1f}%" + (f"  ({res['correct'][k]}/{res['total'][k]})" if k in res["correct"] else ""))
    samples = []
    seen = {}
    for r in ev:
        k = (r["task"], r["mode"])
        if seen.get(k, 0) < 2:
            seen[k] = seen.get(k, 0) + 1
            samples.append({"id": r["id"], "prompt": r["prompt"], "expected": r["expected"],
                            "output": outs.get(r["id"]),
                            "correct": r["id"] in outs and gen_data.extract_answer(outs[r["id"]]) == r["expected"]})
    result = {
        "dtype": "bfloat16", "engine": f"transformers {transformers.__version__} (torch path, use_mamba_kernels=False)",
        "decoding": f"greedy ({GEN_MODE}), left-padded batches, stop at ids [2, 11]", "max_new_tokens": max_new,
        "problems_per_task_and_mode": a.eval_limit or meta["args"]["heldout_per_task"],
        **res, "eval_seconds": round(eval_s, 1), "eval_args": vars(a), "training": meta, "samples": samples,
    }
    with open(os.path.join(out_dir, "eval.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
    log(f"eval: {len(ev)} prompts in {eval_s:.1f}s")


if __name__ == "__main__":
    main()
