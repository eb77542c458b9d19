// api.test.mjs - the JS API in Node (inline engine) on the engine test double: both API shapes, interrupt, sessions, cache, errors.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from '../e2e/lib/suite.mjs';
import { REPO } from '../e2e/lib/config.mjs';
import { startServer } from '../e2e/lib/server.mjs';
import { fakeModelBytes, writeFakeModel } from '../e2e/lib/fake-model.mjs';
import { CreateEngine, TextStreamer, deleteCachedModel, env, listCachedModels, pipeline } from '../../web/hearth.js';

const t = suite('js-api');
const FAKE_WASM = path.join(REPO, 'build/wasm-fake');

async function collect(iter) {
  const chunks = [];
  for await (const c of iter) chunks.push(c);
  return chunks;
}

async function errorOf(p) {
  try { await p; return null; } catch (e) { return e; }
}

await t.run(async () => {
  if (!t.check('engine test double is built (tools/wasm/build.sh --fake)', fs.existsSync(path.join(FAKE_WASM, 'hearth-st.wasm')))) return;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-js-'));
  t.onCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
  env.wasmBase = new URL(`file://${FAKE_WASM}/`).href;
  env.cacheDir = path.join(tmp, 'cache');
  const model = path.join(tmp, 'fake.gguf');
  writeFakeModel(model, 1 << 20, 0);
  const slow = path.join(tmp, 'slow.gguf');
  writeFakeModel(slow, 1 << 20, 15);

  // Transformers.js shape
  const gen = await pipeline('text-generation', model, { device: 'auto' });
  let streamed = '';
  const out = await gen([{ role: 'user', content: 'hi' }], { max_new_tokens: 200, streamer: new TextStreamer(null, { callback_function: (x) => { streamed += x; } }) });
  const reply = out[0].generated_text.at(-1);
  t.check('pipeline returns the conversation with the reply', out[0].generated_text.length === 2 && reply.role === 'assistant' && reply.content.includes('fake engine'), JSON.stringify(out));
  t.check('streamer saw the same text', streamed === reply.content);
  const raw = await gen('Once upon a time', { max_new_tokens: 5 });
  t.check('a string prompt returns prompt + continuation', raw[0].generated_text.startsWith('Once upon a time') && raw[0].generated_text.length > 16, raw[0].generated_text);

  // OpenAI / WebLLM shape
  const engine = gen.engine;
  const chunks = await collect(await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], stream: true, enable_thinking: false }));
  const last = chunks.at(-1);
  t.check('stream: chunks are chat.completion.chunk', chunks.every((c) => c.object === 'chat.completion.chunk'));
  t.check('stream: the first chunk has the assistant role', chunks[0].choices[0].delta.role === 'assistant');
  t.check('stream: the last chunk has finish_reason stop and usage', last.choices[0].finish_reason === 'stop' && last.usage && last.usage.completion_tokens > 0, JSON.stringify(last));
  t.check('stream: usage has prefill and decode tokens/s', last.usage.extra.prefill_tokens_per_s > 0 && last.usage.extra.decode_tokens_per_s > 0);
  const whole = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], enable_thinking: false });
  t.check('non-stream: one chat.completion with the same text', whole.object === 'chat.completion' && whole.choices[0].message.content === chunks.map((c) => c.choices[0].delta.content || '').join(''));
  t.check('reasoning off: no reasoning_content', !chunks.some((c) => 'reasoning_content' in c.choices[0].delta) && !('reasoning_content' in whole.choices[0].message));
  // reasoning on: the test double's template opens <think>, its reply closes it; the API gives the two parts apart
  const rChunks = await collect(await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], stream: true, enable_thinking: true }));
  const rText = rChunks.map((c) => c.choices[0].delta.reasoning_content || '').join(''), aText = rChunks.map((c) => c.choices[0].delta.content || '').join('');
  t.check('stream: reasoning_content carries the reasoning without tags', rText === 'The user greets me. I should answer briefly.', JSON.stringify(rText));
  t.check('stream: content is the answer alone', aText.startsWith('Hello! This is the **fake engine**') && !aText.includes('think>'), JSON.stringify(aText));
  t.check('stream: the first chunk has the role, reasoning comes before the answer', rChunks[0].choices[0].delta.role === 'assistant' && 'reasoning_content' in rChunks[0].choices[0].delta);
  const rWhole = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], enable_thinking: true });
  t.check('non-stream: message.reasoning_content and content as streamed', rWhole.choices[0].message.reasoning_content === rText && rWhole.choices[0].message.content === aText, JSON.stringify(rWhole.choices[0].message));
  const short = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, enable_thinking: false });
  t.check('max_tokens ends with finish_reason length', short.choices[0].finish_reason === 'length' && short.usage.completion_tokens === 3, JSON.stringify(short.usage));
  const cont = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: short.choices[0].message.content }, { role: 'user', content: 'more' }], max_tokens: 3, enable_thinking: false });
  t.check('a continued conversation reuses the held tokens', cont.usage.extra.reused_tokens > 0, JSON.stringify(cont.usage));
  await gen.dispose();

  // interrupt: at most one more token after interrupt() returns
  const e2 = await CreateEngine(slow);
  const it = await e2.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], stream: true });
  let n = 0, after = 0, stopped = false, finish = null;
  for await (const c of it) {
    if (c.choices[0].finish_reason) finish = c.choices[0].finish_reason;
    else if (stopped) after++;
    if (++n === 3) { await e2.interrupt(); stopped = true; }
  }
  t.check('interrupt ends the generation with finish_reason abort', finish === 'abort', String(finish));
  t.check('interrupt stops within one token', after <= 1, `${after} tokens after interrupt`);
  const busy = e2.chat.completions.create({ messages: [{ role: 'user', content: 'a' }] });
  const busyErr = await errorOf(e2.chat.completions.create({ messages: [{ role: 'user', content: 'b' }] }));
  t.check('a second generation while one runs is refused as busy', busyErr && busyErr.code === 'busy', String(busyErr));
  await busy;

  // sessions: the continuation after save + restore in a new engine equals the one without
  const turn1 = [{ role: 'user', content: 'hello' }];
  const r1 = await e2.chat.completions.create({ messages: turn1, enable_thinking: false });
  await e2.saveSession('t1', { note: 'x' });
  const turn2 = [...turn1, { role: 'assistant', content: r1.choices[0].message.content }, { role: 'user', content: 'and then?' }];
  const direct = await e2.chat.completions.create({ messages: turn2, enable_thinking: false });
  await e2.dispose();
  const e3 = await CreateEngine(slow);
  const meta = await e3.restoreSession('t1');
  t.check('restoreSession returns the saved meta', meta && meta.note === 'x', JSON.stringify(meta));
  const again = await e3.chat.completions.create({ messages: turn2, enable_thinking: false });
  t.check('continuation after restore equals the one without', again.choices[0].message.content === direct.choices[0].message.content);
  t.check('the restored state is reused, not re-evaluated', again.usage.extra.reused_tokens > 0 && again.usage.extra.reused_tokens === direct.usage.extra.reused_tokens, `${again.usage.extra.reused_tokens} vs ${direct.usage.extra.reused_tokens}`);
  t.check('restoring an unknown key gives null', (await e3.restoreSession('nothing')) === null);
  await e3.dispose();

  // bad input
  const notGguf = path.join(tmp, 'page.gguf');
  fs.writeFileSync(notGguf, '<!doctype html><title>404</title>');
  const truncated = path.join(tmp, 'trunc.gguf');
  fs.writeFileSync(truncated, fakeModelBytes(1 << 16).subarray(0, 1000));
  for (const [what, src, code] of [['not a GGUF file', notGguf, 'not-gguf'], ['a truncated file', truncated, 'format'], ['a missing file', path.join(tmp, 'none.gguf'), 'io']]) {
    const e = await errorOf(CreateEngine(src));
    t.check(`${what} fails with code ${code}`, e && e.code === code && e.message.length > 10, e ? `${e.code}: ${e.message}` : 'no error');
  }
  const dev = await errorOf(CreateEngine(model, { device: 'tpu' }));
  t.check('an unknown device is refused', dev && dev.code === 'unsupported-device');
  const noGpu = await CreateEngine(model, { device: 'webgpu' }); // Node here has no navigator.gpu
  t.check('device webgpu without WebGPU loads on the CPU and says why', noGpu.model.backend.device === 'wasm' && /WebGPU|planner/.test(noGpu.model.backend.reason || ''), JSON.stringify(noGpu.model.backend));
  await noGpu.dispose();

  // download into the cache: progress, resume after a dropped connection, hash, second load from cache
  const body = fakeModelBytes(3 << 20);
  const sha = crypto.createHash('sha256').update(body).digest('hex');
  const srv = await startServer(REPO, { files: { '/m.gguf': body }, faults: { '/m.gguf': { dropAfter: 1 << 20, times: 1 } } });
  t.onCleanup(srv.close);
  const progress = [];
  const e4 = await CreateEngine(`${srv.origin}/m.gguf`, { sha256: sha, progress_callback: (p) => progress.push(p) });
  const dl = progress.filter((p) => p.status === 'progress' && p.phase === 'download');
  t.check('download progress advances to the total', dl.length >= 2 && dl.at(-1).loaded === body.length && dl.every((p, i) => i === 0 || p.loaded >= dl[i - 1].loaded));
  t.check('a dropped download resumes with a Range request', srv.requests('/m.gguf').some((r) => r.range && r.range !== 'bytes=0-'), JSON.stringify(srv.requests('/m.gguf')));
  t.check('the hash was verified', progress.some((p) => p.phase === 'verify'));
  const entries = await e4.listCachedModels();
  const entry = entries.find((x) => x.url === `${srv.origin}/m.gguf`);
  t.check('the model is listed in the cache, complete', entry && entry.complete && entry.size === body.length, JSON.stringify(entries));
  const cached = fs.readFileSync(path.join(env.cacheDir, 'models', entry.key));
  t.check('the cached bytes are right', crypto.createHash('sha256').update(cached).digest('hex') === sha);
  await e4.dispose();
  const before = srv.requests('/m.gguf').length;
  const e5 = await CreateEngine(`${srv.origin}/m.gguf`);
  t.check('a second load reads the cache, not the network', srv.requests('/m.gguf').length === before && e5.model.fromCache);
  await e5.dispose();
  const e404 = await errorOf(CreateEngine(`${srv.origin}/missing.gguf`));
  t.check('a 404 URL fails with code http and says 404', e404 && e404.code === 'http' && /404/.test(e404.message), String(e404 && e404.message));
  srv.files['/other.gguf'] = body;
  const bad = await errorOf(CreateEngine(`${srv.origin}/other.gguf`, { sha256: '0'.repeat(64) }));
  t.check('a wrong sha256 fails with code hash-mismatch', bad && bad.code === 'hash-mismatch', String(bad && bad.message));
  t.check('deleteCachedModel removes it', (await deleteCachedModel(entry.key)) === true && !(await listCachedModels()).some((x) => x.key === entry.key));
});
