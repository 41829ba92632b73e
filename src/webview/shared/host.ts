/** The webview side of the host connection: the VS Code API, persisted state, and validated messages. */
import type { HostMessage, ViewState, WebviewMessage } from '../../protocol/messages';
import { isHostMessage, isViewState } from '../../protocol/validate';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export const vscode: VsCodeApi = acquireVsCodeApi();

/** The state this page was opened with: restored state first, then the host's `data-state` attribute. */
export function initialState(): ViewState | undefined {
  const saved = vscode.getState();
  if (isViewState(saved)) return saved;
  try {
    const attribute: unknown = JSON.parse(document.body.dataset.state ?? 'null');
    return isViewState(attribute) ? attribute : undefined;
  } catch {
    return undefined;
  }
}

/** Calls `handler` with each well-formed host message; malformed ones go to `onMalformed`. */
export function onHostMessage(handler: (message: HostMessage) => void, onMalformed?: () => void): void {
  window.addEventListener('message', (event: MessageEvent) => {
    if (isHostMessage(event.data)) handler(event.data);
    else onMalformed?.();
  });
}

/**
 * An element of the page's own markup (written by the view itself, never from input): one missing is a bug in
 * NetPath, reported as such rather than as a null dereference later.
 */
export function pageElement(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`NetPath bug: the view has no element #${id}`);
  return e;
}

/** Creates an element whose content is text, never HTML: topology names may contain anything. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Record<string, string>,
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K];
export function el(tag: string, attrs?: Record<string, string>, ...children: (Node | string)[]): HTMLElement;
export function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element; attributes set as attributes, text as a text node (never markup). */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: (Node | string)[]
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

/** Shortens a label to `max` characters for drawing; the full text goes in a <title>. */
export const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** Asks the host to show a span of a source file. */
export function reveal(span: { file?: string; start?: number; end?: number } | undefined): void {
  if (!span || span.file === undefined || span.start === undefined || span.end === undefined) return;
  vscode.postMessage({ type: 'reveal', file: span.file, start: span.start, end: span.end });
}
