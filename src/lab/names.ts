/**
 * Names in the lab. Every namespace is `<prefix>-<role>-<name>` (shortened to `<prefix>-<role><index>` when the
 * readable form is too long or collides), so a run's namespaces are found, and removed, by their prefix alone.
 */
import { createHash } from 'node:crypto';
import type { DataPlane } from '../core';

/** A prefix: a letter, then up to 15 letters, digits or dashes (short enough to leave room for the role). */
export const PREFIX_PATTERN = /^[a-z][a-z0-9-]{0,15}$/;
export const DEFAULT_PREFIX = 'netpath';

/** Linux network namespace names are file names under /run/netns; we keep them readable and short. */
const MAX_NETNS_NAME = 48;
/** Interface names: IFNAMSIZ is 16 including the terminating NUL. */
export const MAX_IFNAME = 15;

export function checkPrefix(prefix: string): string | undefined {
  return PREFIX_PATTERN.test(prefix)
    ? undefined
    : `prefix '${prefix}' must start with a lowercase letter and hold at most 16 lowercase letters, digits or dashes`;
}

export interface LabNames {
  /** Data plane namespace id (`pod:default/a`, `node:n1`, `external:x`) or `underlay:<network>` -> Linux netns name. */
  readonly netns: ReadonlyMap<string, string>;
}

const sanitize = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** Names every namespace of the lab: one underlay per network, then nodes, pods and externals. */
export function labNames(prefix: string, dp: DataPlane): LabNames {
  const netns = new Map<string, string>();
  const used = new Set<string>();
  const roles: Record<string, string> = { underlay: 'u', node: 'n', pod: 'p', external: 'x' };
  const counters = new Map<string, number>();
  const add = (id: string, role: string, name: string): void => {
    const index = counters.get(role) ?? 0;
    counters.set(role, index + 1);
    let candidate = `${prefix}-${roles[role]}-${sanitize(name)}`;
    if (candidate.length > MAX_NETNS_NAME || used.has(candidate) || !sanitize(name))
      candidate = `${prefix}-${roles[role]}${index}`;
    used.add(candidate);
    netns.set(id, candidate);
  };
  for (const seg of dp.segments.values()) add(`underlay:${seg.network}`, 'underlay', seg.network);
  const unplaced = new Set(unplacedPods(dp));
  for (const ns of dp.namespaces.values())
    if (!unplaced.has(ns.name) || ns.kind !== 'pod')
      add(ns.id, ns.kind, ns.kind === 'pod' ? ns.name.replace('/', '-') : ns.name);
  return { netns };
}

/**
 * The pods the lab builds no namespace for: they have no node (no `spec.nodeName`: the scheduler has not placed
 * them, or the NetPath document names none), so nothing would connect their eth0 to anything.
 */
export function unplacedPods(dp: DataPlane): string[] {
  return [...dp.namespaces.values()]
    .filter((ns) => ns.kind === 'pod' && !(ns.node && dp.namespaces.get(`node:${ns.node}`)?.kind === 'node'))
    .map((ns) => ns.name);
}

/** A fixed, locally administered unicast MAC per (namespace, device): stable bridge MACs and direction labels. */
export function macFor(netnsId: string, device: string): string {
  const h = createHash('sha256').update(`${netnsId}\u0000${device}`).digest();
  const bytes = [0x02, h[0], h[1], h[2], h[3], h[4]];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
