/**
 * Reads nft's language: the `table … { chain … { … } set … { … } }` blocks `nft list ruleset` prints, and the
 * `add table|chain|set|map|rule|element …` commands of an `nft -f` script (what knftables and kube-proxy write).
 * Both build the same {@link NftRuleset}. Never throws: what it cannot read is a problem at its span, and a rule
 * with a part NetPath does not model is kept, marked unsupported (the evaluator reports it when a packet gets there).
 */
import { problem, type Problem, type Span } from '../problem';
import { tokenize, type Token } from './tokenize';
import type {
  NftBase,
  NftChain,
  NftChainType,
  NftDataType,
  NftElement,
  NftFamily,
  NftHook,
  NftItem,
  NftOp,
  NftParseResult,
  NftRhs,
  NftRule,
  NftSelector,
  NftSet,
  NftTable,
  NftValue,
  NftVerdict,
} from './types';
import { parseValue, selectorType, TYPE_NAMES } from './values';
import { isOneOf, lookupTable } from '../lookup';
import { work } from '../work';

export const NFT_SYNTAX = 'nftables.syntax';
export const NFT_UNSUPPORTED = 'nftables.unsupported';
export const NFT_UNKNOWN_CHAIN = 'nftables.unknown-chain';
export const NFT_UNKNOWN_SET = 'nftables.unknown-set';
export const NFT_NOT_EVALUATED = 'nftables.not-evaluated';

const FAMILIES: readonly NftFamily[] = ['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'];
const HOOKS: readonly NftHook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress'];
const CHAIN_TYPES: readonly NftChainType[] = ['filter', 'nat', 'route'];

/**
 * Why a base chain of this family and hook is not evaluated (undefined when it is): traces run the ip, ip6 and inet
 * families on the five IP hooks, netdev ingress on the device a packet arrives on, and the bridge family's five hooks
 * on frames crossing a bridge.
 */
function NOT_EVALUATED(family: NftFamily, hook: NftHook): string | undefined {
  if (family === 'bridge')
    return ['prerouting', 'input', 'forward', 'output', 'postrouting'].includes(hook)
      ? undefined
      : `bridge ${hook} chains are not modelled (the bridge family's prerouting, input, forward, output and postrouting are).`;
  if (family === 'arp') return 'arp-family chains filter ARP, and traces resolve neighbours without ARP filtering.';
  if (family === 'netdev' && hook === 'egress') return 'netdev egress is not modelled (only netdev ingress is).';
  if (family === 'netdev' && hook !== 'ingress') return undefined;
  if ((family === 'ip' || family === 'ip6' || family === 'inet') && (hook === 'ingress' || hook === 'egress'))
    return `${family} ${hook} chains are not modelled (only netdev ingress is).`;
  return undefined;
}

/** Named priorities (nft(8), "CHAINS"): per family. */
function namedPriority(family: NftFamily, name: string): number | undefined {
  if (family === 'bridge') return { dstnat: -300, filter: -200, out: 100, srcnat: 300 }[name];
  return { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 }[name];
}

interface ChainB {
  name: string;
  base?: NftBase;
  rules: NftRule[];
  comment?: string;
  span: Span;
}
interface SetB {
  kind: 'set' | 'map';
  name: string;
  keyType: NftDataType[];
  dataType?: string;
  flags: string[];
  timeout?: number;
  elements: NftElement[];
  span: Span;
}
interface TableB {
  family: NftFamily;
  name: string;
  chains: Map<string, ChainB>;
  sets: Map<string, SetB>;
  span: Span;
}

const SELECTOR_START = new Set([
  'ether',
  'ip',
  'ip6',
  'tcp',
  'udp',
  'sctp',
  'th',
  'icmp',
  'icmpv6',
  'meta',
  'mark',
  'iifname',
  'oifname',
  'ct',
  'fib',
  'numgen',
]);
const UNSUPPORTED_START = new Set([
  'vlan',
  'arp',
  'jhash',
  'symhash',
  'socket',
  'osf',
  'rt',
  'ipsec',
  'exthdr',
  'hbh',
  'frag',
  'dst',
  'mh',
  'srh',
  'dccp',
  'udplite',
  'ah',
  'esp',
  'comp',
  'limit',
  'quota',
  'meter',
  'queue',
  'tproxy',
  'fwd',
  'dup',
  'synproxy',
  'flow',
  'iif',
  'oif',
  'iiftype',
  'oiftype',
  'skuid',
  'skgid',
  'cgroup',
  'pkttype',
  'cpu',
  'time',
  'day',
  'hour',
  'last',
  'secmark',
  'xt',
]);

/** Parses nft text. `file` and `baseOffset` place the spans (text embedded in a YAML file starts at `baseOffset`). */
export function parseNftRuleset(
  text: string,
  file = '',
  baseOffset = 0,
  options: { readonly checkReferences?: boolean } = {},
): NftParseResult {
  const toks = tokenize(text);
  const problems: Problem[] = [];
  const tables: TableB[] = [];
  const span = (start: number, end: number): Span => ({ file, start: baseOffset + start, end: baseOffset + end });
  const tspan = (a: Token, b: Token = a): Span => span(a.start, b.end);
  const report = (code: string, severity: 'error' | 'warning', message: string, s: Span): void => {
    problems.push(problem(code, severity, message, s));
  };
  let p = 0;
  const peek = (k = 0): Token | undefined => toks[p + k];
  const at = (t: string, k = 0): boolean => toks[p + k]?.t === t && !toks[p + k]?.quoted;
  const skipBreaks = (): void => {
    while (p < toks.length && (at('\n') || at(';'))) p++;
  };
  /** Skips to the end of the current line (or the `}` that closes the current block), keeping braces balanced. */
  const skipStatement = (): void => {
    let depth = 0;
    while (p < toks.length) {
      const t = toks[p];
      if (!t.quoted) {
        if (t.t === '{') depth++;
        else if (t.t === '}') {
          if (depth === 0) return;
          depth--;
        } else if ((t.t === '\n' || t.t === ';') && depth === 0) return;
      }
      p++;
    }
  };
  const skipBlock = (): void => {
    // At '{': skip to the matching '}'.
    let depth = 0;
    while (p < toks.length) {
      const t = toks[p++];
      if (t.quoted) continue;
      if (t.t === '{') depth++;
      else if (t.t === '}' && --depth === 0) return;
    }
  };
  /** The tokens of one statement: to the end of line (at brace depth 0), `;`, or the closing `}` of the block. */
  const statementTokens = (stopAtSemicolon: boolean): Token[] => {
    const out: Token[] = [];
    let depth = 0;
    while (p < toks.length) {
      const t = toks[p];
      if (!t.quoted) {
        if (t.t === '}' && depth === 0) break;
        if (t.t === '\n' && depth === 0) break;
        if (t.t === ';' && depth === 0 && stopAtSemicolon) break;
        if (t.t === '{') depth++;
        if (t.t === '}') depth--;
      }
      if (t.t !== '\n' || t.quoted) out.push(t);
      p++;
    }
    return out;
  };

  const tableOf = (family: NftFamily, name: string, s: Span): TableB => {
    let t = tables.find((x) => x.family === family && x.name === name);
    if (!t) {
      t = { family, name, chains: new Map(), sets: new Map(), span: s };
      tables.push(t);
    }
    return t;
  };
  const chainOf = (t: TableB, name: string, s: Span): ChainB => {
    let c = t.chains.get(name);
    if (!c) {
      c = { name, rules: [], span: s };
      t.chains.set(name, c);
    }
    return c;
  };

  // ------------------------------------------------------------------ chain and set specs

  /** Reads chain properties from a token list (`type filter hook input priority 0 ; policy drop ; comment "x"`). */
  const chainSpec = (t: TableB, c: ChainB, list: readonly Token[]): void => {
    let i = 0;
    const first = list[0];
    while (i < list.length) {
      const w = list[i];
      if (w.t === ';' && !w.quoted) {
        i++;
        continue;
      }
      if (w.t === 'type' && !w.quoted) {
        const start = w;
        const type = list[i + 1]?.t;
        if (!isOneOf(CHAIN_TYPES, type)) {
          report(
            NFT_SYNTAX,
            'error',
            `Chain type must be filter, nat or route, not '${list[i + 1]?.t ?? ''}'.`,
            tspan(w, list[i + 1] ?? w),
          );
          return;
        }
        if (list[i + 2]?.t !== 'hook') {
          report(NFT_SYNTAX, 'error', `A base chain needs 'hook <name>' after its type.`, tspan(w, list[i + 1]));
          return;
        }
        const hook = list[i + 3]?.t;
        if (!isOneOf(HOOKS, hook)) {
          report(
            NFT_SYNTAX,
            'error',
            `Unknown hook '${list[i + 3]?.t ?? ''}'.`,
            tspan(list[i + 2], list[i + 3] ?? list[i + 2]),
          );
          return;
        }
        i += 4;
        const devices: string[] = [];
        if (list[i]?.t === 'device') {
          if (list[i + 1]) devices.push(list[i + 1].t);
          i += 2;
        }
        if (list[i]?.t !== 'priority') {
          report(NFT_SYNTAX, 'error', `A base chain needs 'priority <value>'.`, tspan(start, list[i - 1]));
          return;
        }
        i++;
        let prio: number | undefined;
        const pt = list[i]?.t ?? '';
        if (/^[+-]?\d+$/.test(pt)) {
          prio = Number(pt);
          i++;
        } else {
          prio = namedPriority(t.family, pt);
          if (prio === undefined) {
            report(NFT_SYNTAX, 'error', `Unknown priority '${pt}'.`, tspan(list[i] ?? list[i - 1]));
            return;
          }
          i++;
          const sign = list[i]?.t;
          if ((sign === '+' || sign === '-') && /^\d+$/.test(list[i + 1]?.t ?? '')) {
            prio += (sign === '+' ? 1 : -1) * Number(list[i + 1].t);
            i += 2;
          } else if (/^[+-]\d+$/.test(sign ?? '')) {
            prio += Number(sign);
            i++;
          }
        }
        const last = list[i - 1];
        c.base = {
          type,
          hook,
          priority: prio,
          policy: c.base?.policy ?? 'accept',
          ...(devices.length || c.base?.devices ? { devices: [...(c.base?.devices ?? []), ...devices] } : {}),
          text: text.slice(start.start, last.end),
          span: tspan(start, last),
        };
        const notEvaluated = NOT_EVALUATED(t.family, hook);
        if (notEvaluated)
          report(
            NFT_NOT_EVALUATED,
            'warning',
            `Traces do not evaluate this chain: ${notEvaluated} The kernel runs it; NetPath's trace and verify's prediction leave it out.`,
            tspan(start, last),
          );
        continue;
      }
      if (w.t === 'policy' && !w.quoted) {
        const pol = list[i + 1]?.t;
        if (pol !== 'accept' && pol !== 'drop') {
          report(
            NFT_SYNTAX,
            'error',
            `A chain policy is accept or drop, not '${pol ?? ''}'.`,
            tspan(w, list[i + 1] ?? w),
          );
          return;
        }
        if (c.base) c.base = { ...c.base, policy: pol };
        else report(NFT_SYNTAX, 'error', 'Only a base chain (with type and hook) has a policy.', tspan(w, list[i + 1]));
        i += 2;
        continue;
      }
      if (w.t === 'comment' && !w.quoted) {
        c.comment = list[i + 1]?.t;
        i += 2;
        continue;
      }
      if ((w.t === 'devices' || w.t === 'device') && !w.quoted) {
        // `devices = { eth0, eth1 }` (or `device eth0` on its own line): the netdev hook's devices.
        const names: string[] = [];
        i++;
        while (i < list.length && list[i].t !== ';') {
          const x = list[i].t;
          if (!['=', '{', '}', ','].includes(x) || list[i].quoted) names.push(x);
          i++;
        }
        if (c.base) c.base = { ...c.base, devices: [...(c.base.devices ?? []), ...names] };
        continue;
      }
      if (w.t === 'flags') {
        // Chain flags (offload) do not change what the rules decide.
        i++;
        while (i < list.length && list[i].t !== ';') i++;
        continue;
      }
      report(NFT_SYNTAX, 'error', `Unexpected '${w.t}' in the chain's properties.`, tspan(w));
      return;
    }
    void first;
  };

  /** Reads set or map properties (`type a . b : verdict ; flags interval ; elements = { … }`). */
  const setSpec = (s: SetB, list: readonly Token[]): void => {
    let i = 0;
    while (i < list.length) {
      const w = list[i];
      if (w.t === ';' && !w.quoted) {
        i++;
        continue;
      }
      if (w.t === 'type' || w.t === 'typeof') {
        i++;
        const types: NftDataType[] = [];
        let data: string | undefined;
        let ok = true;
        while (i < list.length) {
          if (w.t === 'typeof') {
            // typeof ip daddr . tcp dport: the types of the expressions.
            const saved = i;
            const sel = selectorFrom(list, i);
            if (!sel) {
              report(
                NFT_UNSUPPORTED,
                'warning',
                `NetPath does not read 'typeof ${list[saved]?.t ?? ''}'.`,
                tspan(list[saved] ?? w),
              );
              ok = false;
              break;
            }
            types.push(selectorType(sel.selector));
            i = sel.next;
          } else {
            const ty = TYPE_NAMES[list[i]?.t ?? ''];
            if (!ty) {
              report(
                NFT_UNSUPPORTED,
                'warning',
                `NetPath does not model the set type '${list[i]?.t ?? ''}'.`,
                tspan(list[i] ?? w),
              );
              ok = false;
              break;
            }
            types.push(ty);
            i++;
          }
          if (list[i]?.t === '.' && !list[i].quoted) {
            i++;
            continue;
          }
          break;
        }
        if (list[i]?.t === ':' && !list[i].quoted) {
          data = list[i + 1]?.t;
          i += 2;
        }
        if (ok) s.keyType = types;
        if (data !== undefined) s.dataType = data;
        while (i < list.length && list[i].t !== ';') i++;
        continue;
      }
      if (w.t === 'flags') {
        i++;
        while (i < list.length && list[i].t !== ';') {
          if (list[i].t !== ',') s.flags.push(list[i].t);
          i++;
        }
        continue;
      }
      if (w.t === 'elements' && list[i + 1]?.t === '=' && list[i + 2]?.t === '{') {
        const end = matching(list, i + 2);
        elementsInto(s, list.slice(i + 3, end));
        i = end + 1;
        continue;
      }
      if (w.t === 'timeout') {
        const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(list[i + 1]?.t ?? '');
        if (m && list[i + 1].t !== '')
          s.timeout = Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
      }
      if (['timeout', 'size', 'policy', 'gc-interval', 'comment', 'auto-merge', 'counter'].includes(w.t)) {
        i++;
        while (i < list.length && list[i].t !== ';') i++;
        continue;
      }
      report(NFT_SYNTAX, 'error', `Unexpected '${w.t}' in the ${s.kind}'s properties.`, tspan(w));
      return;
    }
  };

  /** Elements `a . b [comment "x"] [: verdict], …` of a set or map. */
  const elementsInto = (s: SetB, list: readonly Token[]): void => {
    for (const part of splitTop(list, ',')) {
      if (!part.length) continue;
      const el = element(part, s.keyType, undefined, s.kind === 'map' && s.dataType === 'verdict');
      if (el) s.elements.push(el);
      else if (s.kind === 'map' && s.dataType !== 'verdict' && s.dataType !== undefined) {
        // Data maps are kept without elements; lookups in them are unsupported.
      }
    }
  };

  /** One element from its tokens; `types` are the key fields' types. */
  const element = (
    part: readonly Token[],
    types: readonly NftDataType[],
    selectors: readonly NftSelector[] | undefined,
    withVerdict: boolean,
  ): NftElement | undefined => {
    let i = 0;
    const key: NftValue[] = [];
    let comment: string | undefined;
    let verdict: NftVerdict | undefined;
    while (i < part.length) {
      const w = part[i];
      const type = types[key.length];
      if (!type) {
        report(NFT_SYNTAX, 'error', `This element has more fields than its type (${types.join(' . ')}).`, tspan(w));
        return undefined;
      }
      const v = parseValue(type, w.t, selectors?.[key.length]);
      if (typeof v === 'string') {
        report(NFT_SYNTAX, 'error', v, tspan(w));
        return undefined;
      }
      key.push(v);
      i++;
      while (i < part.length && ['timeout', 'expires', 'counter', 'packets', 'bytes'].includes(part[i].t)) i += 2;
      if (part[i]?.t === 'comment' && !part[i].quoted) {
        comment = part[i + 1]?.t;
        i += 2;
      }
      if (part[i]?.t === '.' && !part[i].quoted) {
        i++;
        continue;
      }
      if (part[i]?.t === ':' && !part[i].quoted) {
        const r = verdictFrom(part, i + 1);
        if (!r) {
          if (withVerdict)
            report(NFT_SYNTAX, 'error', 'A verdict map element needs a verdict after the colon.', tspan(part[i]));
          return undefined;
        }
        verdict = r.verdict;
        i = r.next;
        if (part[i]?.t === 'comment') {
          comment = part[i + 1]?.t;
          i += 2;
        }
      }
      break;
    }
    if (i < part.length) {
      report(NFT_SYNTAX, 'error', `Unexpected '${part[i].t}' in an element.`, tspan(part[i]));
      return undefined;
    }
    if (key.length !== types.length) {
      report(
        NFT_SYNTAX,
        'error',
        `This element has ${key.length} field(s); the type has ${types.length}.`,
        tspan(part[0], part[part.length - 1]),
      );
      return undefined;
    }
    if (withVerdict && !verdict) {
      report(NFT_SYNTAX, 'error', 'A verdict map element needs `: <verdict>`.', tspan(part[0], part[part.length - 1]));
      return undefined;
    }
    return { key, ...(verdict ? { verdict } : {}), ...(comment !== undefined ? { comment } : {}) };
  };

  // ------------------------------------------------------------------ rules

  const rule = (t: TableB, c: ChainB, list: readonly Token[], prepend = false): void => {
    if (!list.length) return;
    const items: NftItem[] = [];
    let unsupported: string | undefined;
    let comment: string | undefined;
    let textEnd = list[list.length - 1].end;
    let i = 0;
    const unsupportedAt = (msg: string, from: number): void => {
      if (unsupported === undefined) {
        unsupported = msg;
        report(NFT_UNSUPPORTED, 'warning', msg, tspan(list[from], list[list.length - 1]));
      }
    };
    const bad = (msg: string, from: number): void => {
      report(NFT_SYNTAX, 'error', msg, tspan(list[Math.min(from, list.length - 1)], list[list.length - 1]));
      unsupported = unsupported ?? msg;
    };
    outer: while (i < list.length) {
      const w = list[i];
      const word = w.quoted ? '' : w.t;
      // Verdicts.
      if (
        word === 'accept' ||
        word === 'drop' ||
        word === 'return' ||
        word === 'continue' ||
        word === 'jump' ||
        word === 'goto'
      ) {
        const r = verdictFrom(list, i);
        if (!r) {
          bad(`'${word}' needs a chain name.`, i);
          break;
        }
        items.push({ kind: 'verdict', verdict: r.verdict });
        i = r.next;
        continue;
      }
      switch (word) {
        case 'counter': {
          i++;
          if (list[i]?.t === 'name') i += 2;
          while (list[i]?.t === 'packets' || list[i]?.t === 'bytes') i += 2;
          items.push({ kind: 'counter' });
          continue;
        }
        case 'log': {
          i++;
          while (['prefix', 'level', 'group', 'snaplen', 'queue-threshold', 'flags'].includes(list[i]?.t ?? '')) {
            i += 2;
            while (list[i - 1]?.t !== undefined && list[i]?.t === ',') i += 2;
          }
          items.push({ kind: 'log' });
          continue;
        }
        case 'comment': {
          comment = list[i + 1]?.t;
          textEnd = i > 0 ? list[i - 1].end : w.start;
          i += 2;
          continue;
        }
        case 'notrack':
          items.push({ kind: 'notrack' });
          i++;
          continue;
        case 'reject': {
          i++;
          let withText: string | undefined;
          if (list[i]?.t === 'with') {
            const from = i + 1;
            i += 2;
            if (list[i - 1]?.t !== 'tcp')
              i += 2; // icmp|icmpx|icmpv6 type <code>
            else i += 1; // tcp reset
            withText = list
              .slice(from, i)
              .map((x) => x.t)
              .join(' ');
          }
          items.push({ kind: 'reject', ...(withText ? { with: withText } : {}) });
          continue;
        }
        case 'dnat':
        case 'snat': {
          i++;
          if (list[i]?.t === 'ip' || list[i]?.t === 'ip6') i++;
          if (list[i]?.t !== 'to') {
            bad(`'${word}' needs 'to <address>'.`, i - 1);
            break outer;
          }
          const target = list[i + 1];
          if (!target || SELECTOR_START.has(target.t)) {
            unsupportedAt(`NetPath does not model '${word} to' a map lookup.`, i);
            break outer;
          }
          const at2 = addressPort(target.t);
          if (!at2) {
            bad(`'${target.t}' is not an address with an optional port.`, i + 1);
            break outer;
          }
          i += 2;
          while (['persistent', 'random', 'fully-random', ','].includes(list[i]?.t ?? '')) i++;
          items.push({ kind: 'nat', nat: { kind: word, ...at2 } });
          continue;
        }
        case 'masquerade':
        case 'redirect': {
          i++;
          let port: number | undefined;
          if (list[i]?.t === 'to') {
            const m = /^:(\d+)(?:-\d+)?$/.exec(list[i + 1]?.t ?? '');
            if (!m) {
              bad(`'${word} to' takes ':<port>'.`, i);
              break outer;
            }
            port = Number(m[1]);
            i += 2;
          }
          while (['persistent', 'random', 'fully-random', ','].includes(list[i]?.t ?? '')) i++;
          items.push({ kind: 'nat', nat: { kind: word, ...(port !== undefined ? { port } : {}) } });
          continue;
        }
        case 'update':
        case 'add': {
          const setTok = list[i + 1];
          if (!setTok?.t.startsWith('@') || list[i + 2]?.t !== '{') {
            bad(`'${word}' needs '@set { <expression> }'.`, i);
            break outer;
          }
          const end = matching(list, i + 2);
          const sels: NftSelector[] = [];
          let j = i + 3;
          while (j < end) {
            const s = selectorFrom(list, j);
            if (!s) break;
            sels.push(s.selector);
            j = s.next;
            if (list[j]?.t === '.') j++;
            while (list[j]?.t === 'timeout') j += 2;
          }
          if (!sels.length) {
            unsupportedAt(`NetPath does not model this set update.`, i);
            break outer;
          }
          items.push({ kind: 'set-update', set: setTok.t.slice(1), selectors: sels });
          i = end + 1;
          continue;
        }
      }
      if (word === '' || (UNSUPPORTED_START.has(word) && !SELECTOR_START.has(word))) {
        unsupportedAt(
          `NetPath does not model '${list
            .slice(i, i + 2)
            .map((x) => x.t)
            .join(' ')}'.`,
          i,
        );
        break;
      }
      // A match, a lookup or a mark statement.
      const sels: NftSelector[] = [];
      const startSel = i;
      while (true) {
        const s = selectorFrom(list, i);
        if (!s) {
          if (sels.length === 0) {
            if (SELECTOR_START.has(word))
              unsupportedAt(
                `NetPath does not model '${list
                  .slice(i, i + 2)
                  .map((x) => x.t)
                  .join(' ')}'.`,
                i,
              );
            else bad(`Unexpected '${w.t}'.`, i);
            break outer;
          }
          bad(`Expected an expression after '.'.`, i);
          break outer;
        }
        sels.push(s.selector);
        i = s.next;
        if (list[i]?.t === '.' && !list[i].quoted) {
          i++;
          continue;
        }
        break;
      }
      // Mark statements: `mark set …`, `meta mark set …`, `ct mark set …`.
      if (list[i]?.t === 'set' && sels.length === 1) {
        const s0 = sels[0];
        const target =
          s0.kind === 'meta' && s0.key === 'mark' ? 'meta' : s0.kind === 'ct' && s0.key === 'mark' ? 'ct' : undefined;
        if (!target) {
          unsupportedAt(
            `NetPath does not model setting '${list
              .slice(startSel, i)
              .map((x) => x.t)
              .join(' ')}'.`,
            startSel,
          );
          break;
        }
        i++;
        const src = selectorFrom(list, i);
        if (src) {
          const same = src.selector.kind === s0.kind && (src.selector as { key?: string }).key === 'mark';
          const op = opWord(list[src.next]?.t);
          const v = numberValue(list[src.next + 1]?.t);
          if (!same || !op || v === undefined) {
            unsupportedAt(`NetPath does not model this mark expression.`, i);
            break;
          }
          items.push({ kind: 'mark-set', target, op, value: v });
          i = src.next + 2;
        } else {
          const v = numberValue(list[i]?.t);
          if (v === undefined) {
            bad(`A mark is a number, not '${list[i]?.t ?? ''}'.`, i);
            break;
          }
          items.push({ kind: 'mark-set', target, value: v });
          i++;
        }
        continue;
      }
      // A binary operation on one selector: `mark and 0x4000 == 0`.
      let selectors: NftSelector[] = sels;
      const op0 = opWord(list[i]?.t);
      if (op0 && sels.length === 1 && list[i + 1]) {
        const v = numberValue(list[i + 1].t);
        if (v === undefined) {
          bad(`Expected a number after '${list[i].t}'.`, i + 1);
          break;
        }
        selectors = [{ kind: 'binop', inner: sels[0], op: op0, value: v }];
        i += 2;
      }
      if (list[i]?.t === 'vmap') {
        const r = rhsFrom(list, i + 1, selectors, true);
        if (!r) break;
        items.push({ kind: 'vmap', selectors, map: r.rhs });
        i = r.next;
        continue;
      }
      if (list[i]?.t === 'map') {
        unsupportedAt('NetPath does not model data map lookups (only verdict maps).', i);
        break;
      }
      let op: NftOp = '==';
      let explicit = false;
      const o = list[i]?.t;
      if (o === '==' || o === '!=' || o === '<' || o === '>' || o === '<=' || o === '>=' || o === 'eq' || o === 'ne') {
        op = o === 'eq' ? '==' : o === 'ne' ? '!=' : o;
        explicit = true;
        i++;
      }
      if (i >= list.length) {
        bad(
          `'${list
            .slice(startSel, i)
            .map((x) => x.t)
            .join(' ')}' needs a value to compare with.`,
          startSel,
        );
        break;
      }
      const r = rhsFrom(list, i, selectors, false);
      if (!r) break;
      const flagType = selectors.length === 1 && ['ct_state', 'ct_status'].includes(selectorType(selectors[0]));
      items.push({ kind: 'match', selectors, op, rhs: r.rhs, flags: flagType && !explicit });
      i = r.next;
    }
    const ruleText = text.slice(list[0].start, Math.max(list[0].start, textEnd)).trim();
    const r: NftRule = {
      items,
      text: ruleText,
      ...(comment !== undefined ? { comment } : {}),
      span: tspan(list[0], list[list.length - 1]),
      ...(unsupported !== undefined ? { unsupported } : {}),
    };
    work.ruleObjects++;
    if (prepend) c.rules.unshift(r);
    else c.rules.push(r);
    void t;

    /** The RHS of a match or vmap at `k`: `@set`, `{ elements }` or values (`a . b`, `x,y`). */
    function rhsFrom(
      l: readonly Token[],
      k: number,
      sels: readonly NftSelector[],
      verdicts: boolean,
    ): { rhs: NftRhs; next: number } | undefined {
      const tk = l[k];
      if (!tk) {
        bad('Expected a value, a set or a map.', k - 1);
        return undefined;
      }
      if (tk.t.startsWith('@') && !tk.quoted) return { rhs: { kind: 'set', name: tk.t.slice(1) }, next: k + 1 };
      const types = sels.map(selectorType);
      if (tk.t === '{' && !tk.quoted) {
        const end = matching(l, k);
        const els: NftElement[] = [];
        for (const part of splitTop(l.slice(k + 1, end), ',')) {
          if (!part.length) continue;
          const el = element(part, types, sels, verdicts);
          if (!el) {
            unsupported = unsupported ?? 'bad element';
            return undefined;
          }
          els.push(el);
        }
        return { rhs: { kind: 'values', elements: els }, next: end + 1 };
      }
      if (verdicts) {
        bad(`'vmap' needs '@map' or '{ key : verdict, … }'.`, k);
        return undefined;
      }
      // Bare values: one tuple, or a comma list of single values (`established,related`).
      let j = k;
      const part: Token[] = [];
      while (j < l.length) {
        part.push(l[j]);
        if (l[j + 1]?.t === '.' && !l[j + 1].quoted && types.length > 1) {
          part.push(l[j + 1]);
          j += 2;
          continue;
        }
        j++;
        break;
      }
      const els: NftElement[] = [];
      const first = element(part, types, sels, false);
      if (!first) {
        unsupported = unsupported ?? 'bad value';
        return undefined;
      }
      els.push(first);
      while (l[j]?.t === ',' && !l[j].quoted && l[j + 1]) {
        const el = element([l[j + 1]], types, sels, false);
        if (!el) {
          unsupported = unsupported ?? 'bad value';
          return undefined;
        }
        els.push(el);
        j += 2;
      }
      return { rhs: { kind: 'values', elements: els }, next: j };
    }
  };

  // ------------------------------------------------------------------ blocks

  const tableBlock = (): void => {
    const kw = toks[p++];
    let family: NftFamily = 'ip';
    const familyWord = peek()?.t;
    if (isOneOf(FAMILIES, familyWord) && peek(1) && peek(1)?.t !== '{') {
      family = familyWord;
      p++;
    }
    const nameTok = toks[p++];
    if (!nameTok || nameTok.t === '{') {
      report(NFT_SYNTAX, 'error', "'table' needs a name.", tspan(kw));
      skipStatement();
      return;
    }
    if (!at('{')) {
      report(NFT_SYNTAX, 'error', `Expected '{' after 'table ${family} ${nameTok.t}'.`, tspan(kw, nameTok));
      skipStatement();
      return;
    }
    const t = tableOf(family, nameTok.t, tspan(kw, nameTok));
    p++;
    while (p < toks.length) {
      skipBreaks();
      const w = peek();
      if (!w) break;
      if (w.t === '}' && !w.quoted) {
        p++;
        return;
      }
      if (w.t === 'chain' && !w.quoted) {
        const name = toks[p + 1];
        if (!name || toks[p + 2]?.t !== '{') {
          report(NFT_SYNTAX, 'error', "Expected 'chain <name> {'.", tspan(w, name ?? w));
          skipStatement();
          continue;
        }
        const c = chainOf(t, name.t, tspan(w, name));
        p += 3;
        while (p < toks.length) {
          while (at('\n') || at(';')) p++;
          if (p >= toks.length) break;
          if (at('}')) {
            p++;
            break;
          }
          const head = peek()?.t;
          if (head === 'type' || head === 'policy' || head === 'comment' || head === 'devices' || head === 'device') {
            chainSpec(t, c, statementTokens(true));
            continue;
          }
          const before = p;
          rule(t, c, statementTokens(true));
          if (p === before) p++;
        }
        continue;
      }
      if ((w.t === 'set' || w.t === 'map') && !w.quoted) {
        const name = toks[p + 1];
        if (!name || toks[p + 2]?.t !== '{') {
          report(NFT_SYNTAX, 'error', `Expected '${w.t} <name> {'.`, tspan(w, name ?? w));
          skipStatement();
          continue;
        }
        const s: SetB = { kind: w.t, name: name.t, keyType: [], flags: [], elements: [], span: tspan(w, name) };
        t.sets.set(name.t, s);
        p += 2;
        const end = matching(toks, p);
        // Newlines end properties, except inside the braces of `elements = { … }`.
        let depth = 0;
        const body = toks.slice(p + 1, end).map((x) => {
          if (!x.quoted && x.t === '{') depth++;
          if (!x.quoted && x.t === '}') depth--;
          return x.t === '\n' && !x.quoted && depth === 0 ? { ...x, t: ';' } : x;
        });
        setSpec(s, body);
        p = end + 1;
        continue;
      }
      if ((w.t === 'comment' || w.t === 'flags') && !w.quoted) {
        skipStatement();
        continue;
      }
      const before = p;
      report(NFT_UNSUPPORTED, 'warning', `NetPath does not model '${w.t}' in a table.`, tspan(w));
      skipStatement();
      if (at('{')) skipBlock();
      if (p === before) p++;
    }
    report(NFT_SYNTAX, 'error', `Table '${family} ${nameTok.t}' is not closed with '}'.`, tspan(kw, nameTok));
  };

  /** `add|create|insert <object> …`: one command per line. */
  const command = (): void => {
    const verb = toks[p];
    const list = statementTokens(false);
    const what = list[1]?.t;
    const famTok = list[2];
    let k = 2;
    let family: NftFamily = 'ip';
    const familyWord = famTok?.t;
    if (isOneOf(FAMILIES, familyWord) && list.length > 3) {
      family = familyWord;
      k = 3;
    }
    const tableName = list[k]?.t;
    if (!what || !tableName) {
      report(NFT_SYNTAX, 'error', `'${verb.t}' needs an object and a table.`, tspan(verb));
      return;
    }
    const t = tableOf(family, tableName, tspan(verb, list[k]));
    const objName = list[k + 1];
    const body = list.slice(k + 2);
    const inner = body[0]?.t === '{' ? body.slice(1, matching(body, 0)) : body;
    switch (what) {
      case 'table':
        return;
      case 'chain': {
        if (!objName) break;
        const c = chainOf(t, objName.t, tspan(verb, objName));
        if (inner.length) chainSpec(t, c, inner);
        return;
      }
      case 'set':
      case 'map': {
        if (!objName) break;
        const s: SetB = t.sets.get(objName.t) ?? {
          kind: what,
          name: objName.t,
          keyType: [],
          flags: [],
          elements: [],
          span: tspan(verb, objName),
        };
        t.sets.set(objName.t, s);
        setSpec(s, inner);
        return;
      }
      case 'element': {
        if (!objName) break;
        const s = t.sets.get(objName.t);
        if (!s) {
          report(
            NFT_UNKNOWN_SET,
            'error',
            `No set or map '${objName.t}' in table '${family} ${tableName}'.`,
            tspan(objName),
          );
          return;
        }
        elementsInto(s, inner);
        return;
      }
      case 'rule': {
        if (!objName) break;
        const c = chainOf(t, objName.t, tspan(verb, objName));
        rule(t, c, body, verb.t === 'insert');
        return;
      }
    }
    report(NFT_UNSUPPORTED, 'warning', `NetPath does not model '${verb.t} ${what}'.`, tspan(verb, list[1] ?? verb));
  };

  while (p < toks.length) {
    skipBreaks();
    const w = peek();
    if (!w) break;
    if (w.t === 'table' && !w.quoted) {
      tableBlock();
      continue;
    }
    if ((w.t === 'add' || w.t === 'create' || w.t === 'insert') && !w.quoted) {
      command();
      continue;
    }
    if (w.t === 'flush' && peek(1)?.t === 'ruleset') {
      p += 2;
      continue;
    }
    const before = p;
    report(
      w.t === 'define' || w.t === 'include' || w.t === 'delete' || w.t === 'flush' ? NFT_UNSUPPORTED : NFT_SYNTAX,
      w.t === 'define' || w.t === 'include' || w.t === 'delete' || w.t === 'flush' ? 'warning' : 'error',
      w.t === 'define' || w.t === 'include' || w.t === 'delete' || w.t === 'flush'
        ? `NetPath does not model '${w.t}'.`
        : `Expected 'table' or an 'add' command, not '${w.t}'.`,
      tspan(w),
    );
    skipStatement();
    if (at('{')) skipBlock();
    if (p === before) p++;
  }

  // References: jump/goto targets and sets must exist in the same table.
  if (options.checkReferences !== false)
    for (const t of tables)
      problems.push(
        ...nftReferenceProblems(
          t,
          (name) => t.chains.has(name),
          (name) => t.sets.has(name),
          t.chains.values(),
          t.sets.values(),
        ),
      );

  return {
    ruleset: {
      tables: tables.map((t): NftTable => ({
        family: t.family,
        name: t.name,
        span: t.span,
        chains: new Map([...t.chains].map(([k, c]): [string, NftChain] => [k, c])),
        sets: new Map([...t.sets].map(([k, s]): [string, NftSet] => [k, s])),
      })),
    },
    problems,
  };
}

/** Index of the `}` matching the `{` at `open`. */
function matching(list: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < list.length; i++) {
    if (list[i].quoted) continue;
    if (list[i].t === '{') depth++;
    else if (list[i].t === '}' && --depth === 0) return i;
  }
  return list.length;
}

function splitTop(list: readonly Token[], sep: string): Token[][] {
  const out: Token[][] = [[]];
  let depth = 0;
  for (const t of list) {
    if (!t.quoted && t.t === '\n') continue;
    if (!t.quoted && t.t === '{') depth++;
    if (!t.quoted && t.t === '}') depth--;
    if (!t.quoted && t.t === sep && depth === 0) out.push([]);
    else out[out.length - 1].push(t);
  }
  return out;
}

function verdictFrom(list: readonly Token[], i: number): { verdict: NftVerdict; next: number } | undefined {
  const w = list[i]?.t;
  if (w === 'accept' || w === 'drop' || w === 'return' || w === 'continue')
    return { verdict: { kind: w }, next: i + 1 };
  if ((w === 'jump' || w === 'goto') && list[i + 1]) return { verdict: { kind: w, chain: list[i + 1].t }, next: i + 2 };
  return undefined;
}

function opWord(t: string | undefined): 'and' | 'or' | 'xor' | undefined {
  if (t === 'and' || t === '&') return 'and';
  if (t === 'or' || t === '|') return 'or';
  if (t === 'xor' || t === '^') return 'xor';
  return undefined;
}

function numberValue(t: string | undefined): bigint | undefined {
  if (t === undefined) return undefined;
  return /^0x[0-9a-fA-F]+$/.test(t) || /^\d+$/.test(t) ? BigInt(t) : undefined;
}

/** `10.0.0.1`, `10.0.0.1:80`, `[fd00::1]:80`, `fd00::1`, `:80`. */
function addressPort(text: string): { address?: string; port?: number } | undefined {
  let m = /^\[([0-9a-fA-F:.]+)\](?::(\d+)(?:-\d+)?)?$/.exec(text);
  if (m) return { address: m[1], ...(m[2] ? { port: Number(m[2]) } : {}) };
  m = /^(\d+\.\d+\.\d+\.\d+)(?:-[\d.]+)?(?::(\d+)(?:-\d+)?)?$/.exec(text);
  if (m) return { address: m[1], ...(m[2] ? { port: Number(m[2]) } : {}) };
  m = /^:(\d+)$/.exec(text);
  if (m) return { port: Number(m[1]) };
  if (/^[0-9a-fA-F:]+$/.test(text) && text.includes(':')) return { address: text };
  return undefined;
}

type PayloadProto = Extract<NftSelector, { kind: 'payload' }>['proto'];
type MetaKey = Extract<NftSelector, { kind: 'meta' }>['key'];
type CtKey = Extract<NftSelector, { kind: 'ct' }>['key'];
type FibFlag = Extract<NftSelector, { kind: 'fib' }>['flags'][number];
const PAYLOAD_PROTOS: readonly PayloadProto[] = ['ether', 'ip', 'ip6', 'tcp', 'udp', 'sctp', 'th', 'icmp', 'icmpv6'];
const META_KEYS: readonly MetaKey[] = [
  'l4proto',
  'mark',
  'iifname',
  'oifname',
  'ibrname',
  'obrname',
  'nfproto',
  'protocol',
];
const CT_KEYS: readonly CtKey[] = ['state', 'status', 'mark'];
const FIB_FLAGS: readonly FibFlag[] = ['saddr', 'daddr', 'iif', 'oif', 'mark'];

/** The fields NetPath reads of each payload protocol (looked up only with a word checked against PAYLOAD_PROTOS). */
const PAYLOAD_FIELDS: Readonly<Record<PayloadProto, readonly string[]>> = lookupTable({
  // (Ethernet addresses are not modelled: `ether saddr`/`daddr` stay unsupported.)
  ether: ['type'],
  ip: ['saddr', 'daddr', 'protocol'],
  ip6: ['saddr', 'daddr', 'nexthdr'],
  tcp: ['sport', 'dport'],
  udp: ['sport', 'dport'],
  sctp: ['sport', 'dport'],
  th: ['sport', 'dport'],
  icmp: ['type'],
  icmpv6: ['type'],
});

/** One selector at `i`, or undefined when the tokens there are not one NetPath reads. */
function selectorFrom(list: readonly Token[], i: number): { selector: NftSelector; next: number } | undefined {
  const w = list[i];
  if (!w || w.quoted) return undefined;
  const f = list[i + 1]?.t ?? '';
  const proto = w.t;
  if (isOneOf(PAYLOAD_PROTOS, proto)) {
    if (!PAYLOAD_FIELDS[proto].includes(f)) return undefined;
    return { selector: { kind: 'payload', proto, field: f }, next: i + 2 };
  }
  switch (w.t) {
    case 'meta':
      if (isOneOf(META_KEYS, f)) return { selector: { kind: 'meta', key: f }, next: i + 2 };
      return undefined;
    case 'mark':
    case 'iifname':
    case 'oifname':
      return { selector: { kind: 'meta', key: w.t }, next: i + 1 };
    case 'ct':
      if (isOneOf(CT_KEYS, f)) return { selector: { kind: 'ct', key: f }, next: i + 2 };
      return undefined;
    case 'fib': {
      const flags: ('saddr' | 'daddr' | 'iif' | 'oif' | 'mark')[] = [];
      let j = i + 1;
      for (;;) {
        const flag = list[j]?.t;
        if (!isOneOf(FIB_FLAGS, flag)) break;
        flags.push(flag);
        j++;
        if (list[j]?.t === '.') j++;
        else break;
      }
      if (!flags.length || list[j]?.t !== 'type') return undefined;
      return { selector: { kind: 'fib', flags }, next: j + 1 };
    }
    case 'numgen': {
      const mode = list[i + 1]?.t;
      if ((mode !== 'random' && mode !== 'inc') || list[i + 2]?.t !== 'mod' || !/^\d+$/.test(list[i + 3]?.t ?? ''))
        return undefined;
      // nft refuses a modulus of 0 or above 2^32 - 1 ("Numerical result out of range").
      const mod = Number(list[i + 3].t);
      if (mod < 1 || mod > 0xffffffff) return undefined;
      let next = i + 4;
      let offset = 0;
      if (list[next]?.t === 'offset' && /^\d+$/.test(list[next + 1]?.t ?? '')) {
        offset = Number(list[next + 1].t);
        next += 2;
      }
      return { selector: { kind: 'numgen', mode, mod, offset }, next };
    }
  }
  return undefined;
}

/**
 * Jumps, gotos and set lookups in `chains`, and verdicts in the maps of `sets`, that name a chain or set table `t` does
 * not hold (`hasChain`, `hasSet`).
 */
export function nftReferenceProblems(
  t: { readonly family: NftFamily; readonly name: string },
  hasChain: (name: string) => boolean,
  hasSet: (name: string) => boolean,
  chains: Iterable<NftChain>,
  sets: Iterable<NftSet>,
): Problem[] {
  const problems: Problem[] = [];
  for (const c of chains) {
    for (const r of c.rules) {
      const check = (v: NftVerdict | undefined): void => {
        if (v && (v.kind === 'jump' || v.kind === 'goto') && !hasChain(v.chain))
          problems.push(
            problem(NFT_UNKNOWN_CHAIN, 'error', `No chain '${v.chain}' in table '${t.family} ${t.name}'.`, r.span),
          );
      };
      for (const it of r.items) {
        if (it.kind === 'verdict') check(it.verdict);
        const ref = it.kind === 'match' ? it.rhs : it.kind === 'vmap' ? it.map : undefined;
        if (ref?.kind === 'set' && !hasSet(ref.name))
          problems.push(
            problem(NFT_UNKNOWN_SET, 'error', `No set or map '${ref.name}' in table '${t.family} ${t.name}'.`, r.span),
          );
        if (ref?.kind === 'values') for (const e of ref.elements) check(e.verdict);
        if (it.kind === 'set-update' && !hasSet(it.set))
          problems.push(
            problem(NFT_UNKNOWN_SET, 'error', `No set '${it.set}' in table '${t.family} ${t.name}'.`, r.span),
          );
      }
    }
  }
  for (const s of sets)
    for (const e of s.elements) {
      const v = e.verdict;
      if (v && (v.kind === 'jump' || v.kind === 'goto') && !hasChain(v.chain))
        problems.push(
          problem(
            NFT_UNKNOWN_CHAIN,
            'error',
            `Map '${s.name}' sends to chain '${v.chain}', which table '${t.family} ${t.name}' does not have.`,
            s.span,
          ),
        );
    }
  return problems;
}
