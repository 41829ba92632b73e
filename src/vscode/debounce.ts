/**
 * How long the editor waits after a change before analysing (Analyses.schedule). No `vscode` import: the policy is
 * plain arithmetic, tested on its own (test/unit/editor/debounce.test.ts).
 */

/** The longest wait after a change before analysing (a large topology's, while the user types). */
export const MAX_DEBOUNCE_MS = 300;

/**
 * The wait before analysing after a change. The first change after a pause is analysed at once: nothing is gained by
 * waiting, and the person who made one edit sees its diagnostics as soon as they can be had (an edit used to wait as
 * long as the last analysis took, which was most of the time to diagnostics on a small file). A change that follows
 * the previous one sooner than the topology's last analysis took is part of a burst of keys: it waits until the
 * typing pauses for that long (at most MAX_DEBOUNCE_MS), so a burst starts at most two analyses (the first key's,
 * stopped in place by the last if it still runs) instead of one per key.
 *
 * @param lastAnalysisMs how long the topology's last published analysis took; undefined before the first
 * @param sincePreviousChangeMs time since the previous change to its documents; undefined for the first change
 */
export function delayAfterChange(
  lastAnalysisMs: number | undefined,
  sincePreviousChangeMs: number | undefined,
): number {
  const pause = Math.min(MAX_DEBOUNCE_MS, lastAnalysisMs ?? 0);
  return sincePreviousChangeMs === undefined || sincePreviousChangeMs >= pause ? 0 : pause;
}
