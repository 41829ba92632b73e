import { problem } from '../problem';
import type { Rule } from './rule';
import { addressesToCheck } from './address-screen';
import { lookupTable } from '../lookup';

const ROLE_NAMES: Record<string, string> = lookupTable({
  'cluster-pods': 'cluster pod CIDR',
  services: 'Service range',
  network: 'network CIDR',
  'node-pods': 'node pod CIDR',
  external: 'external address',
  interface: 'interface address',
  bridge: 'bridge address',
  'masq-exempt': 'non-masquerade CIDR',
  'lb-source-range': 'load balancer source range',
  'node-port-addresses': 'nodePortAddresses CIDR',
});

/** `cidr.invalid`: a value that must be an IP address or prefix is not one. */
export const cidrInvalid: Rule = {
  code: 'cidr.invalid',
  severity: 'error',
  description: 'A value that must be an IP address or CIDR prefix is not one.',
  run({ ranges }) {
    const out = ranges.ranges
      .filter((r) => !r.prefix)
      .map((r) =>
        problem(
          'cidr.invalid',
          'error',
          `'${r.text}' is not a valid ${ROLE_NAMES[r.role] ?? 'CIDR'} for ${r.owner}: write an address and a prefix length, like 10.244.0.0/16 or fd00:10:244::/56.`,
          r.span,
        ),
      );
    for (const a of addressesToCheck(ranges)) {
      if (!a.address)
        out.push(
          problem(
            'cidr.invalid',
            'error',
            `'${a.text}' is not a valid IP address (${a.owner}): write it like 10.244.1.10 or fd00::a, without a prefix length.`,
            a.span,
          ),
        );
    }
    return out;
  },
};
