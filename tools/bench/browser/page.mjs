// page.mjs - window.bench for tools/bench/browser.mjs: one GGUF Blob, hearth's wasm engine (hearth-worker.mjs) and wllama loaded from it, one timed run of either.
import { Wllama } from '/node_modules/@wllama/wllama/esm/index.js';

let blob = null, hearth = null, wllama = null;

// One request to the hearth worker; resolves with its value or rejects with its error.
function ask(msg) {
  return new Promise((resolve, reject) => {
    hearth.onmessage = ({ data }) => (data.ok ? resolve(data.value) : reject(new Error(data.error)));
    hearth.onerror = (e) => reject(new Error(`hearth worker: ${e.message || 'failed to start'}`));
    hearth.postMessage(msg);
  });
}

window.bench = {
  crossOriginIsolated: () => crossOriginIsolated,

  // The model as one Blob for both engines, its n_vocab token types set to USER_DEFINED (see
  // gguf-vocab.mjs: the int32 array at typesAt) so that wllama's text prompt "<tok_i>..." is
  // exactly the token ids; the rest of the file is the bytes served.
  async fetchModel(typesAt, nTypes, userDefined) {
    const file = await (await fetch('/model.gguf')).blob();
    blob = new Blob([file.slice(0, typesAt), new Int32Array(nTypes).fill(userDefined), file.slice(typesAt + 4 * nTypes)]);
    if (blob.size !== file.size) throw new Error('patching the token types changed the file size');
    return blob.size;
  },

  async loadHearth(threads, nCtx) {
    hearth = new Worker(new URL('./hearth-worker.mjs', import.meta.url), { type: 'module' });
    return ask({ op: 'load', blob, threads, nCtx });
  },

  // Prefill = the prompt in one call with the last token's logits; decode = nGen greedy steps
  // (argmax in C), timed inside the wasm module as cli/bench.c does.
  runHearth: (tokens, nGen) => ask({ op: 'run', tokens, nGen }),

  // CPU only (n_gpu_layers 0), one sequence, the prompt in one batch of nBatch tokens.
  async loadWllama(threads, nCtx, nBatch) {
    wllama = new Wllama({ default: '/node_modules/@wllama/wllama/esm/wasm/wllama.wasm' }, { suppressNativeLog: true });
    const t0 = performance.now();
    await wllama.loadModel([blob], { n_threads: threads, n_ctx: nCtx, n_batch: nBatch, n_ubatch: nBatch, n_gpu_layers: 0, n_parallel: 1, warmup: false });
    const info = wllama.getLoadedContextInfo();
    return { nVocab: info.n_vocab, threads: wllama.getNumThreads(), multithread: wllama.isMultithread(), loadS: (performance.now() - t0) / 1000 };
  },

  // The same token ids as the prompt (as "<tok_i>" text: wllama 3 takes text only; special-token
  // parsing maps each to its id), no prompt cache, greedy, nGen + 1 tokens with EOS ignored: the
  // first sampled token closes the prefill (llama-server's prompt timing ends there), the nGen
  // steps after it are the decode.
  async runWllama(tokens, nGen) {
    const prompt = tokens.map((t) => `<tok_${t}>`).join('');
    const r = await wllama.createCompletion({ prompt, max_tokens: nGen + 1, temperature: 0, ignore_eos: true, cache_prompt: false });
    const t = r.timings;
    if (!t) throw new Error('wllama returned no timings');
    if (t.prompt_n !== tokens.length || t.predicted_n !== nGen + 1) {
      throw new Error(`wllama evaluated ${t.prompt_n} prompt tokens (want ${tokens.length}) and generated ${t.predicted_n} (want ${nGen + 1})`);
    }
    const generated = [...r.choices[0].text.matchAll(/<tok_(\d+)>/g)].map((m) => +m[1]);
    return { prefillS: t.prompt_ms / 1000, decodeS: t.predicted_ms / 1000, nDecoded: t.predicted_n - 1, generated };
  },
};
window.benchReady = true;
