/**
 * Webview panels, locked down: CSP `default-src 'none'`, scripts only by a nonce from `crypto`,
 * `localResourceRoots` limited to the built webview folder, the initial state in an escaped `data-`
 * attribute (no inline script), state restored by a serializer rather than `retainContextWhenHidden`.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { webviewPage } from './page';
import { TRACE_PROTOCOLS, type HostMessage, type ViewState, type WebviewMessage } from '../protocol/messages';

/** Panel types by view; verify mode is the trace view's panel (and its script). */
export const VIEW_TYPES = { topology: 'netpath.topology', trace: 'netpath.trace', verify: 'netpath.trace' } as const;
const SCRIPTS = { topology: 'topology', trace: 'trace', verify: 'trace' } as const;

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')] };
}

export function renderHtml(webview: vscode.Webview, extensionUri: vscode.Uri, state: ViewState): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(
    vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${SCRIPTS[state.view]}.js`),
  );
  return webviewPage(webview.cspSource, nonce, JSON.stringify(state), [{ src: script.toString(), module: true }]);
}

/** Validates a message from a webview: a webview is a separate page and may send anything. */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return true;
    case 'reveal':
      return typeof m.file === 'string' && Number.isInteger(m.start) && Number.isInteger(m.end);
    case 'retrace': {
      const r = m.request as Record<string, unknown> | undefined;
      return (
        typeof r === 'object' &&
        r !== null &&
        typeof r.from === 'string' &&
        typeof r.to === 'string' &&
        r.from.length <= 500 &&
        r.to.length <= 500 &&
        (TRACE_PROTOCOLS as readonly unknown[]).includes(r.proto) &&
        (r.reply === undefined || typeof r.reply === 'boolean')
      );
    }
    case 'export':
      return (
        (m.format === 'svg' || m.format === 'markdown') &&
        typeof m.name === 'string' &&
        /^[\w.\- ]{1,100}$/.test(m.name) &&
        typeof m.content === 'string'
      );
    case 'traceFrom':
      return (
        (m.from === undefined || typeof m.from === 'string') &&
        (m.to === undefined || typeof m.to === 'string') &&
        (m.from !== undefined || m.to !== undefined)
      );
    default:
      return false;
  }
}

export function post(panel: vscode.WebviewPanel, message: HostMessage): Thenable<boolean> {
  return panel.webview.postMessage(message);
}
