/** nft's names for base chain priorities (a module of its own: the trace view imports it without the rest). */

/**
 * A base chain's priority as nft prints it (nft 1.0.6): the standard name of the family's priority when the value is
 * within 10 of one valid on the hook (`dstnat - 10`, `filter`), else the number. In the IP families dstnat is named on
 * prerouting and srcnat on postrouting only (nft prints kube-proxy's nat-output at -100 as `-100`); the bridge family
 * has its own values (dstnat -300 on prerouting, filter -200, out 100 on output, srcnat 300 on postrouting); netdev
 * names only filter (0).
 */
/** A named priority and its number. */
const named = (name: string, value: number): [string, number] => [name, value];

export function nftPriorityText(hook: string, priority: number, family?: string): string {
  const names: [string, number][] =
    family === 'bridge'
      ? [
          ...(hook === 'prerouting' ? [named('dstnat', -300)] : []),
          ['filter', -200],
          ...(hook === 'output' ? [named('out', 100)] : []),
          ...(hook === 'postrouting' ? [named('srcnat', 300)] : []),
        ]
      : family === 'netdev'
        ? [['filter', 0]]
        : [
            ['raw', -300],
            ['mangle', -150],
            ...(hook === 'prerouting' ? [named('dstnat', -100)] : []),
            ['filter', 0],
            ['security', 50],
            ...(hook === 'postrouting' ? [named('srcnat', 100)] : []),
          ];
  for (const [name, value] of names) {
    const d = priority - value;
    if (d === 0) return name;
    if (Math.abs(d) <= 10) return `${name} ${d > 0 ? '+' : '-'} ${Math.abs(d)}`;
  }
  return String(priority);
}
