/** The webview side of the host connection: the VS Code API, persisted state, and validated messages. */
import type { HostMessage, ViewState, WebviewMessage } from '../../protocol/messages';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export const vscode: VsCodeApi = acquireVsCodeApi();

/** The state this page was opened with: restored state first, then the host's `data-state` attribute. */
export function initialState(): ViewState | undefined {
  const saved = vscode.getState() as ViewState | undefined;
  if (saved && typeof saved === 'object' && typeof saved.file === 'string') return saved;
  try {
    return JSON.parse(document.body.dataset.state ?? 'null') as ViewState;
  } catch {
    return undefined;
  }
}

function isHostMessage(value: unknown): value is HostMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  if (m.type === 'error') return typeof m.message === 'string';
  return (m.type === 'topology' || m.type === 'trace') && typeof m.state === 'object' && m.state !== null;
}

export function onHostMessage(handler: (message: HostMessage) => void): void {
  window.addEventListener('message', (event: MessageEvent) => {
    if (isHostMessage(event.data)) handler(event.data);
  });
}

/** Creates an element whose content is text, never HTML: topology names may contain anything. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}
