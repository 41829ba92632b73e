/**
 * Who owns SIGINT/SIGTERM (issue 17): only the commands that make namespaces, processes or files are stoppable (the
 * process turns the signal into an abort of `io.signal` and the command cleans up); every other command ends at once
 * as any process does. A stopped command returns the shell's code for the signal to `main`, and the process then
 * ends by the signal itself, after what it printed has gone out.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { COMMANDS } from '../../../src/cli/commands';
import { EXIT, exitForStop } from '../../../src/cli/command';

describe('cli: stopping a command', () => {
  it('verify and lab are stoppable; lint, trace, rules and reach end with the signal', () => {
    assert.deepEqual(
      COMMANDS.filter((c) => c.stoppable)
        .map((c) => c.name)
        .sort(),
      ['lab', 'verify'],
    );
  });

  it('a stop by SIGTERM exits 143, by SIGINT 130, and any other abort as SIGINT', () => {
    const aborted = (reason?: unknown): AbortSignal => {
      const c = new AbortController();
      c.abort(reason);
      return c.signal;
    };
    assert.equal(exitForStop(aborted('SIGTERM')), EXIT.sigterm);
    assert.equal(exitForStop(aborted('SIGINT')), EXIT.sigint);
    assert.equal(exitForStop(aborted()), EXIT.sigint);
    assert.deepEqual([EXIT.sigint, EXIT.sigterm], [130, 143]);
  });

  /** Runs endProcess(outcome) in a child process that first printed `lines` lines; how it ended and what it printed. */
  function endIn(outcome: string, lines: number) {
    const main = path.resolve(__dirname, '../../../src/cli/main.ts');
    const script = `const { endProcess } = require(${JSON.stringify(main)});
      // As runProcess leaves it: its listener added for the run and removed before the end.
      const listener = () => {};
      process.on('SIGINT', listener); process.on('SIGTERM', listener);
      process.off('SIGINT', listener); process.off('SIGTERM', listener);
      for (let i = 0; i < ${lines}; i++) process.stdout.write('line ' + i + ' of the report\\n');
      process.stderr.write('netpath verify: interrupted\\n');
      endProcess(${outcome});`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
      (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`a command stopped by ${signal} ends the process by ${signal}, after all it printed`, async function () {
      this.timeout(30000);
      const out = await endIn(`{ code: ${signal === 'SIGINT' ? 130 : 143}, stoppedBy: '${signal}' }`, 20000);
      assert.deepEqual({ code: out.code, signal: out.signal }, { code: null, signal }, out.stderr);
      assert.equal(out.stdout.split('\n').length - 1, 20000, 'every line printed before the signal arrived');
      assert.equal(out.stderr, 'netpath verify: interrupted\n');
    });
  }

  it('a command that ends by itself exits with its code, by no signal', async function () {
    this.timeout(30000);
    const out = await endIn('{ code: 1 }', 3);
    assert.deepEqual({ code: out.code, signal: out.signal }, { code: 1, signal: null }, out.stderr);
    assert.equal(out.stdout, 'line 0 of the report\nline 1 of the report\nline 2 of the report\n');
  });
});
