// settings.js - the user's generation settings: defaults, localStorage persistence, and the settings dialog.
const KEY = 'hearth.settings';
export const DEFAULTS = { system: '', temperature: 0.7, top_p: 0.95, max_tokens: 512, reasoning: true, device: 'auto' };
const DEVICES = ['auto', 'webgpu', 'wasm'];

export function loadSettings() {
  try { return { ...DEFAULTS, ...JSON.parse(localStorage.getItem(KEY) || '{}') }; } catch { return { ...DEFAULTS }; }
}

export function saveSettings(s) { localStorage.setItem(KEY, JSON.stringify(s)); }

// Wires the <dialog>: fills the form on open, calls onSave(settings) on "Save".
export function bindSettingsDialog(dialog, openButton, get, onSave) {
  const form = dialog.querySelector('form');
  openButton.addEventListener('click', () => {
    const s = get();
    form.system.value = s.system;
    form.temperature.value = s.temperature;
    form.top_p.value = s.top_p;
    form.max_tokens.value = s.max_tokens;
    form.reasoning.checked = s.reasoning;
    form.device.value = s.device;
    dialog.showModal();
  });
  dialog.addEventListener('close', () => {
    if (dialog.returnValue !== 'save') return;
    const num = (v, d) => (Number.isFinite(+v) && v !== '' ? +v : d);
    onSave({
      system: form.system.value,
      temperature: Math.max(0, num(form.temperature.value, DEFAULTS.temperature)),
      top_p: Math.min(1, Math.max(0, num(form.top_p.value, DEFAULTS.top_p))),
      max_tokens: Math.max(1, Math.round(num(form.max_tokens.value, DEFAULTS.max_tokens))),
      reasoning: form.reasoning.checked,
      device: DEVICES.includes(form.device.value) ? form.device.value : DEFAULTS.device,
    });
  });
}
