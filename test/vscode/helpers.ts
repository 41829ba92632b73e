/** Small helpers for the suites that run inside the extension host. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'netpath.netpath';
export const FIXTURE = 'overlap.netpath.yaml';

/** Activates NetPath (a no-op when it already is) and returns it. */
export async function activateNetPath(): Promise<vscode.Extension<unknown>> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in the test host`);
  await ext.activate();
  return ext;
}

/** A file of the fixture workspace (test/fixtures/workspace/), which the runner opens as the folder. */
export function fixtureUri(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open: the runner must open test/fixtures/workspace');
  return vscode.Uri.joinPath(folder.uri, name);
}

/**
 * Resolves with the first defined value of `probe`, checked now, whenever one of `events` fires and
 * every 100 ms; rejects after `timeoutMs` with a message naming `what` was awaited.
 */
export function waitFor<T>(
  what: string,
  probe: () => T | undefined,
  { events = [], timeoutMs = 15_000 }: { events?: vscode.Event<unknown>[]; timeoutMs?: number } = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const subscriptions: vscode.Disposable[] = [];
    const finish = (fn: () => void) => {
      clearInterval(poll);
      clearTimeout(timer);
      subscriptions.forEach((s) => s.dispose());
      fn();
    };
    const check = () => {
      try {
        const value = probe();
        if (value !== undefined) finish(() => resolve(value));
      } catch (err) {
        finish(() => reject(err));
      }
    };
    const poll = setInterval(check, 100);
    const timer = setTimeout(
      () => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))),
      timeoutMs,
    );
    for (const event of events) subscriptions.push(event(check));
    check();
  });
}

/** The position of the `nth` occurrence (from 0) of `needle` in `doc`, `offset` characters into it. */
export function positionOf(doc: vscode.TextDocument, needle: string, { nth = 0, offset = 0 } = {}): vscode.Position {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = doc.getText().indexOf(needle, at + 1);
    assert.ok(at >= 0, `"${needle}" (occurrence ${nth}) is not in ${doc.uri.path}`);
  }
  return doc.positionAt(at + offset);
}

/** The plain text of hover results, whatever form their contents take. */
export function hoverText(hovers: readonly vscode.Hover[] | undefined): string {
  return (hovers ?? [])
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
}

/** A diagnostic's code as a string (it may come as `{ value, target }`). */
export function codeOf(d: vscode.Diagnostic): string | undefined {
  const code = typeof d.code === 'object' ? d.code.value : d.code;
  return code === undefined ? undefined : String(code);
}

/** Every open tab in every editor group. */
export function allTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs);
}
