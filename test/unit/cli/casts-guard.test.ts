/**
 * The lint guard against unchecked casts (issue 17, scripts/check-casts.mjs): a type assertion in src/core,
 * src/protocol or src/cli passes only when scripts/casts-allowed.json lists it with a reason; a new one fails lint
 * naming its file and line, and so does a listed one that is gone. The repository itself passes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../../../scripts/check-casts.mjs');

function check(files: Record<string, string>, allowed: object) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-casts-'));
  try {
    for (const [p, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      fs.writeFileSync(path.join(root, p), text);
    }
    fs.mkdirSync(path.join(root, 'scripts'));
    fs.writeFileSync(path.join(root, 'scripts/casts-allowed.json'), JSON.stringify(allowed));
    const r = spawnSync(process.execPath, [SCRIPT], {
      env: { ...process.env, NETPATH_CASTS_ROOT: root },
      encoding: 'utf8',
    });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

describe('lint: unchecked casts', () => {
  const source =
    "export const kind = (v: unknown) => (v as { kind: string }).kind;\nexport const k = ['a'] as const;\n";

  it('a cast of a value in src/core that is not listed fails, naming file, line and cast; as const is no cast', () => {
    const r = check({ 'src/core/read.ts': source }, {});
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /^src\/core\/read\.ts:1: unchecked cast 'v as \{ kind: string \}'$/m);
    assert.doesNotMatch(r.out, /as const/);
  });

  it('a listed cast with its reason passes; one listed but gone fails', () => {
    const allowed = { 'src/core/read.ts': { 'v as { kind: string }': 'v was checked by the caller' } };
    assert.equal(check({ 'src/core/read.ts': source }, allowed).status, 0);
    const gone = check({ 'src/core/read.ts': 'export const x = 1;\n' }, allowed);
    assert.equal(gone.status, 1);
    assert.match(gone.out, /'v as \{ kind: string \}' is listed for src\/core\/read\.ts but not there any more/);
  });

  it('the repository passes: every cast there is listed with a reason', () => {
    const r = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
