/**
 * Runs the editor section of `npm run bench` (bench/editor.ts) in a process of its own: it packages the .vsix first
 * (what a user installs), and needs code-server and Chromium (the ui tier's). BENCH_EDITOR=none skips it; a
 * failure is printed and the rest of the bench still reports.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The editor targets: diagnostics after an edit. */
export const EDITOR_TARGETS: readonly { readonly name: string; readonly key: string; readonly maxMs: number }[] = [
  // In the editor, where the person typed (the squiggles); the Problems panel adds VS Code's own 64 ms debounce.
  { name: 'editor: diagnostics after an edit, 300 pods', key: '300-pods edit (editor)', maxMs: 50 },
  { name: 'editor: diagnostics after an edit, 15,000 pods', key: '15000-pods edit (editor)', maxMs: 1000 },
  { name: 'editor: typing, NetPath on minus off, 300 pods', key: '300-pods typing over off', maxMs: 10 },
  { name: 'editor: typing, NetPath on minus off, 15,000 pods', key: '15000-pods typing over off', maxMs: 10 },
  { name: 'editor: topology view drawn, 15,000 pods', key: '15000-pods topology', maxMs: 3000 },
];

export function runEditorBench(log: (line: string) => void): Record<string, number> | undefined {
  if (process.env.BENCH_EDITOR === 'none') return undefined;
  const root = join(__dirname, '..');
  log(
    "\nEditor (code-server + Chromium, the packaged .vsix; ms from the change to the Problems panel; topology: from Show Topology to the drawn graph, and the longest task of the webview's thread):",
  );
  try {
    execFileSync(process.execPath, [join(root, 'scripts/package.mjs')], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'editor.ts')], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, number>;
    // Counts (elements drawn, long tasks) have no unit; the rest are milliseconds.
    const rows = Object.entries(r).map(
      ([k, v]) => `  ${k.padEnd(32)} ${v.toFixed(0).padStart(7)}${/(elements|long tasks)$/.test(k) ? '' : ' ms'}`,
    );
    log(rows.join('\n'));
    return r;
  } catch (err) {
    log(`  editor bench did not run: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    return undefined;
  }
}
