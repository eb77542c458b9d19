// app.js - the chat app's controller: starts the engine worker, loads the chosen model, runs turns, saves and restores the conversation.
import { CreateEngine } from '../hearth.js';
import { ChatView } from './chat-view.js';
import { LoaderView } from './loader-view.js';
import { ModelsView } from './models-view.js';
import { bindSettingsDialog, loadSettings, saveSettings } from './settings.js';

const DEMO_URL = new URL('../../models/demo-q8_0.gguf', import.meta.url).href;
const SESSION_KEY = 'chat';
const SOURCE_KEY = 'hearth.model';
const $ = (id) => document.getElementById(id);

// Messages the user sees when something goes wrong, by error code; the engine's own words follow.
const ERROR_PREFIX = {
  format: 'The model file is damaged or incomplete', 'not-gguf': 'That file is not a model', unsupported: 'This model is not supported',
  template: "The model's chat template failed", 'context-full': 'The conversation no longer fits in the model\'s context; start a new chat',
  nomem: 'Out of memory', 'too-large': 'The model is too large for this browser', backend: 'The compute backend failed',
};
// ?device=webgpu|wasm|auto in the page's URL overrides the setting (links, tests).
const DEVICE_PARAM = new URL(location.href).searchParams.get('device');
const device = () => DEVICE_PARAM || app.settings.device || 'auto';
const RESTARTS_PER_MINUTE = 2; // automatic engine restarts after its worker died; then the user decides

const app = {
  engine: null,
  settings: loadSettings(),
  messages: [], // [{role, content, stats?}] without the system prompt
  generating: false,
  restarts: [], // times of automatic engine restarts
};

const view = new ChatView($('messages'), $('empty'), $('chat'));
const loader = new LoaderView($('loader'));

function setState(s) { document.body.dataset.state = s; }

function showError(e) {
  const code = (e && e.code) || 'error';
  const prefix = ERROR_PREFIX[code];
  $('error-text').textContent = prefix ? `${prefix}: ${e.message}` : String((e && e.message) || e);
  $('error').dataset.code = code;
  $('error').hidden = false;
}

function clearError() { $('error').hidden = true; delete $('error').dataset.code; }

function setGenerating(on) {
  app.generating = on;
  $('send').hidden = on;
  $('stop').hidden = !on;
  setState(on ? 'generating' : 'ready');
}

function sourceLabel(s) {
  if (s.kind === 'file') return `Local file: ${s.file.name}`;
  return s.kind === 'url' ? s.url : 'Demo model (models/demo-q8_0.gguf)';
}

function savedSource() {
  try {
    const s = JSON.parse(localStorage.getItem(SOURCE_KEY) || 'null');
    return s && (s.kind === 'demo' || (s.kind === 'url' && s.url)) ? s : null;
  } catch { return null; }
}

async function loadModel(source) {
  if (app.generating) await app.engine.interrupt();
  clearError();
  setState('loading');
  loader.show(sourceLabel(source));
  $('composer').inert = true;
  const model = source.kind === 'file' ? source.file : source.kind === 'url' ? source.url : DEMO_URL;
  try {
    const info = await app.engine.reload(model, {
      progress_callback: (ev) => { if (ev.status === 'progress') loader.progress(ev); },
    });
    if (source.kind !== 'file') localStorage.setItem(SOURCE_KEY, JSON.stringify(source));
    $('model-name').textContent = `${source.kind === 'file' ? source.file.name : decodeURIComponent(model.split('/').pop())} · ${info.arch}`;
    showBackend(info);
    loader.hide();
    await restoreConversation();
    setState('ready');
  } catch (e) {
    showError(e);
    if (app.engine.model) loader.hide(); // the previous model is still loaded: keep chatting
    setState(app.engine.model ? 'ready' : 'error');
  } finally {
    $('composer').inert = !app.engine.model;
  }
}

// The header's backend label: "GPU · adapter" or "CPU · threads" (with why, when the GPU was wanted).
function showBackend(info) {
  const b = info.backend || { device: 'wasm' };
  const cpu = `CPU (WebAssembly, ${info.build === 'mt' ? `${info.threads} threads` : '1 thread'})`;
  $('backend').textContent = b.device === 'webgpu' ? `GPU (WebGPU: ${b.adapter})` : b.reason ? `${cpu}: ${b.reason}` : cpu;
  $('backend').dataset.device = b.device;
}

// The GPU was lost mid-reply: the engine goes on on the CPU (the reply finishes there).
function onBackend(backend) {
  showBackend({ ...app.engine.model, backend });
  showError({ code: 'gpu-lost', message: 'The GPU stopped working (the WebGPU device was lost). hearth switched to the CPU and goes on there; your conversation is kept.' });
}

function newEngine() {
  return CreateEngine(null, { device: device() }).then((e) => { e.onlost = restartEngine; e.onbackend = onBackend; return e; });
}

async function restoreConversation() {
  try {
    const meta = await app.engine.restoreSession(SESSION_KEY);
    if (meta && Array.isArray(meta.messages)) app.messages = meta.messages;
  } catch (e) {
    console.warn('could not restore the conversation', e);
  }
  view.renderAll(app.messages);
}

// Saves the conversation; when that fails (storage full, ...) says so, and the conversation stays
// open in the page (the next successful save writes all of it). The previous save is never harmed.
async function saveConversation(engine = app.engine) {
  try {
    await engine.saveSession(SESSION_KEY, { messages: app.messages });
    if ($('error').dataset.code === 'save') clearError();
  } catch (e) {
    if (e.code === 'worker' || engine !== app.engine) return; // the engine died: restartEngine() restores the last save
    console.warn('could not save the conversation', e);
    const when = e.code === 'quota' ? 'once there is room' : 'with the next turn';
    showError({ code: 'save', message: `${e.message} The conversation is still open here; it will be saved ${when}.` });
  }
}

// The engine's worker died (terminated by the browser, out of memory, crashed). Starts a new engine,
// reloads the model (from the cache) and the last saved conversation; a message cut short goes back
// into the input box.
async function restartEngine(err) {
  const last = app.messages.at(-1);
  const unsent = app.generating && last && last.role === 'user' ? last.content : null;
  app.generating = false;
  $('send').hidden = false;
  $('stop').hidden = true;
  const now = Date.now();
  app.restarts = app.restarts.filter((t) => now - t < 60000);
  if (app.restarts.length >= RESTARTS_PER_MINUTE) {
    showError({ code: 'worker', message: `${err.message} It stopped again after a restart; reload the page to try once more. Your saved conversation is kept.` });
    setState('error');
    return;
  }
  app.restarts.push(now);
  setState('loading');
  app.engine.dispose().catch(() => {}); // a crashed worker may still be running: end it
  try {
    app.engine = await newEngine();
  } catch (e) {
    showError(e);
    setState('error');
    return;
  }
  await loadModel(savedSource() || { kind: 'demo' });
  if (!app.engine.model) return; // loadModel showed why
  if (unsent && !$('input').value) $('input').value = unsent;
  showError({ code: 'worker', message: `${err.message} It was restarted and the saved conversation restored${unsent ? '; your last message is back in the input box' : ''}.` });
}

function requestMessages() {
  const sys = app.settings.system.trim();
  return [...(sys ? [{ role: 'system', content: sys }] : []), ...app.messages.map(({ role, content }) => ({ role, content }))];
}

async function send(text) {
  clearError();
  const engine = app.engine;
  app.messages.push({ role: 'user', content: text });
  view.addUser(text);
  const item = view.addAssistant();
  item.update('', true);
  setGenerating(true);
  let reasoning = null, answer = '', finish = null, usage = null;
  // the text markdown.js's splitThink reads back: the reasoning inside <think>, closed once the answer starts
  const shown = () => (reasoning == null ? answer : `<think>\n${reasoning}${answer ? `\n</think>\n${answer}` : ''}`);
  try {
    const s = app.settings;
    const stream = engine.chat.completions.create({
      messages: requestMessages(), stream: true, temperature: s.temperature, top_p: s.top_p, max_tokens: s.max_tokens, enable_thinking: s.reasoning,
    });
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (c.delta.reasoning_content != null) reasoning = (reasoning ?? '') + c.delta.reasoning_content;
      if (c.delta.content) answer += c.delta.content;
      if (c.delta.reasoning_content != null || c.delta.content) item.update(shown());
      if (c.finish_reason) { finish = c.finish_reason; usage = chunk.usage; }
    }
  } catch (e) {
    if (engine !== app.engine || e.code === 'worker') return; // the engine died: restartEngine() takes over
    showError(e);
  }
  let stats = '';
  if (usage) {
    const x = usage.extra;
    stats = `${x.decode_tokens_per_s.toFixed(1)} tokens/s · ${usage.completion_tokens} tokens${finish === 'abort' ? ' · stopped' : finish === 'length' ? ' · length limit' : ''}`;
    const rate = (r) => r.toFixed(r < 10 ? 1 : 0); // a slow prefill (software GPU) is not shown as 0
    $('speed').textContent = `decode ${x.decode_tokens_per_s.toFixed(1)} tok/s · prefill ${rate(x.prefill_tokens_per_s)} tok/s`;
  }
  const out = shown();
  item.finish(out, stats);
  item.li.dataset.finish = finish || 'error';
  if (usage) item.li.dataset.reused = usage.extra.reused_tokens;
  if (finish) app.messages.push({ role: 'assistant', content: out, stats });
  await saveConversation(engine); // before 'ready': a reload right after the reply keeps it
  if (engine === app.engine && engine.model) setGenerating(false); // else restartEngine() has the state
}

async function newChat() {
  if (app.generating) await app.engine.interrupt();
  app.messages = [];
  view.clear();
  try { await app.engine.resetSession(); } catch {}
  await saveConversation();
}

function bindUi() {
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('input').value.trim();
    if (!text || app.generating || !app.engine.model) return;
    $('input').value = '';
    send(text);
  });
  $('input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('composer').requestSubmit(); }
  });
  $('stop').addEventListener('click', () => app.engine.interrupt());
  $('loader-cancel').addEventListener('click', () => app.engine.interrupt());
  $('new-chat').addEventListener('click', newChat);
  $('error-close').addEventListener('click', clearError);
  bindSettingsDialog($('settings'), $('open-settings'), () => app.settings, (s) => {
    const moved = s.device !== app.settings.device && !DEVICE_PARAM;
    app.settings = s;
    saveSettings(s);
    if (moved && app.engine.model) switchDevice(); // the model loads again on the chosen device
  });
  const models = new ModelsView($('models'), {
    pick: (source) => loadModel(source),
    list: () => app.engine.listCachedModels(),
    remove: (key) => app.engine.deleteCachedModel(key).catch(showError),
    estimate: () => (navigator.storage && navigator.storage.estimate ? navigator.storage.estimate() : null),
  });
  $('open-models').addEventListener('click', () => models.open());
  $('loader-pick').addEventListener('click', () => models.open());
  // Drag and drop a .gguf file anywhere.
  let depth = 0;
  window.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; $('drop').hidden = false; });
  window.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; $('drop').hidden = true; } });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    $('drop').hidden = true;
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file) loadModel({ kind: 'file', file });
  });
}

async function switchDevice() {
  if (app.generating) await app.engine.interrupt();
  await saveConversation();
  const old = app.engine;
  app.engine = await newEngine();
  old.dispose().catch(() => {});
  await loadModel(savedSource() || { kind: 'demo' });
}

async function main() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(new URL('../sw.js', import.meta.url), { scope: new URL('../../', import.meta.url).pathname }).catch((e) => console.warn('service worker:', e));
  }
  bindUi();
  setState('starting');
  try {
    app.engine = await newEngine();
  } catch (e) {
    showError(e);
    setState('error');
    return;
  }
  await loadModel(savedSource() || { kind: 'demo' });
}

main();
