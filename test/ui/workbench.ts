/**
 * A person's view of the workbench, for the ui tier: what they click, type and read, in the real
 * VS Code (code-server) through Debian's Chromium. Waits for elements, never for fixed times.
 * scripts/vscode-host/run-ui-tests.mjs starts code-server with the packaged .vsix and passes its URL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type FrameLocator, type Locator, type Page } from 'playwright-core';
import chromiumOptions from '../../scripts/vscode-host/chromium.json';

/** Generous bounds: the first workbench load compiles a lot of JavaScript on a slow CI machine. */
const LOAD_TIMEOUT = 60_000;
const STEP_TIMEOUT = 20_000;

export class Workbench {
  private constructor(
    readonly page: Page,
    private readonly context: BrowserContext,
    private readonly profile: string,
    private readonly screenshots: string,
  ) {}

  /** Launches Chromium and opens the workbench at `url` (a `?folder=` URL). */
  static async open(url: string, screenshots: string): Promise<Workbench> {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-ui-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROME || chromiumOptions.executablePath,
      headless: true,
      viewport: chromiumOptions.viewport,
      args: chromiumOptions.args,
    });
    fs.mkdirSync(screenshots, { recursive: true });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT);
    const wb = new Workbench(page, context, profile, screenshots);
    page.on('console', (m) => wb.console.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => wb.console.push(`pageerror: ${e.message}`));
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor({ timeout: LOAD_TIMEOUT });
    return wb;
  }

  /** Everything the page logged, saved next to the screenshots on close. */
  readonly console: string[] = [];

  async close(): Promise<void> {
    fs.writeFileSync(path.join(this.screenshots, 'browser-console.log'), this.console.join('\n') + '\n');
    await this.context.close().catch(() => {});
    fs.rmSync(this.profile, { recursive: true, force: true });
  }

  /** Saves what the person sees as `<name>.png` in the output folder; returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = path.join(this.screenshots, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** The explorer row of a file (visible once the workspace is open and the remote file system is connected). */
  explorerRow(name: string): Locator {
    return this.page.locator('.explorer-folders-view .monaco-list-row', { hasText: name });
  }

  /** Clicks a file in the explorer and waits until the editor shows `expectedText`. */
  async openFromExplorer(name: string, expectedText: string): Promise<void> {
    const row = this.explorerRow(name);
    await row.waitFor({ timeout: LOAD_TIMEOUT });
    await row.click();
    await this.page.locator('.editor-instance .monaco-editor .view-line', { hasText: expectedText }).first().waitFor();
  }

  /** Opens a file through Quick Open (Ctrl+P) and waits until the editor shows `expectedText`. */
  async openQuick(name: string, expectedText: string): Promise<void> {
    await this.page.keyboard.press('Control+P');
    await this.pick(name);
    await this.page.locator('.editor-instance .monaco-editor .view-line', { hasText: expectedText }).first().waitFor();
  }

  /** Runs a command from the palette (F1, `>label`, Enter on the matching row). */
  async runCommand(label: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input.input');
    await input.waitFor();
    await input.fill('>' + label);
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor();
    await this.page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden' });
  }

  /** In an open quick pick, filters by `filter` and accepts the first row that contains `row`. */
  async pick(filter: string, row: string = filter): Promise<void> {
    const input = this.page.locator('.quick-input-widget input.input');
    await input.waitFor();
    await input.fill(filter);
    // Enter takes the focused row: wait until the filtered list has focused the one wanted (until it has caught up
    // with the filter, the focus may still be on the most recently opened file).
    await this.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: row }).first().waitFor();
    await this.page.keyboard.press('Enter');
  }

  /** Rows of the Problems panel that contain `text` (open the panel first). */
  problems(text: string): Locator {
    return this.page.locator('.markers-panel .monaco-list-row', { hasText: text });
  }

  /** A token of the active editor whose whole text is `token` (a YAML key, a value). */
  editorToken(token: string): Locator {
    const exact = new RegExp(`^${token.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
    return this.page.locator('.editor-instance .view-lines .view-line span span', { hasText: exact }).first();
  }

  /** Moves the mouse over `target` and returns the text of the hover that appears containing `expected`. */
  async hover(target: Locator, expected: string): Promise<string> {
    await target.hover();
    const hover = this.page.locator('.monaco-hover:not(.hidden)', { hasText: expected }).first();
    await hover.waitFor();
    return hover.innerText();
  }

  /** Takes the mouse away and closes hovers and widgets. */
  async dismiss(): Promise<void> {
    await this.page.mouse.move(5, 5);
    await this.page.keyboard.press('Escape');
  }

  /** The document inside the active webview (two nested iframes: the host frame, then #active-frame). */
  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  }
}

/** Collapses runs of whitespace, for readable log lines and assertions. */
export const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
