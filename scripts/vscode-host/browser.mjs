// Launches Debian's headless Chromium through playwright-core (which brings no browser of its own).
// The launch options live in chromium.json so the UI suites (TypeScript, test/ui/) use the very same.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import options from './chromium.json' with { type: 'json' };

/**
 * A persistent context in a throw-away profile (a persistent context gives the page its first tab and
 * keeps service workers, which webviews use). close() never throws and removes the profile.
 */
export async function launchBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROME || options.executablePath,
    headless: true,
    viewport: options.viewport,
    args: options.args,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, close };
}
