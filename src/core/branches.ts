/**
 * A bound on how far one trace branches. Every random choice a packet meets (iptables' `-m statistic`, nftables'
 * `numgen`) splits its walk, and choices met one after another multiply: twenty 50/50 rules in a row make a million
 * paths. A walk shares one budget across every hook and node it crosses; once it is spent, a choice follows only
 * its likeliest side, and the trace says so (`trace.too-many-branches`) with the probability it did not follow.
 */

/**
 * Paths one trace follows at most. A Service's load balancing branches once per endpoint, and Kubernetes' scalability
 * thresholds allow 250 endpoints per Service (sig-scalability configs-and-limits/thresholds.md): 1,000 is four times
 * that. Each path of an n-way split also carries the n - 1 choices not taken before it (kube-proxy's KUBE-SVC chain
 * reads that way), so a trace's size grows with the square of its paths: 1,000 paths are about half a million steps.
 */
export const MAX_TRACE_PATHS = 1000;

/** What one walk may still split into; shared (and spent) by every evaluator the walk calls. */
export interface BranchBudget {
  /** Extra paths still allowed: a choice with k followed sides spends k - 1. */
  left: number;
  /** Choices that followed fewer sides than they have because the budget was spent. */
  choicesCut: number;
}

export function branchBudget(paths: number = MAX_TRACE_PATHS): BranchBudget {
  return { left: Math.max(0, paths - 1), choicesCut: 0 };
}

/**
 * The sides of one random choice to follow, given each side's probability: all of them while the budget lasts,
 * else the likeliest ones it still pays for (at least one), in their original order. Without a budget, all.
 */
export function followedSides(budget: BranchBudget | undefined, probabilities: readonly number[]): readonly number[] {
  const all = probabilities.map((_, i) => i);
  if (!budget || all.length <= 1) return all;
  if (budget.left >= all.length - 1) {
    budget.left -= all.length - 1;
    return all;
  }
  const keep = all
    .slice()
    .sort((a, b) => probabilities[b] - probabilities[a] || a - b)
    .slice(0, budget.left + 1)
    .sort((a, b) => a - b);
  budget.left = 0;
  budget.choicesCut++;
  return keep;
}
