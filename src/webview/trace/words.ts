/** A trace in words: dispositions as sentences, the step of a hop that mattered, the Markdown export. */
import { isBlocking, matteredStep, outerText, stepText } from '../../core/trace/steps';
import type { Reason } from '../../core/trace/types';
import type { Hop, NatEvent, NatTuple, Step, TracePath, TraceResult } from '../../protocol/messages';
import { hostPort } from '../../core/net/address';

export type Walk = Omit<TracePath, 'reply' | 'probability'>;

const REASONS: Record<Reason, string> = {
  'netfilter-drop': 'a netfilter rule dropped it',
  'netfilter-reject': 'a netfilter rule rejected it',
  'no-route': 'no route matches the destination',
  'no-neighbor': 'no host on the link answers for the next hop',
  blackhole: 'it matches a blackhole route, which discards it',
  'no-listener': 'no container listens on that port',
  'hairpin-off':
    'the bridge port has hairpin mode off, so the bridge does not send the packet back out the port it came in on',
  'ttl-exceeded': 'its TTL ran out',
  'source-range': "the client's address is outside the Service's loadBalancerSourceRanges",
  loop: 'it went round in a routing loop',
  'not-forwarding': 'the namespace does not forward packets',
  'left-model': 'it left the modelled network',
  'load-balancer':
    'it left for the load balancer: the address is a LoadBalancer IP of ipMode Proxy, for which kube-proxy writes no rule',
  'policy-denied': 'a NetworkPolicy isolates the pod and none of its rules allows this connection',
  'frag-needed':
    "it is bigger than the MTU of the device it would leave by and has Don't Fragment set (ICMP fragmentation needed)",
  martian:
    'it carries a loopback address (127.0.0.0/8, ::1) on a device other than lo, and route_localnet does not allow it',
};

const DISPOSITIONS: Record<string, string> = {
  delivered: 'Delivered',
  dropped: 'Dropped',
  rejected: 'Rejected',
  'no-route': 'No route',
  loop: 'Routing loop',
  exited: 'Left the modelled network',
};

export const dispositionLabel = (d: string) => DISPOSITIONS[d] ?? d;
export const percent = (p: number) => `${Math.round(p * 1000) / 10}%`;
export { hostPort };
export const tupleText = (t: NatTuple) => `${hostPort(t.src, t.sport)} → ${hostPort(t.dst, t.dport)}`;

/** The SNAT or MASQUERADE that gave the source address the receiver sees, if any. */
function lastSourceNat(walk: Walk): NatEvent | undefined {
  return [...walk.nat]
    .reverse()
    .find((n) => (n.type === 'SNAT' || n.type === 'MASQUERADE') && n.after.src === walk.sourceSeen);
}

/** The final disposition with its reason, in plain words. */
export function describeWalk(walk: Walk, clientAddress: string, client = 'the client'): string {
  const d = walk.delivered;
  if (walk.disposition === 'delivered' && d) {
    const port = d.port === null ? '' : ` on port ${d.port}`;
    const where =
      d.kind === 'pod'
        ? `${d.container ? `container ${d.container} of ` : ''}pod ${d.name}${port}`
        : d.kind === 'node'
          ? `a socket on node ${d.name}${port}`
          : `external ${d.name}${port}`;
    const who = d.kind === 'pod' ? 'the pod' : d.kind === 'node' ? 'the node' : 'it';
    let seen = '';
    if (walk.sourceSeen && walk.sourceSeen !== clientAddress) {
      const nat = lastSourceNat(walk);
      const verb = nat?.type === 'MASQUERADE' ? 'masqueraded' : 'SNATed';
      seen = `; ${who} sees ${client} as ${walk.sourceSeen}${nat ? ` because ${nat.chain} ${verb} it` : ''}`;
    } else if (walk.sourceSeen) seen = `; ${who} sees ${client}'s own address ${walk.sourceSeen}`;
    return `delivered to ${where}${seen}`;
  }
  const lastHop = walk.hops[walk.hops.length - 1];
  const where = lastHop
    ? ` in ${lastHop.netns} at ${lastHop.device}`
    : walk.origin
      ? ` in ${walk.origin.netns} before any device`
      : '';
  const why = walk.reason ? `: ${REASONS[walk.reason] ?? walk.reason}` : '';
  const decisive = (lastHop?.steps ?? walk.origin?.steps)?.filter((s) => s.kind === 'drop' || isBlocking(s)).pop();
  return `${dispositionLabel(walk.disposition).toLowerCase()}${where}${why}${decisive ? ` (${stepText(decisive)})` : ''}`;
}

/** The step of a hop a person should look at first. */
export const mattered = (hop: Hop): Step | undefined => matteredStep(hop);

/** The NAT event a hop's nat step records (same netns and chain). */
export function natOf(hop: Hop, step: Step | undefined, walk: Walk): NatEvent | undefined {
  if (!step || step.kind !== 'nat') return undefined;
  return (
    walk.nat.find((n) => n.netns === hop.netns && n.chain === step.chain) ?? walk.nat.find((n) => n.netns === hop.netns)
  );
}

const cell = (s: string) =>
  s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ')
    .replace(/([`*_<[\]])/g, '\\$1');

/** A NAT rewrite by what it changed: `DNAT 10.96.0.10:80 → 10.244.1.11:8080`, `MASQUERADE source 10.244.1.10:40000 → 10.244.1.1:40000`. */
export function natSummary(n: NatEvent): string {
  const parts: string[] = [];
  const dst = n.before.dst !== n.after.dst || n.before.dport !== n.after.dport;
  const src = n.before.src !== n.after.src || n.before.sport !== n.after.sport;
  if (dst)
    parts.push(
      `${src ? 'destination ' : ''}${hostPort(n.before.dst, n.before.dport)} → ${hostPort(n.after.dst, n.after.dport)}`,
    );
  if (src) parts.push(`source ${hostPort(n.before.src, n.before.sport)} → ${hostPort(n.after.src, n.after.sport)}`);
  return `${n.type} ${parts.join(', ') || 'unchanged'}`;
}

/** The trace as Markdown: a heading line, the disposition, and the hop table of one path. */
export function markdown(result: TraceResult, walk: Walk, title: string, probability: number | undefined): string {
  const f = result.flow;
  const lines = [
    `**${cell(title)}**: ${f.proto.toUpperCase()} ${cell(hostPort(f.src, f.sport))} → ${cell(hostPort(f.dst, f.dport))}${probability !== undefined && probability < 1 ? ` (path with probability ${percent(probability)})` : ''}`,
    '',
    `${dispositionLabel(walk.disposition)}: ${cell(describeWalk(walk, f.src))}`,
    '',
    '| # | Namespace | Device | Dir | Packet | TTL | Step |',
    '|---|---|---|---|---|---|---|',
  ];
  walk.hops.forEach((h, i) => {
    const s = mattered(h);
    const nat = natOf(h, s, walk);
    const what = nat ? `${natSummary(nat)} (${nat.chain})` : s ? stepText(s) : '';
    const step = h.outer ? `in the tunnel: ${outerText(h.outer)}${what ? `; ${what}` : ''}` : what;
    lines.push(
      `| ${i + 1} | ${cell(h.netns)} | ${cell(h.device)} | ${h.dir} | ${cell(tupleText(h.packet))} | ${h.packet.ttl} | ${cell(step)} |`,
    );
  });
  return `${lines.join('\n')}\n`;
}
