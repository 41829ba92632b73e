/**
 * Reading steps by their typed fields (issue 12): what every consumer (the CLI's hop table, the Markdown export,
 * the webview's hop table and diagram, verify) needs from a step, so none of them parses `detail`. Pure
 * functions over the JSON shape; the webview imports them too.
 */
import { hostPort } from '../net/address';
import type { Hop, NetfilterStep, OuterPacket, Step, StepOf, TracePath } from './types';
import { hookLabel } from './types';

/** A netfilter decision that ended the hook without accepting: a DROP or REJECT rule, or a DROP policy. */
export function isBlocking(s: Step): s is NetfilterStep {
  return s.kind === 'netfilter' && (s.verdict === 'DROP' || s.verdict === 'REJECT');
}

/** A netfilter rule whose verdict changed the packet or its fate (NAT, MARK, DROP, REJECT), not a jump or RETURN. */
export function isDecisive(s: Step): s is NetfilterStep {
  return (
    s.kind === 'netfilter' &&
    s.rule !== undefined &&
    ['DNAT', 'SNAT', 'MASQUERADE', 'DROP', 'REJECT', 'MARK'].includes(s.verdict)
  );
}

/**
 * The step of a hop a person should look at first: a NetworkPolicy that denied it, why it ended, a translation,
 * a decisive rule, the policy that allowed it, a tunnel, the delivery, then the forwarding (bridge, route, veth).
 */
export function matteredStep(hop: Hop): Step | undefined {
  const steps = hop.steps;
  const first = (ok: (s: Step) => boolean) => steps.find(ok);
  return (
    first((s) => s.kind === 'policy' && s.verdict === 'denied') ??
    first((s) => s.kind === 'drop') ??
    first((s) => s.kind === 'nat') ??
    first(isDecisive) ??
    first((s) => s.kind === 'policy' && s.policy !== undefined) ??
    first((s) => s.kind === 'encap' || s.kind === 'decap') ??
    first((s) => s.kind === 'deliver') ??
    first((s) => s.kind === 'bridge') ??
    first((s) => s.kind === 'route') ??
    first((s) => s.kind === 'veth') ??
    steps[0]
  );
}

/** The steps of one kind, in order, over hops. */
export function stepsOf<K extends Step['kind']>(hops: readonly Hop[], kind: K): StepOf<K>[] {
  const out: StepOf<K>[] = [];
  for (const h of hops) for (const s of h.steps) if (s.kind === kind) out.push(s as StepOf<K>);
  return out;
}

/** Whether a path crossed a Service with ClientIP session affinity (its DNAT rule remembers the client). */
export function hasAffinity(p: Pick<TracePath, 'hops'>): boolean {
  return p.hops.some((h) => h.steps.some((s) => s.kind === 'affinity'));
}

/**
 * A step in one line, from its typed fields only. Consumers show `detail` (the walk's sentence) and fall back to
 * this when it is empty, so a step with no sentence still reads.
 */
export function summarizeStep(s: Step): string {
  switch (s.kind) {
    case 'route':
      if (!s.route) return `no route to ${s.destination}`;
      return s.reroute
        ? `${s.route} (${s.reroute === 'after-dnat' ? 're-routed after DNAT' : 'bridged after DNAT'})`
        : s.route;
    case 'neighbor': {
      const where = `${s.domain.kind} ${s.domain.name}`;
      if (!s.answer) return `neighbour ${s.address}: no answer on ${where}`;
      const who =
        s.answer.role === 'bridge'
          ? `bridge ${s.answer.device} (gateway)`
          : s.answer.role === 'bridge-port'
            ? `behind port ${s.answer.device}`
            : s.answer.role === 'proxy-arp'
              ? `${s.answer.netns} ${s.answer.device} by proxy ARP`
              : `${s.answer.netns} ${s.answer.device}`;
      return `neighbour ${s.address} on ${where}: ${who}`;
    }
    case 'bridge':
      return `bridge ${s.bridge}: ${s.inPort ? `in by ${s.inPort}, ` : ''}out by port ${s.outPort}${s.hairpin === 'not-needed' ? '' : ` (hairpin ${s.hairpin})`}`;
    case 'veth':
      return `veth ${s.from.netns}/${s.from.device} -> ${s.to.netns}/${s.to.device}`;
    case 'netfilter': {
      const what = s.policy
        ? `policy ${s.verdict}`
        : s.verdict === 'jump' || s.verdict === 'goto'
          ? `${s.verdict} ${s.target ?? ''}`.trim()
          : s.verdict;
      const p = s.probability !== undefined ? ` (probability ${Math.round(s.probability * 1e4) / 1e4})` : '';
      return `${s.table} ${s.chain}: ${what}${p}`;
    }
    case 'nat':
      return s.type === 'DNAT'
        ? `DNAT ${hostPort(s.before.dst, s.before.dport)} -> ${hostPort(s.after.dst, s.after.dport)} (${s.chain})`
        : `${s.type} ${hostPort(s.before.src, s.before.sport)} -> ${hostPort(s.after.src, s.after.sport)} (${s.chain})`;
    case 'conntrack':
      return s.rewrites === 'destination'
        ? `conntrack (reply): destination ${hostPort(s.before.dst, s.before.dport)} -> ${hostPort(s.after.dst, s.after.dport)} (reverse of the request's ${s.undoes})`
        : `conntrack (reply): source ${hostPort(s.before.src, s.before.sport)} -> ${hostPort(s.after.src, s.after.sport)} (reverse of the request's ${s.undoes})`;
    case 'ttl':
      return `forwarded: TTL ${s.before} -> ${s.after}`;
    case 'affinity':
      return `session affinity (ClientIP): ${s.chain} sends later connections from ${s.client} to ${hostPort(s.backend.ip, s.backend.port)}${s.seconds !== undefined ? ` for ${s.seconds} s` : ''}`;
    case 'encap':
      return `${s.protocol} encapsulation by ${s.device}: outer ${s.outer.src} -> ${s.outer.dst}${s.udpPort !== undefined ? ` udp ${s.udpPort}` : ''}${s.vni !== undefined ? ` vni ${s.vni}` : ''}`;
    case 'decap':
      return `${s.protocol} decapsulation on ${s.device}: outer ${s.outer.src} -> ${s.outer.dst}${s.udpPort !== undefined ? ` udp ${s.udpPort}` : ''}${s.vni !== undefined ? ` vni ${s.vni}` : ''}`;
    case 'policy':
      return `NetworkPolicy ${s.direction} of ${s.pod}: ${s.verdict}${s.policy ? ` by ${s.policy}` : s.policies.length ? ` (${s.policies.join(', ')})` : ' (not isolated)'}`;
    case 'deliver':
      return s.reply
        ? `reply delivered to the client socket in ${s.netns}`
        : s.container
          ? `delivered to container ${s.container} of pod ${s.pod ?? s.netns}${s.port !== null ? ` on port ${s.port}` : ''}`
          : `delivered in ${s.netns} (${s.device})`;
    case 'drop': {
      const verb = s.disposition === 'rejected' ? 'rejected' : s.disposition === 'exited' ? 'left' : 'dropped';
      const by = s.chain ? ` by ${s.table ?? ''} ${s.chain}${s.rule ? `: ${s.rule}` : ''}`.replace('  ', ' ') : '';
      const at = s.hook ? ` at ${hookLabel(s.hook, s.family)}` : s.device ? ` at ${s.device}` : '';
      return `${verb} in ${s.netns}${at}${by} (${s.reason})`;
    }
  }
}

/** What a person reads for a step: the walk's sentence, or the typed summary when there is none. */
export function stepText(s: Step): string {
  return s.detail.trim() ? s.detail : summarizeStep(s);
}

/** A tunnel's outer header in one line: `VXLAN outer 192.168.56.11 -> 192.168.56.12 udp/8472 vni 1`. */
export function outerText(o: OuterPacket): string {
  return `${o.protocol.toUpperCase()} outer ${o.src} -> ${o.dst}${o.udpPort !== undefined ? ` udp/${o.udpPort}` : ''}${o.vni !== undefined ? ` vni ${o.vni}` : ''}`;
}
