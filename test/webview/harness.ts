/**
 * Serves the BUILT webview bundles (dist/webview) in a page equivalent to src/vscode/webview.ts's renderHtml
 * (same CSP: default-src 'none', scripts by nonce only) with a stand-in for `acquireVsCodeApi` that records
 * what the page posts and keeps its state in sessionStorage (so a reload restores it, as the serializer does).
 * Tests drive it in Debian's headless Chromium through playwright-core.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { HostMessage, ViewState, WebviewMessage } from '../../src/protocol/messages';
import { THEMES } from './themes';
import { webviewPage, WORKER_VIEWS } from '../../src/vscode/page';

export const ROOT = path.resolve(__dirname, '../..');
export const OUTPUT = path.join(ROOT, 'test-output/webview');
const DIST = path.join(ROOT, 'dist/webview');
const chromiumOptions = JSON.parse(fs.readFileSync(path.join(ROOT, 'scripts/vscode-host/chromium.json'), 'utf8')) as {
  executablePath: string;
  args: string[];
};

export type Theme = keyof typeof THEMES;

/** The stand-in VS Code API and theme, as a classic script the page loads (by nonce) before the view's bundle. */
function stub(theme: Theme): string {
  const t = THEMES[theme];
  return `(() => {
  window.__posted = [];
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
  // Which Web Workers the page starts (their URL's scheme) and how many messages they answer with.
  window.__workers = [];
  const PageWorker = window.Worker;
  window.Worker = class extends PageWorker {
    constructor(url, options) {
      super(url, options);
      const record = { scheme: String(url).split(':')[0], messages: 0 };
      window.__workers.push(record);
      this.addEventListener('message', () => record.messages++);
    }
  };
  const root = document.documentElement;
  for (const [k, v] of Object.entries(${JSON.stringify(t.vars)})) root.style.setProperty('--vscode-' + k, v);
  document.body.classList.add(${JSON.stringify(t.bodyClass)});
  let state = JSON.parse(sessionStorage.getItem('netpath-state') || 'null');
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
    getState: () => state,
    setState: (s) => { state = s; sessionStorage.setItem('netpath-state', JSON.stringify(s)); },
  });
})();`;
}

function page(view: string, state: string, theme: Theme, origin: string): { html: string; nonce: string } {
  const nonce = randomBytes(16).toString('base64');
  // The production page (src/vscode/page.ts), with the stand-in VS Code API loaded first.
  const html = webviewPage(
    origin,
    nonce,
    state,
    [
      { src: `${origin}/stub.js?theme=${theme}` },
      { src: `${origin}/webview/${view === 'verify' ? 'trace' : view}.js`, module: true },
    ],
    WORKER_VIEWS.has(view),
  );
  return { html, nonce };
}

export interface Harness {
  readonly origin: string;
  readonly browser: Browser;
  close(): Promise<void>;
  open(state: ViewState, theme?: Theme, viewport?: { width: number; height: number }): Promise<View>;
}

export interface View {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Sends a host message as VS Code does (a `message` event on the window). */
  post(message: HostMessage | Record<string, unknown>): Promise<void>;
  posted(): Promise<WebviewMessage[]>;
  violations(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  let origin = '';
  const pages = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (url.pathname === '/stub.js')
      return send(200, 'text/javascript', stub((url.searchParams.get('theme') as Theme) || 'dark'));
    if (url.pathname.startsWith('/page/')) {
      const html = pages.get(url.pathname.slice('/page/'.length));
      return html ? send(200, 'text/html; charset=utf-8', html) : send(404, 'text/plain', 'no such page');
    }
    if (url.pathname.startsWith('/webview/')) {
      const file = path.join(DIST, path.basename(url.pathname));
      if (!fs.existsSync(file)) return send(404, 'text/plain', `${file} is not built: run npm run build`);
      return send(200, file.endsWith('.map') ? 'application/json' : 'text/javascript', fs.readFileSync(file));
    }
    send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROME || chromiumOptions.executablePath,
    headless: true,
    args: chromiumOptions.args,
  });
  let n = 0;
  return {
    origin,
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      await new Promise((resolve) => server.close(resolve));
    },
    async open(state, theme = 'dark', viewport = { width: 1400, height: 1000 }) {
      const id = `${state.view}-${++n}.html`;
      pages.set(id, page(state.view, JSON.stringify(state), theme, origin).html);
      const context = await browser.newContext({ viewport, colorScheme: theme === 'light' ? 'light' : 'dark' });
      const p = await context.newPage();
      const errors: string[] = [];
      p.on('pageerror', (e) => errors.push(e.message));
      p.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await p.goto(`${origin}/page/${id}`);
      await p.waitForFunction('window.__posted && window.__posted.some((m) => m.type === "ready")', undefined, {
        timeout: 10_000,
      });
      return {
        page: p,
        context,
        post: async (message) => {
          await p.evaluate(
            (m) => (globalThis as unknown as { postMessage(m: unknown, origin: string): void }).postMessage(m, '*'),
            message as unknown,
          );
        },
        posted: () => p.evaluate('window.__posted') as Promise<WebviewMessage[]>,
        violations: async () => [
          ...((await p.evaluate('window.__violations')) as string[]),
          ...errors.filter((e) => /Content Security Policy/i.test(e)),
        ],
        close: () => context.close(),
      };
    },
  };
}

/** Mean and variance of the screenshot's luminance, measured in a blank page's canvas (no PNG decoder needed). */
export async function pixelStats(browser: Browser, png: Buffer): Promise<{ variance: number; distinct: number }> {
  const p = await browser.newPage();
  try {
    return (await p.evaluate(`(async () => {
      const img = new Image();
      img.src = 'data:image/png;base64,${png.toString('base64')}';
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width; c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let sum = 0, sq = 0, n = 0; const colours = new Set();
      for (let i = 0; i < d.length; i += 16) {
        const y = 0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2];
        sum += y; sq += y * y; n++;
        if (colours.size < 5000) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      }
      const mean = sum / n;
      return { variance: sq / n - mean * mean, distinct: colours.size };
    })()`)) as { variance: number; distinct: number };
  } finally {
    await p.close();
  }
}

export function savePng(name: string, png: Buffer): string {
  fs.mkdirSync(OUTPUT, { recursive: true });
  const file = path.join(OUTPUT, `${name}.png`);
  fs.writeFileSync(file, png);
  return file;
}

/** Polls `expression` in the page until it is true (waitForFunction's polling evaluates strings, which the CSP forbids). */
export async function until(v: View, expression: string, timeout = 5000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await v.page.evaluate(expression))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
