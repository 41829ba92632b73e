/**
 * Every diagnostic rule, listed once. Adding a rule: write `src/core/rules/<code>.ts` exporting a
 * `Rule`, add it here, document it in docs/diagnostics.md, and add golden fixtures under
 * test/fixtures/rules/<code>/.
 */
import type { Problem } from '../problem';
import type { Topology } from '../model/types';
import { indexRanges } from './ranges';
import type { Rule, RuleContext } from './rule';
import { cidrInvalid } from './cidr-invalid';
import { cidrHostBits } from './cidr-host-bits';
import { cidrOverlap } from './cidr-overlap';

export const RULES: readonly Rule[] = [cidrInvalid, cidrHostBits, cidrOverlap];

export function runRules(topology: Topology): Problem[] {
  const ctx: RuleContext = { topology, ranges: indexRanges(topology) };
  return RULES.flatMap((rule) => rule.run(ctx));
}
