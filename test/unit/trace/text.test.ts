/**
 * The trace as text (`netpath trace`): every golden trace, request and reply, printed at terminal widths
 * a person has and at full length (`--wide`): it fits, no cell is empty, nothing is said twice, colour only
 * when asked.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { terminalOf } from '../../../src/cli/command';
import { compileDataPlane } from '../../../src/core/dataplane';
import { buildTopology } from '../../../src/core/model/build';
import { formatTraceText, traceFlow, type TraceRequest, type TraceResult } from '../../../src/core/trace';
import { wrapText } from '../../../src/core/trace/text';

const ROOT = 'test/fixtures/traces';
const ESC = '\u001b';

function traces(): [string, TraceResult][] {
  return readdirSync(ROOT)
    .filter((d) => existsSync(path.join(ROOT, d, 'request.json')))
    .sort()
    .map((d) => {
      const text = readFileSync(path.join(ROOT, d, 'topology.yaml'), 'utf8');
      const { expect: _e, ...req } = JSON.parse(
        readFileSync(path.join(ROOT, d, 'request.json'), 'utf8'),
      ) as TraceRequest & {
        expect: unknown;
      };
      const built = buildTopology([{ path: 'topology.yaml', text }]);
      const dp = compileDataPlane(built.topology, { files: new Map([['topology.yaml', text]]) });
      const { result } = traceFlow(built.topology, { ...req, reply: true }, dp);
      assert.ok(result, d);
      return [d, result];
    });
}

/** The hop rows of a wide table: `#  netns  device  dir  src  dst  ttl  what happened`. */
// A hop row: its number, padded to the widest number of the table (hops 1 to 10 pad `1` with three spaces), then the namespace.
const hopRows = (text: string) => text.split('\n').filter((l) => /^\s+\d+ {2,}(pod|node|external):\S/.test(l));

describe('trace/text', () => {
  const all = traces();

  it('fits the terminal: no line longer than 60, 80, 100, 120 or 160 columns, with --verbose too', () => {
    for (const width of [60, 80, 100, 120, 160])
      for (const [name, r] of all)
        for (const line of formatTraceText(r, { width, verbose: width % 40 === 0 }).split('\n'))
          assert.ok(line.length <= width, `${name} at ${width} columns: ${line.length}: ${line}`);
  });

  it('narrow terminals keep every hop and every note, at 60 columns too', () => {
    for (const [name, r] of all) {
      const narrow = formatTraceText(r, { width: 60 }).replace(/\s+/g, ' ');
      for (const p of r.paths)
        for (const h of [...p.hops, ...(p.reply?.hops ?? [])]) {
          assert.ok(narrow.includes(h.netns), `${name}: ${h.netns}`);
          for (const s of h.steps)
            if (s.kind === 'deliver' || s.kind === 'drop') assert.ok(narrow.includes(s.detail), `${name}: ${s.detail}`);
        }
    }
  });

  it('--wide: one line per hop, and every hop says what happened', () => {
    for (const [name, r] of all) {
      const rows = hopRows(formatTraceText(r));
      const hops = r.paths.reduce((n, p) => n + p.hops.length + (p.reply?.hops.length ?? 0), 0);
      assert.equal(rows.length, hops, name);
      for (const row of rows) assert.ok(row.trim().split(/ {2,}/).length >= 8, `${name}: an empty cell in: ${row}`);
    }
  });

  it('says nothing twice: no "no-route (no-route)", no sentence repeated within a hop', () => {
    for (const [name, r] of all) {
      const text = formatTraceText(r);
      assert.doesNotMatch(text, /\b([\w-]+) \(\1\)/, name);
      for (const row of hopRows(text)) {
        const parts = row.trim().split(/ {2,}/).slice(7).join('  ').split('; ');
        parts.forEach((p, i) =>
          assert.ok(!parts.some((q, j) => j !== i && q.includes(p)), `${name}: "${p}" said twice in: ${row}`),
        );
      }
    }
  });

  it('--verbose: the chain walk under each hop, with the statistic branch taken or skipped and its probability', () => {
    const [, r] = all.find(([n]) => n === 'pod-to-service')!;
    const text = formatTraceText(r, { verbose: true });
    assert.match(
      text,
      /^ {5}PREROUTING nat: PREROUTING → KUBE-SERVICES → KUBE-SVC-\w+ → KUBE-SEP-\w+ \(50%\): DNAT; this branch 50%$/m,
    );
    assert.match(
      text,
      /^ {5}PREROUTING nat: PREROUTING → KUBE-SERVICES → KUBE-SVC-\w+ \(skips a 50% branch\) → KUBE-SEP-\w+: DNAT; this branch 50%$/m,
    );
    assert.match(text, /FORWARD filter: FORWARD → KUBE-PROXY-FIREWALL ↩ FORWARD → /);
    assert.doesNotMatch(formatTraceText(r), /PREROUTING nat:/, 'the walk only with --verbose');
  });

  it('colours only when asked: the disposition green or red, NAT yellow', () => {
    const [, served] = all.find(([n]) => n === 'pod-to-service')!;
    assert.ok(!formatTraceText(served).includes(ESC));
    const coloured = formatTraceText(served, { color: true, width: 120 });
    assert.ok(coloured.includes(`${ESC}[32mdelivered${ESC}[39m`), coloured);
    assert.ok(coloured.includes(`${ESC}[33mDNAT in node:`), coloured);
    const [, dropped] = all.find(([n]) => n === 'missing-route')!;
    assert.ok(formatTraceText(dropped, { color: true }).includes(`${ESC}[31mno-route${ESC}[39m`));
  });

  it('wraps at spaces and cuts only words longer than the line', () => {
    assert.deepEqual(wrapText('aa bb cc', 5), ['aa bb', 'cc']);
    assert.deepEqual(wrapText('abcdefgh ij', 4), ['abcd', 'efgh', 'ij']);
    assert.deepEqual(wrapText('short', 40), ['short']);
  });

  it('the terminal: a TTY gives width and colour, NO_COLOR wins, COLUMNS gives a pipe a width', () => {
    assert.deepEqual(terminalOf({ isTTY: true, columns: 90 }, {}), { columns: 90, color: true });
    assert.deepEqual(terminalOf({ isTTY: true, columns: 90 }, { NO_COLOR: '1' }), { columns: 90, color: false });
    assert.deepEqual(terminalOf({ isTTY: true, columns: 90 }, { NO_COLOR: '' }), { columns: 90, color: true });
    assert.deepEqual(terminalOf({}, {}), { columns: undefined, color: false });
    assert.deepEqual(terminalOf({}, { COLUMNS: '72', FORCE_COLOR: '1' }), { columns: 72, color: true });
  });
});
