/**
 * The analysis worker's parse cache (src/vscode/parse-cache.ts): an edit to one file of a topology re-parses that
 * file only, and the analysis is the same as one that parsed everything.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, type SourceFile } from '../../../src/core';
import { ParseCache } from '../../../src/vscode/parse-cache';

const DIR = path.resolve(__dirname, '../../../examples/network-policies');
const files: SourceFile[] = fs
  .readdirSync(DIR)
  .filter((n) => n.endsWith('.yaml'))
  .map((n) => ({ path: path.join(DIR, n), text: fs.readFileSync(path.join(DIR, n), 'utf8') }));

describe('editor: the analysis worker keeps each file parse until its text changes', () => {
  it('re-parses only the edited file, and analyses exactly as a full parse does', () => {
    assert.ok(files.length >= 4, 'a topology of several files');
    const cache = new ParseCache();
    cache.forgetOthers(files);
    const first = analyse(files, { parse: cache.parse });
    assert.deepEqual([cache.parsed, cache.reused], [files.length, 0]);
    assert.deepEqual(first.diagnostics, analyse(files).diagnostics);

    // One file edited: a pod's label no longer matches what the policies select.
    const workloads = files.findIndex((f) => f.path.endsWith('workloads.yaml'));
    const edited = files.map((f, i) =>
      i === workloads ? { ...f, text: f.text.replace(/app: \w+/, 'app: renamed') } : f,
    );
    assert.notEqual(edited[workloads].text, files[workloads].text, 'the edit changed the file');
    cache.forgetOthers(edited);
    const second = analyse(edited, { parse: cache.parse });
    assert.deepEqual([cache.parsed, cache.reused], [1, files.length - 1], 'only the edited file was parsed');
    assert.deepEqual(second.diagnostics, analyse(edited).diagnostics, 'the same diagnostics as a full parse');
    assert.deepEqual(second.topology.pods, analyse(edited).topology.pods, 'the same model');
    assert.ok(
      second.topology.pods.some((p) => p.labels.app === 'renamed'),
      'the model has the edit',
    );
  });

  it('forgets the files an analysis no longer reads', () => {
    const cache = new ParseCache();
    cache.forgetOthers(files);
    for (const f of files) cache.parse(f);
    cache.forgetOthers(files.slice(1));
    cache.parse(files[0]);
    assert.deepEqual([cache.parsed, cache.reused], [1, 0], 'the dropped file is parsed anew when it comes back');
  });
});
