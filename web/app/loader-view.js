// loader-view.js - the download / loading screen: progress bar, bytes, speed and time left for each phase.
const TITLES = { download: 'Downloading the model', verify: 'Checking the download', copy: 'Loading the model into memory', init: 'Preparing the model' };

export function formatBytes(n) {
  if (n == null) return '?';
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1073741824) return `${(n / 1048576).toFixed(1)} MB`;
  return `${(n / 1073741824).toFixed(2)} GB`;
}

function formatTime(s) {
  if (s == null || !Number.isFinite(s)) return '';
  if (s < 60) return `${Math.ceil(s)} s left`;
  return `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s left`;
}

export class LoaderView {
  constructor(root) {
    this.root = root;
    this.title = root.querySelector('#loader-title');
    this.source = root.querySelector('#loader-source');
    this.bar = root.querySelector('#loader-bar');
    this.text = root.querySelector('#loader-text');
  }

  show(sourceText) {
    this.root.hidden = false;
    this.source.textContent = sourceText;
    this.title.textContent = 'Opening the model';
    this.bar.removeAttribute('value');
    this.text.textContent = 'Starting…';
  }

  progress(ev) {
    this.title.textContent = ev.fromCache ? 'Found the model in this browser' : TITLES[ev.phase] || 'Loading';
    this.root.dataset.phase = ev.phase;
    if (ev.total) {
      this.bar.max = ev.total;
      this.bar.value = ev.loaded;
    } else {
      this.bar.removeAttribute('value');
    }
    const parts = [ev.total ? `${formatBytes(ev.loaded)} of ${formatBytes(ev.total)}` : ev.loaded ? formatBytes(ev.loaded) : ''];
    if (ev.bytesPerSecond) parts.push(`${formatBytes(ev.bytesPerSecond)}/s`);
    const left = formatTime(ev.secondsLeft);
    if (left && ev.phase === 'download' && !ev.fromCache) parts.push(left);
    this.text.textContent = parts.filter(Boolean).join(' · ') || '…';
  }

  hide() { this.root.hidden = true; }
}
