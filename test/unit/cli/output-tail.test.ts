/**
 * `npm test` prints why a failed step failed again above its summary table (scripts/lib/output-tail.mjs): CI keeps
 * only the end of a run's output, and the tiers after a failed one print hundreds of lines.
 */
import assert from 'node:assert/strict';
import { OutputTail, WHY_LINES, whyItFailed } from '../../../scripts/lib/output-tail.mjs';

/** A vscode-tier run as its runner prints it: many passing tests, then mocha's failures. */
function failedRun(passing: number) {
  const lines = Array.from({ length: passing }, (_, i) => `[+ ${i}.0s]     ✔ test ${i} (12ms)`);
  lines.push(
    `[+ 40.1s]   ${passing} passing (35s)`,
    '[+ 40.1s]   1 failing',
    '[+ 40.1s]   1) Editor diagnostics',
    '[+ 40.1s]        no second analysis of one change:',
    '[+ 40.1s]      AssertionError: 3 !== 2',
    '[vscode] failed in 41.0s',
  );
  return lines;
}

describe('npm test: why a step failed', () => {
  it("mocha's failures are printed again, from its count of failing tests to the step's last words", () => {
    const tail = new OutputTail(400);
    for (const line of failedRun(900)) tail.write(`${line}\n`);
    tail.write('\n\n  \n');
    assert.deepEqual(whyItFailed(tail.lines()), failedRun(900).slice(-5));
  });

  it("without mocha's count, the step's last lines are printed, at most WHY_LINES of them", () => {
    const tail = new OutputTail(400);
    for (let i = 0; i < 1000; i++) tail.write(`line ${i}\n`);
    tail.write('npm ERR! code E404');
    const why = whyItFailed(tail.lines());
    assert.equal(why.length, WHY_LINES);
    assert.equal(why.at(-1), 'npm ERR! code E404', 'a last line without a newline is kept');
    assert.equal(why[0], `line ${1000 - WHY_LINES + 1}`);
  });

  it("without mocha's count, blank lines around the last lines are dropped", () => {
    assert.deepEqual(whyItFailed(['', '  ', '[kernel] stopped', 'ended by SIGTERM', '', '']), [
      '[kernel] stopped',
      'ended by SIGTERM',
    ]);
  });

  it('a long list of failures is cut, saying how many lines were left out', () => {
    const lines = ['  2 failing', ...Array.from({ length: 100 }, (_, i) => `    at frame ${i}`)];
    const why = whyItFailed(lines);
    assert.equal(why.length, WHY_LINES + 1);
    assert.equal(why[0], '  2 failing');
    assert.equal(why.at(-1), `… and ${101 - WHY_LINES} more lines`);
  });

  it('a character split between two chunks of output is kept whole', () => {
    const tail = new OutputTail(10);
    const bytes = Buffer.from('  ✔ résumé\n', 'utf8');
    const cut = bytes.indexOf(0x94); // inside the three bytes of ✔
    tail.write(bytes.subarray(0, cut));
    tail.write(bytes.subarray(cut));
    assert.deepEqual(tail.lines(), ['  ✔ résumé']);
  });
});
