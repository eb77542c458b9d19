// config.mjs - the one place the browser tests take their paths from: the repo, the model, the native binary, Chromium.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// The real-text model for tests that compare with the native engine (a repo-relative path).
export const MODEL = process.env.HEARTH_E2E_MODEL || 'models/demo-q8_0.gguf';
// The real engine's wasm build (native.mjs).
export const WASM_DIR = path.resolve(REPO, process.env.HEARTH_E2E_WASM_DIR || 'build/wasm');
export const HEARTH_BIN = path.resolve(REPO, process.env.HEARTH_BIN || 'build/hearth');
export const CHROMIUM = process.env.HEARTH_CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = path.join(REPO, 'build/screenshots');
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu',
];
