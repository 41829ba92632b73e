/**
 * The editor's wait between a change and its analysis (src/vscode/debounce.ts): a single edit is analysed at once,
 * a burst of keys once it pauses.
 */
import assert from 'node:assert/strict';
import { delayAfterChange, MAX_DEBOUNCE_MS } from '../../../src/vscode/debounce';

describe('editor: the wait before analysing a change', () => {
  it('analyses the first change of a document at once', () => {
    assert.equal(delayAfterChange(undefined, undefined), 0);
    assert.equal(delayAfterChange(2000, undefined), 0, 'even on a topology whose analysis is slow');
  });

  it('analyses a change after a pause at once, however long the last analysis took', () => {
    // The cold first analysis of a 300-pod file took 335 ms; the next edit came a second later.
    assert.equal(delayAfterChange(335, 1000), 0);
    assert.equal(delayAfterChange(5000, MAX_DEBOUNCE_MS), 0, 'a pause of the longest wait is a pause');
  });

  it('within a burst of keys, waits as long as the last analysis took', () => {
    assert.equal(delayAfterChange(120, 80), 120, 'keys 80 ms apart on a file analysed in 120 ms');
    assert.equal(delayAfterChange(40, 100), 0, 'keys slower than the analysis are each analysed');
  });

  it('never waits longer than MAX_DEBOUNCE_MS', () => {
    assert.equal(delayAfterChange(4000, 100), MAX_DEBOUNCE_MS);
  });
});
