/**
 * A diagnostic rule: one stable dotted code, one file, one function from the analysed topology to
 * problems. Rules read the model (and, for NAT and routing loops, the compiled data plane) — never YAML.
 */
import type { Problem, Severity } from '../problem';
import type { Topology } from '../model/types';
import type { DataPlane } from '../dataplane/types';
import type { RangeIndex } from './ranges';

/** What a rule may need beyond the model. Rules that need something the caller did not provide are skipped. */
export type RuleNeed = 'dataplane';

export interface RuleContext {
  readonly topology: Topology;
  /** Every address and range of the topology, parsed once, with its role and source. */
  readonly ranges: RangeIndex;
  /**
   * The compiled data plane (src/core/dataplane): namespaces, routes, bridges and per-node netfilter rulesets,
   * the same one the tracer walks, so NAT and loop diagnostics can never disagree with a trace. Present only
   * when a rule that runs declares `needs: ['dataplane']` (nat.pod-to-pod, nat.node-to-pod, route.loop,
   * bridge.hairpin-off) and the caller provided one.
   */
  readonly dataplane?: DataPlane;
  /** File texts by path, for quick fixes that must see the YAML around a span (e.g. to add a list item). */
  readonly texts?: ReadonlyMap<string, string>;
}

export interface Rule {
  /** Stable dotted code, e.g. `cidr.overlap`. */
  readonly code: string;
  /** The severity the rule reports with, unless the caller overrides it per code. */
  readonly severity: Severity;
  /** One line: what the rule finds. Shown in docs/diagnostics.md, `netpath rules` and SARIF. */
  readonly description: string;
  /** Inputs beyond the model; without them the rule does not run. */
  readonly needs?: readonly RuleNeed[];
  run(ctx: RuleContext): Problem[];
}
