/**
 * A node's ruleset, as the data plane prints it, split into what `iptables-nft-restore` and
 * `ip6tables-nft-restore` load. The tracer evaluates one text holding both families (a dual-stack node has one
 * proxier per family); the kernel keeps one ruleset per family. A rule naming an address (or an ICMP type) of
 * one family goes to that family only; every other line goes to both, so each family sees exactly the rules
 * the tracer can match for its packets.
 */

const ADDRESS_OPTIONS = new Set([
  '-s',
  '--source',
  '-d',
  '--destination',
  '--to-destination',
  '--to-source',
  '--to',
  '--src-range',
  '--dst-range',
]);
const V4_ONLY_VALUES = /^icmp-(net|host|port|proto)-(unreachable|prohibited)$|^icmp-admin-prohibited$/;
const V6_ONLY_VALUES = /^icmp6-/;

/** Splits a rule line into words, keeping quoted strings as one word. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] ?? m[2]);
  return out;
}

function familyOfValue(v: string): 4 | 6 | undefined {
  const x = v.replace(/^!/, '');
  if (/^\[?[0-9a-f]*:[0-9a-f:.]*\]?(\/\d+)?(:\d+(-\d+)?)?$/i.test(x) && x.split(':').length > 2) return 6;
  if (/^\d{1,3}(\.\d{1,3}){3}(\/\d+)?(-\d{1,3}(\.\d{1,3}){3})?(:\d+(-\d+)?)?$/.test(x)) return 4;
  return undefined;
}

/** The family a rule line belongs to, or undefined when it belongs to both. */
export function familyOfRule(line: string): 4 | 6 | undefined {
  const w = words(line);
  for (let i = 0; i < w.length; i++) {
    if (w[i] === '--comment') {
      i++;
      continue;
    }
    if (ADDRESS_OPTIONS.has(w[i]) && w[i + 1] !== undefined) {
      const f = familyOfValue(w[i + 1]);
      if (f) return f;
    }
    if (w[i] === '--reject-with' && w[i + 1] !== undefined) {
      if (V4_ONLY_VALUES.test(w[i + 1])) return 4;
      if (V6_ONLY_VALUES.test(w[i + 1])) return 6;
    }
    if ((w[i] === '-p' || w[i] === '--protocol') && /^(icmp|1)$/.test(w[i + 1] ?? '')) return 4;
    if ((w[i] === '-p' || w[i] === '--protocol') && /^(icmpv6|ipv6-icmp|58)$/.test(w[i + 1] ?? '')) return 6;
  }
  return undefined;
}

/** The iptables-save text for one family. */
export function rulesForFamily(text: string, family: 4 | 6): string {
  return text
    .split('\n')
    .filter((line) => {
      const t = line.trim();
      if (!t.startsWith('-A') && !t.startsWith('-I')) return true;
      const f = familyOfRule(t);
      return f === undefined || f === family;
    })
    .join('\n');
}
