/**
 * The editor section of `npm run bench` (issue 16): what a person waits for in VS Code (code-server and Debian's
 * Chromium, the ui tier's machinery, with the packaged .vsix installed). For the 300-pod and the 15,000-pod
 * topologies of bench/cluster.ts, each written with one duplicated pod IP so NetPath has something to say:
 *
 * - open: from opening the file until its ip.duplicate problem is in the Problems panel;
 * - edit: from typing a fix (one digit of the IP back to what it was) until the problem leaves the panel, and
 *   `edit (editor)` until the editor's error squiggles are gone (what the person typing sees first: VS Code gathers
 *   marker changes for 64 ms before it updates the Problems panel);
 * - undo: from Ctrl+Z until it is back (`undo (editor)`: until the squiggles are back);
 * - typing: 20 keys typed into a new comment line at the end of the file, one every 100 ms (each a change NetPath
 *   analyses), each from the key press until the workbench has drawn the next frame (median and worst), with
 *   NetPath on and with `netpath.enable: false` in the folder's settings, twice each and in turn (on, off, on, off),
 *   and the difference of the medians.
 * - topology: from "NetPath: Show Topology" until the view has drawn its graph, with the webview thread's longest
 *   task meanwhile (bench/topology-view.ts).
 *
 * The first change after a pause is analysed at once; a change within a burst of keys waits for the typing to pause
 * (as long as the last analysis took, at most 300 ms): see Analyses.schedule.
 *
 * Each edit/undo is timed EDIT_ROUNDS times (median). Prints one JSON object on its last stdout line; the extension's
 * own account of each analysis (its NetPath log: reading, worker, publishing) goes to stderr, to say where the time
 * went.
 *
 *   node scripts/package.mjs && node --import tsx bench/editor.ts [--vsix netpath-x.y.z.vsix] [--sizes 300-pods,…]
 *
 * Run under the browser lane's lock on a shared machine: flock /work/browser.lock npm run bench.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { netpathCluster, type ClusterSize } from './cluster';
import type { Locator } from 'playwright-core';
import { Workbench } from '../test/ui/workbench';
import { measureTopologyView, recordLongTasks } from './topology-view';

const root = path.resolve(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const vsixArg = process.argv.indexOf('--vsix');
const vsix =
  vsixArg > 0 ? path.resolve(process.argv[vsixArg + 1]) : path.join(root, `${manifest.name}-${manifest.version}.vsix`);

const EDITOR_SIZES: readonly ClusterSize[] = [
  { name: '300-pods', nodes: 10, pods: 300, services: 50 },
  { name: '15000-pods', nodes: 500, pods: 15000, services: 1000 },
];
const sizesArg = process.argv.indexOf('--sizes');
const sizes =
  sizesArg > 0 ? EDITOR_SIZES.filter((s) => process.argv[sizesArg + 1].split(',').includes(s.name)) : EDITOR_SIZES;

/**
 * Edits and undos timed per file, medians: one key's trip through code-server swings by tens of ms on a 2-core machine
 * (the floor's single keys went from 33 to 84 ms in one run), so three said little.
 */
const EDIT_ROUNDS = 7;

/** How long a measured change may take before the bench gives up on it (a 15,000-pod file took 11.5 s before). */
const CHANGE_TIMEOUT = 120_000;

interface Written {
  readonly file: string;
  /** The same text as `file`, named `*.floor.txt`: NetPath leaves it alone, the floor probe marks its duplicate. */
  readonly floor: string;
  /** The IP two pods have (how its problem reads: "<ip> is used by pod …"). */
  readonly duplicate: string;
  /** 1-based line of the duplicated IP. */
  readonly line: number;
  /** The IP's character that differs from the original, counted from the end (1: the last), and the original's. */
  readonly fromEnd: number;
  readonly originalChar: string;
}

/**
 * The cluster's text with pod `2k + 1` given pod `2k`'s IP (one ip.duplicate problem, which names that IP: the
 * other file's, still listed in the Problems panel, names another).
 */
function writeCluster(dir: string, size: ClusterSize, k: number): Written {
  const lines = netpathCluster(size).split('\n');
  const ipLines = lines.flatMap((l, i) => (/^ {4}ip: /.test(l) ? [i] : []));
  const [first, second] = ipLines.slice(2 * k);
  const duplicate = lines[first].slice('    ip: '.length);
  const original = lines[second].slice('    ip: '.length);
  // Pods 2k and 2k + 1 are on neighbouring nodes: their IPs differ in one character (10.128.1.2, 10.128.2.2).
  const differs = [...original].flatMap((c, i) => (c !== duplicate[i] ? [i] : []));
  if (original.length !== duplicate.length || differs.length !== 1)
    throw new Error(`pod IPs ${original} and ${duplicate} must differ in exactly one character`);
  lines[second] = `    ip: ${duplicate}`;
  const file = path.join(dir, `${size.name}.netpath.yaml`);
  fs.writeFileSync(file, lines.join('\n'));
  const floor = path.join(dir, `${size.name}.floor.txt`);
  fs.writeFileSync(floor, lines.join('\n'));
  return {
    file,
    floor,
    duplicate,
    line: second + 1,
    fromEnd: original.length - differs[0],
    originalChar: original[differs[0]],
  };
}

const median = (xs: readonly number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(wb: Workbench, w: Written, stateDir: string): Promise<Record<string, number>> {
  const name = path.basename(w.file);
  const duplicateRow = wb.problems(`${w.duplicate} is used by`).first();
  const t0 = performance.now();
  await wb.openQuick(name, 'apiVersion');
  await wb.runCommand('View: Focus Problems');
  await duplicateRow.waitFor({ timeout: CHANGE_TIMEOUT });
  const open = performance.now() - t0;
  // Back to the editor, on the duplicated value's last character.
  await wb.runCommand('View: Focus Active Editor Group');
  await recordKeys(wb);
  const timed = await editAndUndo(wb, w, name, duplicateRow);
  // Where the time of each edit and undo went: the trip to the extension host, NetPath's analysis up to its model
  // stage's diagnostics, and the trip back to the squiggles (the floor's two trips, below, are the same kind).
  const split = trips(w, await recordedKeys(wb), timed.doneAt, modelStages(stateDir));
  // The same keys with NetPath off (the folder's settings): what typing costs without it, on this machine now. In
  // turn, on and off twice each: typed later, the same keys were faster whatever the setting (a 15,000-pod file's
  // keys took 32 ms with NetPath on right after the edits and 21 ms with it on again half a minute later), so one
  // turn of each set the first against the second.
  const settings = path.join(path.dirname(w.file), '.vscode', 'settings.json');
  const on: number[] = [];
  const off: number[] = [];
  for (let turn = 0; turn < 2; turn++) {
    on.push(...(await typing(wb)));
    await wb.runCommand('File: Revert File');
    fs.mkdirSync(path.dirname(settings), { recursive: true });
    fs.writeFileSync(settings, JSON.stringify({ 'netpath.enable': false }));
    await new Promise((r) => setTimeout(r, 2000));
    off.push(...(await typing(wb)));
    fs.rmSync(settings);
    await wb.runCommand('File: Revert File');
    // NetPath on again analyses the file anew: the next turn's keys are typed while it does, as after an edit.
    await new Promise((r) => setTimeout(r, 2000));
  }
  await wb.runCommand('View: Close All Editors');
  await new Promise((r) => setTimeout(r, 2000));
  return {
    open,
    edit: timed.panel.edit,
    undo: timed.panel.undo,
    'edit (editor)': timed.editor.edit,
    'undo (editor)': timed.editor.undo,
    'key to extension host': split.to,
    'edit (extension: change to diagnostics)': split.inside.edit,
    'undo (extension: change to diagnostics)': split.inside.undo,
    'extension host to squiggles': split.back,
    typing: median(on),
    'typing worst': Math.max(...on),
    'typing off': median(off),
    'typing worst off': Math.max(...off),
    'typing over off': median(on) - median(off),
  };
}

/**
 * The floor: the same text and the same keys in a `.floor.txt` copy, whose squiggles come from the probe extension
 * (bench/editor-floor) with no parse, model or worker. What is left of NetPath's time above it is NetPath's. Run last
 * for a size (the copy open in the editor would be the first file Quick Open offers the next step).
 */
async function measureFloor(wb: Workbench, w: Written, stateDir: string): Promise<Record<string, number>> {
  const floorName = path.basename(w.floor);
  await wb.openQuick(floorName, 'apiVersion');
  await goToLine(wb, w.line);
  if (!(await squigglesWithin(wb, CHANGE_TIMEOUT)))
    throw new Error(`the floor probe drew no squiggle in ${floorName}: is bench/editor-floor installed?`);
  await recordKeys(wb);
  const floor = await editAndUndo(wb, w, floorName);
  const split = trips(w, await recordedKeys(wb), floor.doneAt, probeLog(stateDir));
  await wb.runCommand('File: Revert File');
  await wb.runCommand('View: Close All Editors');
  return {
    'edit (editor), floor': floor.editor.edit,
    'undo (editor), floor': floor.editor.undo,
    'floor: key to extension host': split.to,
    'floor: extension host to squiggles': split.back,
  };
}

/** Starts recording the page's key presses on the machine's clock, to set beside the extensions' logs (see trips). */
async function recordKeys(wb: Workbench): Promise<void> {
  await wb.page.evaluate(() => {
    const page = window as unknown as { benchKeys?: [string, boolean, number][] };
    // Once per page: the listener stays, the list starts again.
    if (!page.benchKeys)
      window.addEventListener('keydown', (e) => page.benchKeys?.push([e.key, e.ctrlKey, Date.now()]), true);
    page.benchKeys = [];
  });
}

/** The key presses recorded since recordKeys: key, Ctrl held, when (ms since the epoch). */
function recordedKeys(wb: Workbench): Promise<[string, boolean, number][]> {
  return wb.page.evaluate(() => (window as unknown as { benchKeys?: [string, boolean, number][] }).benchKeys ?? []);
}

/**
 * Where the time of the edits and undos went, each leg the median over them: `to`, from the key's keydown in the page
 * until the extension heard of the change (the workbench handling the key, then the trip to the extension host);
 * `inside`, from then until the extension set the diagnostics (NetPath's analysis up to its model stage; about 0 for
 * the floor probe), for the edits and the undos apart; `back`, from then until the bench saw the squiggles change (the
 * trip back, the markers and the frame). The clocks agree to a millisecond or two: the page's Date.now and the
 * extension host's are the same machine's, and the log's timestamps have milliseconds.
 */
function trips(
  w: Written,
  keys: readonly (readonly [string, boolean, number])[],
  doneAt: { readonly edit: readonly number[]; readonly undo: readonly number[] },
  changes: readonly { readonly arrived: number; readonly set: number }[],
): { to: number; inside: { edit: number; undo: number }; back: number } {
  const to: number[] = [];
  const back: number[] = [];
  const inside = { edit: [] as number[], undo: [] as number[] };
  const split = (done: number, kind: 'edit' | 'undo', isKey: (key: string, ctrl: boolean) => boolean): void => {
    const key = keys.filter(([k, ctrl, t]) => isKey(k, ctrl) && t <= done).at(-1);
    // A log's milliseconds are whole: a change logged as arriving a millisecond before the key is that key's.
    const change = key && changes.find((c) => c.arrived >= key[2] - 2 && c.set <= done + 2);
    to.push(key && change ? Math.max(0, change.arrived - key[2]) : Number.NaN);
    inside[kind].push(change ? change.set - change.arrived : Number.NaN);
    back.push(change ? Math.max(0, done - change.set) : Number.NaN);
  };
  for (const done of doneAt.edit) split(done, 'edit', (k, ctrl) => k === w.originalChar && !ctrl);
  for (const done of doneAt.undo) split(done, 'undo', (k, ctrl) => k.toLowerCase() === 'z' && ctrl);
  // A key whose change the logs do not show is left out of its leg's median (NaN when none is left).
  const leg = (xs: readonly number[]): number => {
    const known = xs.filter(Number.isFinite);
    return known.length ? median(known) : Number.NaN;
  };
  return { to: leg(to), inside: { edit: leg(inside.edit), undo: leg(inside.undo) }, back: leg(back) };
}

/**
 * NetPath's analyses as its log tells them (src/vscode/analyses.ts): when the change arrived at the extension host and
 * when the model stage's diagnostics were set, on the machine's clock. The log line is written when the analysis ends;
 * it says how long it took, how long after the last change it started and when the model stage was published.
 */
function modelStages(dir: string): { arrived: number; set: number }[] {
  return analysisLog(dir).flatMap((l) => {
    const m =
      /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) \[info\] analysed .* in (\d+) ms .*model stage published (\d+) ms after the start, started (\d+) ms after the last change/.exec(
        l,
      );
    if (!m) return [];
    // The log's time is local, as Date reads a date and time without a zone.
    const start = new Date(`${m[1]}T${m[2]}`).getTime() - Number(m[3]);
    const arrived = start - Number(m[5]);
    return Number.isFinite(arrived) ? [{ arrived, set: start + Number(m[4]) }] : [];
  });
}

/** The floor probe's log: when each change arrived at the extension host and when its squiggles were set. */
function probeLog(dir: string): { arrived: number; set: number }[] {
  return logLines(dir, /NetPath floor probe\.log$/).flatMap((l) => {
    const m = / change arrived (\d+) set (\d+)/.exec(l);
    return m ? [{ arrived: Number(m[1]), set: Number(m[2]) }] : [];
  });
}

interface EditTimes {
  readonly edit: number;
  readonly undo: number;
}

/**
 * EDIT_ROUNDS times: types the character that ends the duplicate (one edit) and times it until the squiggles are
 * gone, then Ctrl+Z until they are back; medians. With `problemRow`, also until the row leaves and comes back to
 * the Problems panel (`panel`). The editor must be focused on `name`.
 */
async function editAndUndo(
  wb: Workbench,
  w: Written,
  name: string,
  problemRow?: Locator,
): Promise<{ editor: EditTimes; panel: EditTimes; doneAt: { edit: number[]; undo: number[] } }> {
  const doneAt = { edit: [] as number[], undo: [] as number[] };
  const edits: number[] = [];
  const undos: number[] = [];
  const editsInEditor: number[] = [];
  const undosInEditor: number[] = [];
  const panel = (shown: boolean, t: number): Promise<number> =>
    problemRow
      ? problemRow
          .waitFor({ state: shown ? 'visible' : 'detached', timeout: CHANGE_TIMEOUT })
          .then(() => performance.now() - t)
      : Promise.resolve(Number.NaN);
  for (let i = 0; i < EDIT_ROUNDS; i++) {
    await goToLine(wb, w.line);
    await wb.page.keyboard.press('End');
    // Select the character that makes it a duplicate; typing the original's over it is one edit (one undo).
    for (let k = 1; k < w.fromEnd; k++) await wb.page.keyboard.press('ArrowLeft');
    await wb.page.keyboard.press('Shift+ArrowLeft');
    // The duplicated IP's line is under the cursor: its error squiggle is on screen, or there is nothing to time.
    if (!(await squiggles(wb)))
      throw new Error(`no error squiggle on screen at line ${w.line} of ${name}: the edit would time nothing`);
    const t1 = performance.now();
    const keyAt = new Date();
    await wb.page.keyboard.type(w.originalChar);
    const [editEditor, editPanel] = await Promise.all([
      squigglesBecome(wb, false).then(() => (doneAt.edit.push(Date.now()), performance.now() - t1)),
      panel(false, t1),
    ]);
    // When the key went, on the clock of the extension's log (same machine): its `analysed` line says when the
    // change arrived there and when the diagnostics were published, so the trip each way can be read off.
    process.stderr.write(
      `  edit ${i + 1} of ${name}: key at ${keyAt.toISOString()}, squiggles gone ${editEditor.toFixed(0)} ms later\n`,
    );
    edits.push(editPanel);
    editsInEditor.push(editEditor);
    const t2 = performance.now();
    const undoAt = new Date();
    await wb.page.keyboard.press('Control+Z');
    const [undoEditor, undoPanel] = await Promise.all([
      squigglesBecome(wb, true).then(() => (doneAt.undo.push(Date.now()), performance.now() - t2)),
      panel(true, t2),
    ]);
    process.stderr.write(
      `  undo ${i + 1} of ${name}: key at ${undoAt.toISOString()}, squiggles back ${undoEditor.toFixed(0)} ms later\n`,
    );
    undos.push(undoPanel);
    undosInEditor.push(undoEditor);
  }
  return {
    editor: { edit: median(editsInEditor), undo: median(undosInEditor) },
    panel: { edit: median(edits), undo: median(undos) },
    doneAt,
  };
}

/** Ctrl+G to a 1-based line (the editor scrolls it into view: squiggles are drawn only on lines on screen). */
async function goToLine(wb: Workbench, line: number): Promise<void> {
  await wb.page.keyboard.press('Control+G');
  await wb.page.keyboard.type(String(line));
  await wb.page.keyboard.press('Enter');
}

/** Whether the editor shows an error squiggle (every one of the file's problems is an error). */
function squiggles(wb: Workbench): Promise<boolean> {
  return wb.page.evaluate(() => document.querySelector('.monaco-editor .squiggly-error') !== null);
}

/** Whether error squiggles are drawn within `ms` (a file just opened, its diagnostics still on their way). */
async function squigglesWithin(wb: Workbench, ms: number): Promise<boolean> {
  return squigglesBecome(wb, true, ms).then(
    () => true,
    () => false,
  );
}

/**
 * Waits, checking at every frame, until the editor shows error squiggles (`shown`) or none: where a person typing
 * sees a diagnostic come and go first. The Problems panel follows later: VS Code gathers marker changes for 64 ms
 * before it updates the panel (its own debounce), so the panel's time is not the extension's alone.
 */
async function squigglesBecome(wb: Workbench, shown: boolean, timeout = CHANGE_TIMEOUT): Promise<void> {
  await wb.page.waitForFunction(
    (want) => (document.querySelector('.monaco-editor .squiggly-error') !== null) === want,
    shown,
    { polling: 'raf', timeout },
  );
}

/**
 * Types 20 keys into a new comment line at the end of the active editor, one every 100 ms (a quick typist), and
 * times each from the key press until the workbench drew the next frame: the renderer has taken the key and
 * painted it. Leaves the file changed (the caller reverts it).
 */
async function typing(wb: Workbench): Promise<number[]> {
  await wb.runCommand('View: Focus Active Editor Group');
  await wb.page.keyboard.press('Control+End');
  await wb.page.keyboard.press('Enter');
  await wb.page.keyboard.type('# ');
  const frame = () => wb.page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => r())));
  const times: number[] = [];
  for (const key of 'typinglatencyprobexy') {
    const t0 = performance.now();
    await wb.page.keyboard.press(key);
    await frame();
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
  }
  return times;
}

/**
 * Waits until the extension has no analysis under way: its log has said nothing new for a second and a half and the
 * last word about an analysis is that one ended (`analysed`). The typing step turns NetPath off and on through the
 * folder's settings, and each change starts a whole analysis (seconds for 15,000 pods): the topology view is timed
 * from a file already analysed, not while an analysis the bench itself started is running. Bounded: after `timeoutMs`
 * it goes on (the log printed at the end then says why the figure is large).
 */
async function analysesSettled(dir: string, timeoutMs = 120_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  let seen = -1;
  let quietSince = performance.now();
  while (performance.now() < until) {
    const lines = analysisLog(dir).filter((l) => / (analysed|dropped|stopping|regrouped) /.test(l));
    if (lines.length !== seen) {
      seen = lines.length;
      quietSince = performance.now();
    } else if (performance.now() - quietSince > 1500 && / analysed /.test(lines.at(-1) ?? ' analysed ')) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The extension's log lines about analyses (NetPath's output channel, written under the instance's logs folder). */
function analysisLog(dir: string): string[] {
  return logLines(dir, /NetPath\.log$/).filter((l) => / (analysed|dropped|stopping|regrouped|topology view) /.test(l));
}

/** The lines of the output channels' log files under `dir` whose names match `name`. */
function logLines(dir: string, name: RegExp): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (name.test(e.name)) found.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n'));
}

/** Packages the floor probe (bench/editor-floor, never shipped) into `dir`; returns the .vsix's path. */
function packageFloorProbe(dir: string): string {
  const out = path.join(dir, 'floor-probe.vsix');
  execFileSync(
    process.execPath,
    [
      path.join(root, 'node_modules/@vscode/vsce/vsce'),
      'package',
      '--no-dependencies',
      '--skip-license',
      '--allow-missing-repository',
      '--out',
      out,
    ],
    { cwd: path.join(root, 'bench/editor-floor'), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return out;
}

async function main(): Promise<void> {
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} is missing: run \`node scripts/package.mjs\` first`);
  const server = (await import('../scripts/vscode-host/server.mjs')) as {
    prepareState(name: string): { dir: string; logFile: string };
    installExtension(state: unknown, vsix: string): Promise<void>;
    discardState(state: unknown): void;
    startCodeServer(o: { name: string; state: unknown }): Promise<{
      folderUrl(dir: string): string;
      stop(): Promise<void>;
    }>;
  };
  const install = (await import('../scripts/vscode-host/install.mjs')) as { ensureCodeServer(): Promise<void> };
  await install.ensureCodeServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-editor-bench-'));
  const written = sizes.map((s) => ({ size: s, w: writeCluster(dir, s, EDITOR_SIZES.indexOf(s)) }));
  const state = server.prepareState('editor-bench');
  await server.installExtension(state, vsix);
  await server.installExtension(state, packageFloorProbe(state.dir));
  const cs = await server.startCodeServer({ name: 'editor-bench', state });
  const out: Record<string, number> = {};
  const shots = path.join(root, 'test-output/bench/editor');
  let wb: Workbench | undefined;
  try {
    wb = await Workbench.open(cs.folderUrl(dir), shots);
    await recordLongTasks(wb);
    for (const { size, w } of written) {
      const r = await measure(wb, w, state.dir);
      Object.assign(
        r,
        await measureTopologyView(wb, path.basename(w.file), `${w.duplicate} is used by`, () =>
          analysesSettled(state.dir),
        ),
      );
      Object.assign(r, await measureFloor(wb, w, state.dir));
      r['edit (editor) over floor'] = r['edit (editor)'] - r['edit (editor), floor'];
      for (const [k, v] of Object.entries(r)) out[`${size.name} ${k}`] = v;
      process.stderr.write(`  editor, ${size.name}: ${JSON.stringify(r)}\n`);
    }
  } catch (err) {
    await wb?.screenshot('failed').catch(() => {});
    throw err;
  } finally {
    await wb?.close();
    await cs.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    for (const line of analysisLog(state.dir)) process.stderr.write(`  log: ${line}\n`);
  }
  server.discardState(state);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`editor bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
