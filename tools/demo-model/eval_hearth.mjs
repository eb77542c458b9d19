// eval_hearth.mjs - greedy answers of a hearth GGUF on the held-out problems, written as score.py's OUTPUTS.jsonl.
//
// usage: node tools/demo-model/eval_hearth.mjs MODEL.gguf OUT.jsonl [--per-task N] [--jobs J]
// Runs `build/hearth run --raw` on the first N problems of every task and mode (default 200),
// J at a time (default 2), with the max_new_tokens train.py used (think 215, nothink 39).
// Also writes OUT.heldout.jsonl, the problems it ran, to score with:
//   python3 tools/demo-model/score.py OUT.heldout.jsonl OUT.jsonl
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const [model, out, ...rest] = process.argv.slice(2);
if (!model || !out) {
  console.error('usage: eval_hearth.mjs MODEL.gguf OUT.jsonl [--per-task N] [--jobs J]');
  process.exit(2);
}
const opt = (name, dflt) => {
  const i = rest.indexOf(name);
  return i >= 0 ? Number(rest[i + 1]) : dflt;
};
const perTask = opt('--per-task', 200), jobs = opt('--jobs', 2);
const heldout = new URL('./checkpoint/heldout.jsonl', import.meta.url);
const rows = readFileSync(heldout, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const seen = new Map();
const todo = rows.filter((r) => {
  const k = `${r.task}/${r.mode}`;
  seen.set(k, (seen.get(k) ?? 0) + 1);
  return seen.get(k) <= perTask;
});
const hearth = process.env.HEARTH_BIN ?? 'build/hearth';
const maxNew = { think: 215, nothink: 39 };

function runOne(r) {
  return new Promise((resolve, reject) => {
    const p = spawn(hearth, ['run', '-m', model, '--raw', '-p', r.prompt, '--temp', '0', '-n', String(maxNew[r.mode])]);
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => (code === 0 ? resolve(stdout.replace(/\n$/, '')) : reject(new Error(`${r.id}: ${stderr}`))));
  });
}

const results = new Array(todo.length);
let next = 0, done = 0;
const t0 = Date.now();
async function worker() {
  while (next < todo.length) {
    const i = next++;
    results[i] = { id: todo[i].id, output: await runOne(todo[i]) };
    if (++done % 100 === 0) console.error(`${done}/${todo.length} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
}
await Promise.all(Array.from({ length: jobs }, worker));
writeFileSync(out, results.map((r) => JSON.stringify(r)).join('\n') + '\n');
writeFileSync(out.replace(/\.jsonl$/, '') + '.heldout.jsonl', todo.map((r) => JSON.stringify(r)).join('\n') + '\n');
console.error(`wrote ${out}: ${results.length} outputs in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
