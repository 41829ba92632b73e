/**
 * The endpoint syntax of `netpath trace --from/--to` and of the editor's trace form:
 * `pod/[<ns>/]<name>[:<container>|:<port>]`, `svc/[<ns>/]<name>:<port>`, `node/<name>[:<port>]`,
 * `external/<name>[:<port>]`, `<ip>[:<port>]`, `[<ipv6>]:<port>`, `localhost:<port>`.
 * Parsing is pure and never throws: bad input gives a message (with close names for unknown objects).
 */
import { formatAddress, parseAddress, splitBracketedHostPort, type Family } from '../net/address';
import { quoted } from '../syntax/escape';

export type Endpoint =
  | { readonly kind: 'pod'; readonly namespace?: string; readonly name: string; readonly suffix?: string }
  | { readonly kind: 'svc'; readonly namespace?: string; readonly name: string; readonly suffix?: string }
  | { readonly kind: 'node'; readonly name: string; readonly suffix?: string }
  | { readonly kind: 'external'; readonly name: string; readonly suffix?: string }
  | { readonly kind: 'ip'; readonly address: string; readonly family: Family; readonly port?: number }
  | { readonly kind: 'localhost'; readonly port: number };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Splits `name:suffix` at the last colon. */
function splitSuffix(text: string): { name: string; suffix?: string } {
  const i = text.lastIndexOf(':');
  return i < 0 ? { name: text } : { name: text.slice(0, i), suffix: text.slice(i + 1) };
}

export function parseEndpoint(text: string): Parsed<Endpoint> {
  const t = text.trim();
  if (!t) return fail('An endpoint is empty.');
  const kindMatch = /^(pod|svc|service|node|external)\/(.*)$/.exec(t);
  if (kindMatch) {
    const kind = kindMatch[1] === 'service' ? 'svc' : (kindMatch[1] as 'pod' | 'svc' | 'node' | 'external');
    const { name: path, suffix } = splitSuffix(kindMatch[2]);
    if (suffix === '') return fail(`${quoted(t)}: nothing after ':'.`);
    const parts = path.split('/');
    if (parts.some((p) => p === '') || parts.length > (kind === 'pod' || kind === 'svc' ? 2 : 1)) {
      return fail(
        `${quoted(t)} is not ${kind === 'pod' ? 'pod/[<namespace>/]<name>' : kind === 'svc' ? 'svc/[<namespace>/]<name>:<port>' : `${kind}/<name>`}.`,
      );
    }
    if (kind === 'pod' || kind === 'svc') {
      const [namespace, name] = parts.length === 2 ? [parts[0], parts[1]] : [undefined, parts[0]];
      return ok({ kind, ...(namespace ? { namespace } : {}), name, ...(suffix !== undefined ? { suffix } : {}) });
    }
    return ok({ kind, name: parts[0], ...(suffix !== undefined ? { suffix } : {}) });
  }
  const lh = /^localhost:(.*)$/.exec(t);
  if (lh) {
    const port = parsePort(lh[1]);
    return port ? ok({ kind: 'localhost', port }) : fail(`${quoted(t)}: ${quoted(lh[1])} is not a port (1-65535).`);
  }
  const v6 = splitBracketedHostPort(t);
  if (v6) {
    const a = parseAddress(v6.host);
    if (!a || a.family !== 6) return fail(`${quoted(v6.host)} is not an IPv6 address.`);
    if (v6.port === undefined) return ok({ kind: 'ip', address: formatAddress(a), family: 6 });
    const port = parsePort(v6.port);
    return port
      ? ok({ kind: 'ip', address: formatAddress(a), family: 6, port })
      : fail(`${quoted(t)}: ${quoted(v6.port)} is not a port (1-65535).`);
  }
  const bare = parseAddress(t);
  if (bare) return ok({ kind: 'ip', address: formatAddress(bare), family: bare.family });
  const { name, suffix } = splitSuffix(t);
  const a = parseAddress(name);
  if (a && a.family === 4 && suffix !== undefined) {
    const port = parsePort(suffix);
    return port
      ? ok({ kind: 'ip', address: formatAddress(a), family: 4, port })
      : fail(`${quoted(t)}: ${quoted(suffix)} is not a port (1-65535).`);
  }
  return fail(
    `${quoted(t)} is not an endpoint: use pod/[<ns>/]<name>, svc/[<ns>/]<name>:<port>, node/<name>, external/<name>, <ip>[:<port>], [<ipv6>]:<port> or localhost:<port>.`,
  );
}

/** Edit distance, for "did you mean" lists. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** Up to `n` known names closest to `wanted` (substring matches first), for messages. */
export function closeNames(wanted: string, known: readonly string[], n = 5): string[] {
  return known
    .map((k) => ({ k, d: k.includes(wanted) || wanted.includes(k) ? 0 : distance(wanted, k) }))
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))
    .slice(0, n)
    .map((x) => x.k);
}

export function unknownMessage(kind: string, wanted: string, known: readonly string[]): string {
  if (!known.length) return `No ${kind} ${quoted(wanted)}: the topology defines no ${kind}s.`;
  return `No ${kind} ${quoted(wanted)}. Close names: ${closeNames(wanted, known).join(', ')}.`;
}
