// demo.test.mjs - the bundled demo model answers held-out problems exactly as recorded for q8_0, problem by problem.
//
// tools/demo-model/results/hearth-q8_0.jsonl holds hearth's greedy outputs on 200 held-out problems per
// task and mode (made with tools/demo-model/eval_gpu_machine.sh, AVX2 kernels). Here the first 4 of
// each task and mode run again through `hearth run --raw` and must be right or wrong on the same
// problems. The AVX2 kernels are asked for so that rounding matches the recording.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const hearth = process.env.HEARTH_BIN ?? 'build/hearth';
const model = 'models/demo-q8_0.gguf';
const PER = 4;
let passed = 0, failed = 0;
function check(ok, msg) {
  if (ok) passed++;
  else { failed++; console.error('FAIL ' + msg); }
}
const jsonl = (p) => readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
// the answer: after the last </think> (all of it without reasoning), cut at <|im_end|> or </s>
function answer(out) {
  if (out.includes('</think>')) out = out.slice(out.lastIndexOf('</think>') + 8);
  for (const stop of ['<|im_end|>', '</s>']) if (out.includes(stop)) out = out.slice(0, out.indexOf(stop));
  return out.trim();
}

const recorded = new Map(jsonl('tools/demo-model/results/hearth-q8_0.jsonl').map((r) => [r.id, r.output]));
const seen = new Map();
const rows = jsonl('tools/demo-model/results/heldout-200.jsonl').filter((r) => {
  const k = `${r.task}/${r.mode}`;
  seen.set(k, (seen.get(k) ?? 0) + 1);
  return seen.get(k) <= PER;
});
const maxNew = { think: 215, nothink: 39 };
let right = 0, wasRight = 0;
for (const r of rows) {
  const p = spawnSync(hearth, ['run', '-m', model, '--raw', '-p', r.prompt, '--temp', '0', '-n', String(maxNew[r.mode]), '-t', '1'],
    { encoding: 'utf8', env: { ...process.env, HEARTH_KERNELS: 'avx2' } });
  check(p.status === 0, `${r.id}: hearth exited ${p.status}: ${p.stderr}`);
  const out = p.stdout.replace(/\n$/, '');
  const ok = answer(out) === r.expected, before = answer(recorded.get(r.id)) === r.expected;
  right += ok;
  wasRight += before;
  check(ok === before, `${r.id}: ${ok ? 'right' : 'wrong'} now, ${before ? 'right' : 'wrong'} when recorded ('${answer(out)}' vs expected '${r.expected}')`);
  if (r.mode === 'think') check(out.includes('</think>'), `${r.id}: reasoning on, but no reasoning block in the reply`);
  else check(!out.includes('<think>') && !out.includes('</think>'), `${r.id}: reasoning off, but the reply has a reasoning block`);
}
console.log(`demo q8_0: ${right}/${rows.length} right (recorded: ${wasRight}/${rows.length})`);
console.log(`## demo: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
