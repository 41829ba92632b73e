/**
 * A reader that stops early (`netpath lint … | head`): the CLI stops printing and ends with its own exit code, never
 * with Node's unhandled EPIPE error and its stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

describe('cli: a pipe closed by its reader', () => {
  it('lint of every example and fixture (370 KB of JSON, more than a pipe holds) | head -c 100: lint exits 1 (findings) and prints nothing on stderr', async function () {
    this.timeout(60000);
    const root = path.resolve(__dirname, '../../..');
    const cli = `"${process.execPath}" --import tsx src/cli/main.ts lint examples test/fixtures --format json`;
    // A real shell pipe, as a person types it; bash's PIPESTATUS gives the CLI's own exit status.
    const child = spawn('bash', ['-c', `${cli} | head -c 100; s=\${PIPESTATUS[0]}; echo; echo "netpath exited $s"`], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    assert.match(stdout, /^\{\n {2}"diagnostics": \[/, 'head got the start of the JSON report');
    assert.equal(stderr, '', 'no error or stack trace');
    assert.match(stdout, /\nnetpath exited 1\n$/, "lint's own exit code: the examples have errors");
  });
});
