// serve_api.test.mjs - `hearth serve -m MODEL`: the OpenAI-style API gives `hearth run`'s greedy reply, whole and streamed, reasoning apart, clear errors, and survives a client that leaves mid-stream.
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { suite } from '../e2e/lib/suite.mjs';
import { HEARTH_BIN, REPO } from '../e2e/lib/config.mjs';

const t = suite('js-serve-api');
const MODEL = path.join(REPO, 'models/demo-q8_0.gguf');
const PROMPT = 'Where does my data go?';

// Starts `hearth serve` with args; resolves with its base URL (or null).
async function start(args) {
  const proc = spawn(HEARTH_BIN, ['serve', '--port', '0', '--quiet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.onCleanup(() => proc.kill('SIGTERM'));
  let out = '';
  const port = await new Promise((resolve) => {
    proc.stdout.on('data', (d) => { out += d; const m = /127\.0\.0\.1:(\d+)/.exec(out); if (m) resolve(+m[1]); });
    proc.on('exit', () => resolve(0));
    setTimeout(() => resolve(0), 10000);
  });
  return port ? `http://127.0.0.1:${port}` : null;
}

const post = (base, body) => fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

// The server-sent events of a streamed reply: the parsed chunks, and whether [DONE] ended them.
async function events(res) {
  const text = await res.text();
  const data = text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
  return { chunks: data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d)), done: data.at(-1) === '[DONE]' };
}

await t.run(async () => {
  const base = await start(['-m', MODEL]);
  if (!t.check('hearth serve -m starts and prints its address', base)) return;

  const models = await (await fetch(`${base}/v1/models`)).json();
  t.check('/v1/models lists the model by its file name', models.object === 'list' && models.data[0].id === 'demo-q8_0', JSON.stringify(models));

  // greedy, reasoning off: the same reply as `hearth run`
  const native = execFileSync(HEARTH_BIN, ['run', '-m', MODEL, '-p', PROMPT, '--temp', '0', '-n', '64', '--no-think'], { encoding: 'utf8' }).replace(/\n$/, '');
  const req = { messages: [{ role: 'user', content: PROMPT }], temperature: 0, max_tokens: 64, enable_thinking: false };
  const r = await post(base, req);
  const whole = await r.json();
  const msg = whole.choices?.[0]?.message;
  t.check('a whole reply is a chat.completion (200, JSON)', r.status === 200 && r.headers.get('content-type') === 'application/json' && whole.object === 'chat.completion', JSON.stringify(whole));
  t.check('its content is `hearth run`\'s greedy reply', msg?.content === native, `\n  api:    ${JSON.stringify(msg?.content)}\n  native: ${JSON.stringify(native)}`);
  t.check('reasoning off: no reasoning_content; finish_reason stop; usage counted', !('reasoning_content' in msg) && whole.choices[0].finish_reason === 'stop' && whole.usage.completion_tokens > 0 && whole.usage.total_tokens === whole.usage.prompt_tokens + whole.usage.completion_tokens, JSON.stringify(whole));

  const s = await post(base, { ...req, stream: true });
  const { chunks, done } = await events(s);
  const last = chunks.at(-1);
  t.check('streamed: text/event-stream of chat.completion.chunk, ended by [DONE]', s.headers.get('content-type') === 'text/event-stream' && done && chunks.every((c) => c.object === 'chat.completion.chunk'));
  t.check('streamed: the first chunk names the role', chunks[0].choices[0].delta.role === 'assistant');
  t.check('streamed: the pieces make the whole reply', chunks.map((c) => c.choices[0].delta.content || '').join('') === native);
  t.check('streamed: the last chunk has finish_reason and the same usage', last.choices[0].finish_reason === 'stop' && last.usage.completion_tokens === whole.usage.completion_tokens, JSON.stringify(last));

  // reasoning on (vLLM's chat_template_kwargs spelling): the thinking apart, without tags
  const think = await (await post(base, { messages: [{ role: 'user', content: PROMPT }], temperature: 0, max_tokens: 128, chat_template_kwargs: { enable_thinking: true } })).json();
  const tm = think.choices[0].message;
  t.check('reasoning on: reasoning_content and content, no tags in either', tm.reasoning_content?.length > 0 && tm.content.length > 0 && !/think>/.test(tm.reasoning_content + tm.content), JSON.stringify(tm));

  // seed: sampling from the whole, flattened distribution, the same seed draws the same reply (also
  // after a request with another seed in between), another seed another one
  const raw = {};
  const sampled = async (seed) => {
    const bytes = new Uint8Array(await (await post(base, { messages: [{ role: 'user', content: 'Tell me about hearth.' }], max_tokens: 24, temperature: 2, top_k: 0, top_p: 1, min_p: 0, seed })).arrayBuffer());
    raw[seed] = bytes;
    return JSON.parse(new TextDecoder().decode(bytes)).choices[0].message;
  };
  const s1 = await sampled(1), s2 = await sampled(2), s1again = await sampled(1);
  const txt = (m) => (m.reasoning_content ?? '') + '|' + m.content;
  t.check('seed: the same seed gives the same sampled reply, another seed another', txt(s1) === txt(s1again) && txt(s1) !== txt(s2), JSON.stringify([txt(s1), txt(s2), txt(s1again)]));
  // tokens sampled this freely can garble a character (seed 1 does with this model): the reply is
  // still valid UTF-8, the broken bytes sent as U+FFFD
  let valid = true;
  try { for (const b of Object.values(raw)) new TextDecoder('utf-8', { fatal: true }).decode(b); } catch { valid = false; }
  t.check('replies are valid UTF-8 even when sampling broke a character (sent as \\ufffd)', valid && new TextDecoder().decode(raw[1]).includes('\\ufffd'), new TextDecoder().decode(raw[1]));

  const short = await (await post(base, { ...req, max_tokens: 3 })).json();
  t.check('max_tokens: finish_reason length after that many tokens', short.choices[0].finish_reason === 'length' && short.usage.completion_tokens === 3, JSON.stringify(short));

  // errors: status, an OpenAI-shaped error with a message
  const err = async (res) => ({ status: res.status, e: (await res.json()).error });
  let x = await err(await post(base, '{bad'));
  t.check('bad JSON: 400 invalid_json with a message', x.status === 400 && x.e.code === 'invalid_json' && x.e.message.length > 0, JSON.stringify(x));
  x = await err(await post(base, { messages: [] }));
  t.check('no messages: 400 saying so', x.status === 400 && /messages/.test(x.e.message), JSON.stringify(x));
  x = await err(await post(base, { messages: [{ content: 'hi' }] }));
  t.check('a message without a role: 400', x.status === 400 && /role/.test(x.e.message), JSON.stringify(x));
  x = await err(await fetch(`${base}/v1/chat/completions`));
  t.check('GET /v1/chat/completions: 405', x.status === 405, JSON.stringify(x));
  x = await err(await post(base, 'x'.repeat(5 << 20)));
  t.check('a 5 MiB body: 413', x.status === 413, JSON.stringify(x));
  x = await err(await fetch(`${base}/v1/embeddings`, { method: 'POST', body: '{}' }));
  t.check('an unknown endpoint: 404 naming the ones there are', x.status === 404 && /chat\/completions/.test(x.e.message), JSON.stringify(x));
  x = await err(await post(base, { messages: [{ role: 'user', content: 'x '.repeat(6000) }] }));
  t.check('a prompt longer than the context: 400 context_length_exceeded', x.status === 400 && x.e.code === 'context_length_exceeded', JSON.stringify(x));

  // a client that leaves mid-stream frees the session for the next request
  const ac = new AbortController();
  const gone = await fetch(`${base}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'Tell me about hearth.' }], stream: true }), signal: ac.signal });
  const reader = gone.body.getReader();
  await reader.read();
  ac.abort();
  const after = await (await post(base, req)).json();
  t.check('after a client left mid-stream, the next request gets the same greedy reply', after.choices?.[0]?.message?.content === native, JSON.stringify(after));

  // without -m there is no API, and it says how to get one
  const bare = await start(['--root', REPO]);
  x = await err(await fetch(`${bare}/v1/models`));
  t.check('without -m: 404 telling to start with -m', x.status === 404 && /-m MODEL/.test(x.e.message), JSON.stringify(x));
});
