/**
 * A diagnostic rule: one stable dotted code, one file, one function from the analysed topology to
 * problems. Rules read the model (and, for NAT and routing, the compiled data plane) — never YAML.
 */
import type { Problem } from '../problem';
import type { Topology } from '../model/types';
import type { RangeIndex } from './ranges';

export interface RuleContext {
  readonly topology: Topology;
  /** Every address and range of the topology, parsed once, with its role and source. */
  readonly ranges: RangeIndex;
}

export interface Rule {
  /** Stable dotted code, e.g. `cidr.overlap`. */
  readonly code: string;
  /** One line: what the rule finds. Shown in docs/diagnostics.md and `netpath rules`. */
  readonly description: string;
  run(ctx: RuleContext): Problem[];
}
