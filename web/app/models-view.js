// models-view.js - the model dialog: pick the demo model, a URL or a local file; list and delete cached models.
import { formatBytes } from './loader-view.js';

export class ModelsView {
  // actions: {pick(source), list() -> entries, remove(key), estimate() -> {usage, quota}}
  constructor(dialog, actions) {
    this.dialog = dialog;
    this.actions = actions;
    this.rows = dialog.querySelector('#cache-rows');
    this.quota = dialog.querySelector('#quota');
    dialog.querySelector('#pick-demo').addEventListener('click', () => this.choose({ kind: 'demo' }));
    // the real model, for users with the bandwidth: downloaded once into the cache like any URL
    const nemotron = dialog.querySelector('#pick-nemotron');
    nemotron.addEventListener('click', () => this.choose({ kind: 'url', url: nemotron.dataset.url }));
    dialog.querySelector('#pick-url').addEventListener('click', () => {
      const url = dialog.querySelector('#model-url').value.trim();
      if (url) this.choose({ kind: 'url', url });
    });
    dialog.querySelector('#model-file').addEventListener('change', (e) => {
      const file = e.target.files && e.target.files[0];
      if (file) this.choose({ kind: 'file', file });
    });
  }

  choose(source) {
    this.dialog.close();
    this.actions.pick(source);
  }

  async open() {
    if (!this.dialog.open) this.dialog.showModal();
    await this.refresh();
  }

  async refresh() {
    const [entries, est] = await Promise.all([this.actions.list().catch(() => []), this.actions.estimate()]);
    this.quota.textContent = est ? `This site uses ${formatBytes(est.usage)} of ${formatBytes(est.quota)} allowed.` : '';
    this.rows.replaceChildren();
    if (!entries.length) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 4;
      td.className = 'muted';
      td.textContent = 'No cached models.';
      tr.append(td);
      this.rows.append(tr);
    }
    for (const e of entries) {
      const tr = document.createElement('tr');
      tr.dataset.key = e.key;
      const cells = [e.url ? decodeURIComponent(e.url.split('/').pop()) : e.key, formatBytes(e.size),
        e.complete ? `cached (${e.store})` : `partial: ${e.total ? Math.floor((100 * e.size) / e.total) : 0}%`];
      for (const [i, text] of cells.entries()) {
        const td = document.createElement('td');
        td.textContent = text;
        if (i === 0) { td.className = 'key'; td.title = e.url || e.key; }
        tr.append(td);
      }
      const td = document.createElement('td');
      const del = document.createElement('button');
      del.type = 'button';
      del.textContent = 'Delete';
      del.className = 'delete';
      del.addEventListener('click', async () => { del.disabled = true; await this.actions.remove(e.key); await this.refresh(); });
      td.append(del);
      tr.append(td);
      this.rows.append(tr);
    }
  }
}
