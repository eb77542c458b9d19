// backend.js - the single seam that decides where and on what the engine runs: device choice, worker or inline.
import { HearthError } from './errors.js';
import { Client, inlineTransport, workerTransport } from './client.js';

const IS_NODE = typeof process === 'object' && !!(process.versions && process.versions.node) && typeof window === 'undefined';

// 'webgpu': the GPU through WebGPU (any adapter, software ones included); 'auto': WebGPU on a
// hardware adapter, else the WebAssembly CPU build; 'wasm' (or 'cpu'): the CPU build. The worker
// picks the device at load (engine-gpu.js pickDevice) and falls back to the CPU, saying why in
// model.backend, when there is no WebGPU, no adapter, the device request fails or the device is lost.
export function resolveDevice(device = 'auto') {
  if (device === 'auto' || device == null) return 'auto';
  if (device === 'wasm' || device === 'cpu') return 'wasm';
  if (device === 'webgpu' || device === 'gpu') return 'webgpu';
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
