/** nft's names for base chain priorities (a module of its own: the trace view imports it without the rest). */

/**
 * A base chain's priority as nft prints it (nft 1.0.6): the standard name of the family's priority when the value is
 * within 10 of one valid on the hook (`dstnat - 10`, `filter`), else the number. dstnat is named on prerouting and
 * srcnat on postrouting only (nft prints kube-proxy's nat-output at -100 as `-100`).
 */
export function nftPriorityText(hook: string, priority: number): string {
  const named: [string, number][] = [
    ['raw', -300],
    ['mangle', -150],
    ...(hook === 'prerouting' ? [['dstnat', -100] as [string, number]] : []),
    ['filter', 0],
    ['security', 50],
    ...(hook === 'postrouting' ? [['srcnat', 100] as [string, number]] : []),
  ];
  for (const [name, value] of named) {
    const d = priority - value;
    if (d === 0) return name;
    if (Math.abs(d) <= 10) return `${name} ${d > 0 ? '+' : '-'} ${Math.abs(d)}`;
  }
  return String(priority);
}
