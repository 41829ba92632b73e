/**
 * Names from a repository never reach the terminal raw: control characters (C0, C1, DEL), bidi overrides and
 * newlines inside names are escaped in text output, one diagnostic stays one line, and JSON/SARIF parse back to
 * the exact names.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { escapeControls, escapeOutput, quoted, QUOTED_MAX } from '../../../src/core';
import { main } from '../../../src/cli/main';

const HOSTILE = 'evil\u001b[2J\u001b]0;owned\u0007\u009b31m\u202egnp.exe\u007f\nx.yaml:1:1 error forged';
// Anything a terminal acts on: C0 but newline, DEL, C1, bidi controls.
// eslint-disable-next-line no-control-regex -- the characters under test
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

async function cli(args: string[], cwd: string, color = false) {
  let out = '';
  let err = '';
  const terminal = { color, columns: 200 };
  const code = await main(args, {
    cwd,
    out: (t) => (out += t),
    err: (t) => (err += t),
    ...(color ? { terminal } : {}),
  });
  return { code, out, err };
}

describe('cli: control characters from input are escaped', () => {
  let dir = '';
  let file = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-escape-'));
    file = path.join(dir, 'lab.netpath.yaml');
    fs.writeFileSync(
      file,
      [
        'apiVersion: netpath.dev/v1alpha1',
        'kind: Topology',
        'cluster: {podCIDRs: [10.244.0.0/16], serviceCIDRs: [10.96.0.0/12]}',
        'nodes: [{name: n1, podCIDR: 10.244.1.0/24}]',
        'pods:',
        `  - name: ${JSON.stringify(HOSTILE)}`,
        '    node: n1',
        '    ip: 10.96.0.5',
        '',
      ].join('\n'),
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('escapes every control character, bidi override and newline of one string', () => {
    assert.equal(escapeControls('a\u001b[1mb\nc\u202ed\u0085'), 'a\\u001b[1mb\\u000ac\\u202ed\\u0085');
    assert.equal(escapeOutput('a\u001b\nb\u2066'), 'a\\u001b\nb\\u2066');
  });

  it('lint text: one line per diagnostic, nothing raw', async () => {
    const r = await cli(['lint', file], dir);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.out, RAW);
    const lines = r.out.trimEnd().split('\n');
    assert.ok(
      lines.every((l) => /^(lab\.netpath\.yaml:\d+:\d+ (error|warning|info|hint) [a-z0-9.-]+ |\d+ error)/.test(l)),
      r.out,
    );
    assert.ok(!lines.some((l) => l.startsWith('x.yaml')), 'no forged line');
    assert.match(r.out, /evil\\u001b\[2J\\u001b\]0;owned\\u0007\\u009b31m\\u202egnp\.exe\\u007f\\u000ax\.yaml/);
  });

  for (const format of ['json', 'sarif']) {
    it(`lint ${format}: exact names once parsed, nothing raw on the terminal`, async () => {
      const r = await cli(['lint', '--format', format, file], dir);
      assert.doesNotMatch(r.out, RAW);
      assert.ok(r.out.includes(JSON.stringify(HOSTILE).slice(1, 20)) || r.out.includes('\\u001b'));
      const parsed = JSON.parse(r.out) as unknown;
      assert.ok(JSON.stringify(parsed).includes(JSON.stringify(HOSTILE).slice(1, -1)), 'the exact name survives');
    });
  }

  it('trace text and errors: nothing raw', async () => {
    const r = await cli(
      ['trace', file, '--from', `pod/default/${HOSTILE}`, '--to', '10.96.0.1:80', '--at', 'node/n1'],
      dir,
    );
    assert.doesNotMatch(r.out + r.err, RAW);
    const bad = await cli(['trace', file, '--from', 'pod/nobody', '--to', '10.96.0.1:80'], dir);
    assert.equal(bad.code, 2);
    assert.doesNotMatch(bad.err, RAW);
    assert.equal(bad.err.trimEnd().split('\n').length, 1, bad.err);
  });

  it("trace text in colour: NetPath's own colours kept, the names' escapes escaped", async () => {
    fs.writeFileSync(
      path.join(dir, 'ok.netpath.yaml'),
      fs
        .readFileSync(file, 'utf8')
        .replace('ip: 10.96.0.5', 'ip: 10.244.1.5')
        .replace('pods:', 'pods:\n  - {name: c, node: n1, ip: 10.244.1.6}'),
    );
    const r = await cli(
      ['trace', path.join(dir, 'ok.netpath.yaml'), '--from', 'pod/c', '--to', '10.244.1.5:80'],
      dir,
      true,
    );
    assert.ok(r.out.includes('\u001b[1m'), 'bold titles');
    assert.match(r.out, /evil\\u001b\[2J/);
    assert.doesNotMatch(r.out.replace(new RegExp(String.raw`\u001b\[[0-9;]*m`, 'g'), ''), RAW);
  });
});

describe('an argument an error quotes is cut when long', () => {
  it('quotes a short argument whole and a long one cut, with its length', () => {
    assert.equal(quoted('--formt'), "'--formt'");
    const long = 'x'.repeat(200_000);
    assert.equal(quoted(long), `'${'x'.repeat(QUOTED_MAX)}…' (200,000 characters)`);
  });

  it('never cuts a surrogate pair in two', () => {
    const value = `${'x'.repeat(QUOTED_MAX - 1)}😀tail`;
    assert.equal(quoted(value), `'${'x'.repeat(QUOTED_MAX - 1)}…' (${value.length} characters)`);
    assert.doesNotMatch(quoted(value), /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/, 'no lone high surrogate');
  });

  it('netpath trace with a 200,000-character endpoint: one short line that quotes its start', async () => {
    const err: string[] = [];
    const code = await main(['trace', 'examples/two-node-lab', '--from', 'pod/client', '--to', 'y'.repeat(200_000)], {
      cwd: path.resolve(__dirname, '../../..'),
      out: () => {},
      err: (t) => err.push(t),
    });
    assert.equal(code, 2);
    assert.equal(err.join('').split('\n').length, 2, 'one line');
    assert.ok(err.join('').length < 400, `${err.join('').length} characters`);
    assert.ok(err.join('').includes(`'${'y'.repeat(QUOTED_MAX)}…' (200,000 characters)`));
  });
});
