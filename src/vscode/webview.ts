/**
 * Webview panels, locked down: CSP `default-src 'none'`, scripts only by a nonce from `crypto` (and the topology
 * view's layout worker from a blob),
 * `localResourceRoots` limited to the built webview folder, the initial state in an escaped `data-`
 * attribute (no inline script), state restored by a serializer rather than `retainContextWhenHidden`.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { webviewPage, WORKER_VIEWS } from './page';
import type { HostMessage, ViewState } from '../protocol/messages';

/** Panel types by view; verify mode is the trace view's panel (and its script). */
export const VIEW_TYPES = {
  topology: 'netpath.topology',
  trace: 'netpath.trace',
  verify: 'netpath.trace',
  reach: 'netpath.reach',
} as const;
const SCRIPTS = { topology: 'topology', trace: 'trace', verify: 'trace', reach: 'reach' } as const;

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')] };
}

export function renderHtml(webview: vscode.Webview, extensionUri: vscode.Uri, state: ViewState): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(
    vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${SCRIPTS[state.view]}.js`),
  );
  return webviewPage(
    webview.cspSource,
    nonce,
    JSON.stringify(state),
    [{ src: script.toString(), module: true }],
    WORKER_VIEWS.has(state.view),
  );
}

export function post(panel: vscode.WebviewPanel, message: HostMessage): Thenable<boolean> {
  return panel.webview.postMessage(message);
}
