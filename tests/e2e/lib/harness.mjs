// harness.mjs - what every browser test shares: Chromium with a fresh profile, screenshots, waits on the app's state.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS } from './config.mjs';

export { suite } from './suite.mjs';

// A Chromium with a fresh profile (or the given one, to model a second visit).
export async function launch(t, { profile } = {}) {
  const dir = profile || fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-e2e-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1100, height: 760 } });
  const logs = [];
  context.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  context.on('weberror', (e) => logs.push(`[pageerror] ${e.error()}`));
  t.onCleanup(async () => {
    await context.close().catch(() => {});
    if (!profile && !process.env.HEARTH_E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  });
  return { context, dir, logs, page: context.pages()[0] || await context.newPage() };
}

export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// Waits until document.body.dataset.state is one of `states` (app.js sets it).
export async function waitState(page, states, timeout = 60000) {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout });
  return page.evaluate(() => document.body.dataset.state);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
