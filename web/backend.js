// backend.js - the single seam that decides where and on what the engine runs: device choice, worker or inline.
import { HearthError } from './errors.js';
import { Client, inlineTransport, workerTransport } from './client.js';

const IS_NODE = typeof process === 'object' && !!(process.versions && process.versions.node) && typeof window === 'undefined';

// 'auto' and 'wasm' run the WebAssembly CPU build. WebGPU is a later backend; asking for it
// explicitly is an error rather than a silent fallback.
export function resolveDevice(device = 'auto') {
  if (device === 'auto' || device === 'wasm' || device === 'cpu') return 'wasm';
  if (device === 'webgpu') throw new HearthError('unsupported-device', 'The WebGPU backend is not available yet; use device "wasm" or "auto".');
  throw new HearthError('unsupported-device', `Unknown device: ${device}`);
}

// Opens a Client connected to a fresh engine host. options: {workerUrl, store, cacheDir}.
export async function openClient(options = {}) {
  const client = new Client(null);
  if (IS_NODE) {
    const { EngineHost } = await import('./host.js');
    const { NodeStorage } = await import('./storage-node.js');
    client.transport = inlineTransport(client, new EngineHost(null, new NodeStorage({ cacheDir: options.cacheDir })));
  } else {
    const url = new URL(options.workerUrl || new URL('./worker.js', import.meta.url));
    if (options.store) url.searchParams.set('store', options.store);
    client.transport = workerTransport(client, url);
  }
  return client;
}
