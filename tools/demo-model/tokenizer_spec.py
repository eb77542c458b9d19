"""Fixed parts of the demo model's tokenizer (stdlib only, shared by train.py and the local checks).

- Special tokens at the ids Nemotron-3-Nano uses (0..13).
- The pre-tokenizer object is the one in Llama 3's tokenizer.json (a Sequence of a Split with
  Llama 3's regex, behaviour Isolated, and ByteLevel with use_regex false), which hearth's C
  tokenizer implements; digits are grouped 1-3 by that regex, but the BPE is trained so that no
  merge joins two digits, so every digit is its own token.
- A fallback chat template (ChatML with <think>, MODEL-nemotron-h.md section 6.2), used only
  when the repository's models/templates/nemotron-3-nano.jinja is missing or renders the
  training prompts differently.
"""
import os

SPECIAL_TOKENS = (["<unk>", "<s>", "</s>"] + [f"<SPECIAL_{i}>" for i in range(3, 10)]
                  + ["<|im_start|>", "<|im_end|>", "<think>", "</think>"])
assert len(SPECIAL_TOKENS) == 14 and SPECIAL_TOKENS[10] == "<|im_start|>" and SPECIAL_TOKENS[13] == "</think>"

LLAMA3_SPLIT_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                      r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

LLAMA3_PRE_TOKENIZER = {
    "type": "Sequence",
    "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": LLAMA3_SPLIT_REGEX}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
    ],
}
DECODER = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
POST_PROCESSOR = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True}

REPO_TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                             "models", "templates", "nemotron-3-nano.jinja")

# ChatML with a <think> block. System turn always present (empty if none); earlier assistant
# turns keep only their final text behind an empty <think></think>; the generation prompt
# opens "<think>\n" (enable_thinking, default true) or pre-fills "<think></think>".
FALLBACK_CHAT_TEMPLATE = """\
{%- set thinking = enable_thinking if enable_thinking is defined else true -%}
{%- set truncate = truncate_history_thinking if truncate_history_thinking is defined else true -%}
{%- set ns = namespace(system='', last_user=-1) -%}
{%- for m in messages -%}
{%- if m['role'] == 'user' -%}{%- set ns.last_user = loop.index0 -%}{%- endif -%}
{%- endfor -%}
{%- if messages and messages[0]['role'] == 'system' -%}{%- set ns.system = messages[0]['content'] -%}{%- endif -%}
{{- '<|im_start|>system\\n' + ns.system + '<|im_end|>\\n' -}}
{%- for m in messages -%}
{%- if m['role'] == 'user' -%}
{{- '<|im_start|>user\\n' + m['content'] + '<|im_end|>\\n' -}}
{%- elif m['role'] == 'assistant' -%}
{%- set content = m['content'] if m['content'] is string else '' -%}
{%- set reasoning = m['reasoning_content'] if m['reasoning_content'] is defined and m['reasoning_content'] is string else '' -%}
{%- if '</think>' in content -%}
{%- set reasoning = content.split('</think>')[0].replace('<think>', '').strip() -%}
{%- set content = content.split('</think>')[-1].lstrip() -%}
{%- endif -%}
{%- if reasoning and not (truncate and loop.index0 < ns.last_user) -%}
{{- '<|im_start|>assistant\\n<think>\\n' + reasoning.strip() + '\\n</think>\\n' + content + '<|im_end|>\\n' -}}
{%- else -%}
{{- '<|im_start|>assistant\\n<think></think>' + content + '<|im_end|>\\n' -}}
{%- endif -%}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- '<|im_start|>assistant\\n' + ('<think>\\n' if thinking else '<think></think>') -}}
{%- endif -%}
"""


def tokenizer_config(chat_template, model_max_length=4096):
    """tokenizer_config.json contents."""
    return {
        "add_bos_token": False,
        "add_eos_token": False,
        "added_tokens_decoder": {str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                          "single_word": False, "special": True}
                                 for i, t in enumerate(SPECIAL_TOKENS)},
        "bos_token": "<s>",
        "eos_token": "<|im_end|>",
        "unk_token": "<unk>",
        "pad_token": "<unk>",
        "chat_template": chat_template,
        "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
