/**
 * The HTML shell of every webview page, without `vscode`: the extension host renders it with the webview's
 * resource origin, and the webview test harness renders the very same page around its own origin, so the
 * tests run under the production Content-Security-Policy rather than a copy of it.
 */

export const escapeAttribute = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The views that start a Web Worker: the topology view lays its graph out in one (src/webview/topology/layout.ts). */
export const WORKER_VIEWS: ReadonlySet<string> = new Set(['topology']);

/**
 * `default-src 'none'`; scripts only by nonce; styles, images and fonts only from `origin` (styles also by nonce).
 * With `workers`, Web Workers from `blob:` URLs only: the page makes them from script text its own nonce'd bundle
 * carries (a worker cannot be loaded from the webview's resource origin, which is not the page's origin).
 */
export function contentSecurityPolicy(origin: string, nonce: string, workers = false): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${origin} 'nonce-${nonce}'`,
    `img-src ${origin} data:`,
    `font-src ${origin}`,
    ...(workers ? ['worker-src blob:'] : []),
  ].join('; ');
}

export interface PageScript {
  readonly src: string;
  /** An ES module (the view bundles are); classic otherwise. */
  readonly module?: boolean;
}

/** The page: CSP, the initial state as an escaped `data-state` attribute (no inline script), and the scripts by nonce. */
export function webviewPage(
  origin: string,
  nonce: string,
  stateJson: string,
  scripts: readonly PageScript[],
  workers = false,
): string {
  const tags = scripts
    .map((s) => `<script${s.module ? ' type="module"' : ''} nonce="${nonce}" src="${escapeAttribute(s.src)}"></script>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(origin, nonce, workers)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>NetPath</title>
</head>
<body data-state="${escapeAttribute(stateJson)}" data-nonce="${escapeAttribute(nonce)}">
<main id="app" aria-live="polite"></main>
${tags}
</body>
</html>`;
}
