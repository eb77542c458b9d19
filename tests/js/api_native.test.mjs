// api_native.test.mjs - the JS API in Node on the real CPU build (build/wasm): pipeline() and chat.completions give `hearth run`'s greedy tokens.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from '../e2e/lib/suite.mjs';
import { REPO } from '../e2e/lib/config.mjs';
import { CreateEngine, env, pipeline } from '../../web/hearth.js';
import { splitReasoning } from '../../web/reasoning.js';

const t = suite('js-api-native');
const WASM = path.join(REPO, 'build/wasm');
const MODEL = path.join(REPO, 'models/demo-q8_0.gguf');
const HEARTH = process.env.HEARTH_BIN ?? path.join(REPO, 'build/hearth');
const N = 40;

await t.run(async () => {
  if (!t.check('the CPU wasm build exists (make wasm)', fs.existsSync(path.join(WASM, 'hearth-st.wasm')))) return;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-js-native-'));
  t.onCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
  env.wasmBase = new URL(`file://${WASM}/`).href;
  env.cacheDir = path.join(tmp, 'cache');
  for (const [prompt, think] of [['What is 34 + 58?', true], ['Where does my data go?', false]]) {
    const flag = think ? '--think' : '--no-think';
    const native = execFileSync(HEARTH, ['run', '-m', MODEL, '-p', prompt, '--temp', '0', '-n', String(N), flag], { encoding: 'utf8' }).replace(/\n$/, '');
    const ids = execFileSync(HEARTH, ['run', '-m', MODEL, '-p', prompt, '--temp', '0', '-n', String(N), flag, '--print-ids'], { encoding: 'utf8' }).trim().split(/\s+/);

    const gen = await pipeline('text-generation', MODEL, { device: 'wasm' });
    const out = await gen([{ role: 'user', content: prompt }], { max_new_tokens: N, temperature: 0, enable_thinking: think });
    const reply = out[0].generated_text.at(-1);
    t.check(`pipeline(): the greedy reply to '${prompt}' equals hearth run`, reply.content === native,
      `\n  js:     ${JSON.stringify(reply.content)}\n  native: ${JSON.stringify(native)}`);
    await gen.dispose?.();

    const engine = await CreateEngine(MODEL, { device: 'wasm' });
    let text = '', reasoning = '', last = null;
    for await (const chunk of await engine.chat.completions.create({
      messages: [{ role: 'user', content: prompt }], stream: true, temperature: 0, max_tokens: N, enable_thinking: think,
    })) {
      text += chunk.choices?.[0]?.delta?.content ?? '';
      reasoning += chunk.choices?.[0]?.delta?.reasoning_content ?? '';
      last = chunk;
    }
    // hearth run prints the text as generated; the API gives the reasoning (the template opened
    // <think> when think is on) apart from the answer, split by the rules of web/reasoning.js
    const want = splitReasoning(native, think);
    t.check(`chat.completions (stream): the reply to '${prompt}' equals hearth run's, reasoning apart`,
      text === want.content && reasoning === want.reasoning && (!think || reasoning.length > 0),
      `\n  js:     ${JSON.stringify([reasoning, text])}\n  native: ${JSON.stringify([want.reasoning, want.content])}`);
    t.check('the last chunk has usage with the same token count', last?.usage?.completion_tokens === ids.length,
      `${last?.usage?.completion_tokens} vs ${ids.length}`);
    engine.dispose();
  }
});
