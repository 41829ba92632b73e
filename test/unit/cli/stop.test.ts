/**
 * Who owns SIGINT/SIGTERM (issue 17): only the commands that make namespaces, processes or files are stoppable (the
 * process turns the signal into an abort of `io.signal` and the command cleans up); every other command ends at once
 * as any process does. A stopped command exits with the shell's code for the signal.
 */
import assert from 'node:assert/strict';
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
});
