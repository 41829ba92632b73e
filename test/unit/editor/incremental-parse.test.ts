/**
 * The worker's parse of an edit inside one list item (src/vscode/incremental-parse.ts) is the parse of the whole new
 * text: the same tree, every span included, and the same analysis, for random edits of a generated topology. The
 * work saved is counted (characters read), never timed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { kubernetesList, netpathCluster } from '../../../bench/cluster';
import { analyse } from '../../../src/core';
import { parseYamlFile, type ParsedFile, type YNode } from '../../../src/core/syntax/yaml';
import { reparseEdit } from '../../../src/vscode/incremental-parse';
import { ParseCache } from '../../../src/vscode/parse-cache';

const FILE = '/w/cluster.netpath.yaml';
const TEXT = netpathCluster({ name: 'small', nodes: 3, pods: 12, services: 4 });
/** Kubernetes manifests, several documents in one file, block style with nested lists (containers, ports). */
/** A `kubectl get -o yaml` List dump: its items at column 0, and lists written at their key's column. */
const LIST = kubernetesList({ name: 'list', nodes: 2, pods: 4, services: 2 });
const MANIFESTS = fs.readFileSync(path.resolve(__dirname, '../../../examples/network-policies/workloads.yaml'), 'utf8');

/** A tree as plain data, spans included, for deepEqual. */
function plain(n: YNode | undefined): unknown {
  if (!n) return null;
  const at = [n.span.file, n.span.start, n.span.end];
  if (n.kind === 'scalar') return { at, value: n.value, source: n.source };
  if (n.kind === 'seq') return { at, items: n.items.map(plain) };
  return { at, entries: n.entries.map((e) => [e.key, e.keySpan.start, e.keySpan.end, e.keySpan.file, plain(e.value)]) };
}

const plainFile = (p: ParsedFile) => ({
  problems: p.problems,
  documents: p.documents.map((d) => ({ index: d.index, span: d.span, root: plain(d.root) })),
});

/**
 * One edit: at a place in the text, delete some characters and insert others: mostly what typing a value inserts,
 * sometimes YAML's punctuation and line breaks (which may change the structure, or break it).
 */
const edit = fc.record({
  at: fc.nat({ max: 1_000_000 }),
  remove: fc.nat({ max: 12 }),
  insert: fc.oneof(
    { arbitrary: fc.array(fc.constantFrom('a', 'b', '7', '.', ' '), { maxLength: 6 }), weight: 3 },
    {
      arbitrary: fc.array(
        fc.constantFrom(
          'a',
          '7',
          ' ',
          ' ',
          ':',
          '-',
          '\n',
          '\n    ',
          '\n      x: ',
          '#',
          '"',
          "'",
          '[',
          ']',
          '{',
          ',',
          '|',
        ),
        { maxLength: 6 },
      ),
      weight: 2,
    },
  ),
});

function apply(text: string, e: { at: number; remove: number; insert: string[] }): string {
  const at = e.at % (text.length + 1);
  return text.slice(0, at) + e.insert.join('') + text.slice(at + e.remove);
}

describe('editor: an edit inside one list item re-reads only that item', function () {
  // Hundreds of whole parses of broken text (the library's path) to compare with: slow on a loaded machine.
  this.timeout(120_000);
  it('gives the tree a whole parse gives, spans included, for random edits in a row', () => {
    let partial = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(TEXT, MANIFESTS, LIST),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        (start, edits) => {
          let text = start;
          let parsed = parseYamlFile(FILE, text);
          for (const e of edits) {
            const next = apply(text, e);
            const whole = parseYamlFile(FILE, next);
            const edited = reparseEdit(FILE, text, parsed, next);
            if (edited) {
              partial++;
              if (!isDeepStrictEqual(plainFile(edited.parsed), plainFile(whole)))
                assert.deepEqual(plainFile(edited.parsed), plainFile(whole), JSON.stringify({ text, next }));
            }
            text = next;
            parsed = edited?.parsed ?? whole;
          }
        },
      ),
      { numRuns: 300 },
    );
    assert.ok(partial > 20, `edits re-read in part (${partial} did)`);
  });

  it('analyses as a whole parse does: the diagnostics with their ranges', () => {
    fc.assert(
      fc.property(fc.constantFrom(TEXT, LIST), fc.array(edit, { minLength: 1, maxLength: 3 }), (start, edits) => {
        const cache = new ParseCache();
        let text = start;
        cache.parse({ path: FILE, text });
        for (const e of edits) text = apply(text, e);
        const files = [{ path: FILE, text }];
        assert.deepEqual(analyse(files, { parse: cache.parse }).diagnostics, analyse(files).diagnostics);
      }),
      { numRuns: 60 },
    );
  });

  it("re-reads one pod's lines, not the file, when a pod's IP is edited", () => {
    const text = netpathCluster({ name: '300-pods', nodes: 10, pods: 300, services: 50 });
    const cache = new ParseCache();
    cache.parse({ path: FILE, text });
    const ip = text.indexOf('    ip: ', text.length / 2) + '    ip: '.length;
    const next = `${text.slice(0, ip)}9${text.slice(ip + 1)}`;
    cache.forgetOthers([{ path: FILE, text: next }]);
    const files = [{ path: FILE, text: next }];
    const incremental = analyse(files, { parse: cache.parse });
    assert.deepEqual([cache.parsed, cache.partly], [1, 1], 'parsed once, only the edited item');
    assert.ok(cache.charsRead < 200, `read ${cache.charsRead} of ${next.length} characters`);
    assert.deepEqual(incremental.diagnostics, analyse(files).diagnostics);
    assert.deepEqual(plainFile(incremental.parsed[0]), plainFile(parseYamlFile(FILE, next)));
  });
});
