/**
 * The two ruleset parsers, fuzzed directly (the pipeline fuzz reaches them only through YAML that parses): the
 * iptables-save parser and the nftables parser never throw and always finish on arbitrary text, on text made of
 * their own tokens, and on mutations of every ruleset the repository holds — the fixtures (`*.nft`, the raw
 * `iptables:`/`nftables:` blocks of examples and fixtures) and what kube-proxy's generators write for every
 * topology of the corpus (iptables-save with the other authors' rules, and the nftables tables). Every span they
 * return (problems, related information, tables, chains, rules, matches) lies inside the text they were given, in
 * the file they were given.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { analyse } from '../../../src/core';
import { buildNodeRules } from '../../../src/core/dataplane';
import { kubeProxyNftablesText } from '../../../src/core/dataplane/kube-proxy';
import { parseIptablesSave } from '../../../src/core/netfilter';
import { parseNftRuleset } from '../../../src/core/nftables';
import type { Topology } from '../../../src/core/model/types';
import { CORPUS, fuzzTimeout, params } from './harness';

const ROOT = path.resolve(__dirname, '../../..');
const FILE = '/w/rules';

function filesUnder(dir: string, re: RegExp, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, re, out);
    else if (re.test(e.name)) out.push(p);
  }
  return out;
}

/** Every ruleset of the repository, by dialect: fixtures as written and the generators' output for the corpus. */
const RULESETS = (() => {
  const iptables = new Set<string>();
  const nftables = new Set<string>();
  /** What the generators wrote with nothing of the user's in it: it must parse without a problem. */
  const generated = { iptables: new Set<string>(), nftables: new Set<string>() };
  for (const p of filesUnder(path.join(ROOT, 'test/fixtures'), /\.nft$/)) nftables.add(fs.readFileSync(p, 'utf8'));
  for (const group of CORPUS) {
    const t: Topology = analyse(group).topology;
    for (const node of t.nodes.slice(0, 2)) {
      if (node.iptables) iptables.add(node.iptables.text);
      if (node.nftables) nftables.add(node.nftables.text);
      // kube-proxy's iptables mode with the CNI plug-in's and the user's rules, as "Show Node Rules" prints them.
      const rules = buildNodeRules(t, node).text;
      iptables.add(rules);
      if (!node.iptables) generated.iptables.add(rules);
      // kube-proxy's nftables mode for the same Services and endpoints (the generator reads no mode).
      const nft = kubeProxyNftablesText(t, node);
      nftables.add(nft);
      generated.nftables.add(nft);
    }
  }
  return {
    iptables: [...iptables].filter((s) => s.trim()),
    nftables: [...nftables].filter((s) => s.trim()),
    generated: { iptables: [...generated.iptables], nftables: [...generated.nftables] },
  };
})();

/** Every span inside `value` (a parse result: plain data, arrays, maps), with where it was found. */
function spansOf(
  value: unknown,
  where = '',
  seen = new Set<object>(),
  out: [string, unknown][] = [],
): [string, unknown][] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  const v = value as Record<string, unknown>;
  if (typeof v.file === 'string' && typeof v.start === 'number' && typeof v.end === 'number') out.push([where, v]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(v);
  for (const [k, x] of entries) spansOf(x, `${where}.${String(k)}`, seen, out);
  return out;
}

/** Every span of `result` is in `file` and within [base, base + length]; every problem has a non-empty message. */
function assertSpansInside(result: { readonly problems: readonly { message: string }[] }, text: string, base: number) {
  for (const p of result.problems) assert.ok(p.message.length > 0, 'a problem without a message');
  for (const [where, s] of spansOf(result)) {
    const span = s as { file: string; start: number; end: number };
    assert.equal(span.file, FILE, `${where}: span in another file`);
    assert.ok(
      Number.isInteger(span.start) && base <= span.start && span.start <= span.end && span.end <= base + text.length,
      `${where}: span ${span.start}..${span.end} outside ${base}..${base + text.length}`,
    );
  }
}

const parsers = {
  iptables: (text: string, base: number) => parseIptablesSave(text, FILE, base),
  nftables: (text: string, base: number) => parseNftRuleset(text, FILE, base),
} as const;

/**
 * Words every JavaScript object answers to: a table lookup with one of them found a function where a parser expected
 * its table's value (issue 17: `-j constructor`, `constructor saddr 1.2.3.4`, `ct state toString` crashed).
 */
const INHERITED_WORDS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'] as const;

/** Tokens of each dialect, the pieces a hand-edited ruleset is made of (and broken with). */
const TOKENS = {
  iptables: [
    '*nat\n',
    '*filter\n',
    '*raw\n',
    '*mangle\n',
    '*bogus\n',
    'COMMIT\n',
    ':KUBE-SERVICES - [0:0]\n',
    ':PREROUTING ACCEPT [0:0]\n',
    ':X DROP [1:2]\n',
    '-A ',
    '-I ',
    '-N ',
    'PREROUTING ',
    'KUBE-SERVICES ',
    'X ',
    '-j ',
    '-g ',
    'DNAT ',
    'SNAT ',
    'MASQUERADE ',
    'ACCEPT ',
    'DROP ',
    'RETURN ',
    'MARK ',
    '--to-destination ',
    '10.96.0.1:80 ',
    '[fd00::1]:80 ',
    '-m ',
    'statistic ',
    '--mode random ',
    '--probability ',
    '0.5 ',
    '1e999 ',
    'comment ',
    '--comment ',
    '"a b" ',
    '"unterminated ',
    '-p tcp ',
    '--dport ',
    '80:90 ',
    '65536 ',
    '-s ',
    '10.0.0.0/33 ',
    '! ',
    '-d ',
    'conntrack ',
    '--ctstate NEW,DNAT ',
    'mark ',
    '--mark 0x4000/0x4000 ',
    'recent ',
    'addrtype ',
    '--dst-type LOCAL ',
    '-i ',
    'eth0+ ',
    '\n',
    '\r\n',
    '#',
    ' ',
    '\u0000',
    '\u202e',
    ...INHERITED_WORDS.map((w) => `${w} `),
  ],
  nftables: [
    'table ',
    'ip ',
    'ip6 ',
    'inet ',
    'kube-proxy ',
    '{\n',
    '}\n',
    ';',
    'chain ',
    'set ',
    'map ',
    'type ',
    'nat ',
    'filter ',
    'hook ',
    'prerouting ',
    'postrouting ',
    'priority ',
    'dstnat',
    '-100',
    ';\n',
    'policy ',
    'accept',
    'drop',
    'jump ',
    'goto ',
    'return',
    'services ',
    'elements = { ',
    '10.96.0.1 . tcp . 80 : goto x',
    ', ',
    'ipv4_addr . inet_proto . inet_service : verdict',
    'ip daddr ',
    'ip saddr ',
    '@set ',
    'vmap ',
    'numgen ',
    'random mod 2 ',
    '0 : jump a, 1 : jump b ',
    'dnat to ',
    'snat to ',
    'masquerade',
    '10.0.0.1:80 ',
    '[fd00::1]:80',
    'meta ',
    'l4proto ',
    'th dport ',
    'ct state ',
    'new ',
    'established ',
    'mark ',
    'set ',
    'and 0x4000 ',
    '!= 0 ',
    'flags ',
    'interval',
    'timeout 3h',
    'update @a { ip saddr }',
    'comment "x"',
    '"unterminated',
    'add rule ip t c ',
    'flush ',
    'delete ',
    'define ',
    '$x ',
    '\n',
    '\\\n',
    '#',
    ' ',
    '\u0000',
    ...INHERITED_WORDS.map((w) => `${w} `),
  ],
} as const;

/** One mutation of a ruleset's text, as data so a counterexample prints what was done. */
type Mutation =
  | { readonly cut: number }
  | { readonly digit: number; readonly to: string }
  | { readonly drop: number }
  | { readonly duplicate: number }
  | { readonly swap: number; readonly with: number }
  | { readonly deleteWord: number }
  | { readonly rename: number; readonly to: string }
  | { readonly insert: number; readonly token: string };

const mutation = (tokens: readonly string[]): fc.Arbitrary<Mutation> =>
  fc.oneof(
    fc.record({ cut: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ digit: fc.nat(), to: fc.constantFrom('0', '9', 'x', '', '.', ':', '/', '99999', '-', ',') }),
    fc.record({ drop: fc.nat() }),
    fc.record({ duplicate: fc.nat() }),
    fc.record({ swap: fc.nat(), with: fc.nat() }),
    fc.record({ deleteWord: fc.nat() }),
    // A word (a target, a match, a keyword, a value) replaced by one that every object answers to.
    fc.record({ rename: fc.nat(), to: fc.constantFrom(...INHERITED_WORDS) }),
    fc.record({ insert: fc.nat(), token: fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 6 })) }),
  );

function mutate(t: string, m: Mutation): string {
  if ('cut' in m) return t.slice(0, Math.floor(t.length * m.cut));
  if ('digit' in m) {
    const digits = [...t.matchAll(/\d/g)];
    if (!digits.length) return t;
    const at = digits[m.digit % digits.length].index ?? 0;
    return t.slice(0, at) + m.to + t.slice(at + 1);
  }
  if ('insert' in m) {
    const at = t.length ? m.insert % (t.length + 1) : 0;
    return t.slice(0, at) + m.token + t.slice(at);
  }
  if ('swap' in m || 'deleteWord' in m || 'rename' in m) {
    const words = [...t.matchAll(/\S+/g)];
    if (!words.length) return t;
    const a = words[('swap' in m ? m.swap : 'rename' in m ? m.rename : m.deleteWord) % words.length];
    const start = a.index ?? 0;
    const by = 'swap' in m ? words[m.with % words.length][0] : 'rename' in m ? m.to : '';
    return t.slice(0, start) + by + t.slice(start + a[0].length);
  }
  const lines = t.split('\n');
  if ('drop' in m) lines.splice(m.drop % lines.length, 1);
  else {
    const i = m.duplicate % lines.length;
    lines.splice(i, 0, lines[i]);
  }
  return lines.join('\n');
}

for (const dialect of ['iptables', 'nftables'] as const) {
  const parse = parsers[dialect];
  const corpus = RULESETS[dialect];
  const generated = RULESETS.generated[dialect];
  const base = fc.oneof(fc.constant(0), fc.nat({ max: 100000 }));

  describe(`fuzz: the ${dialect} parser never throws and keeps its spans inside the input`, function () {
    this.timeout(fuzzTimeout());

    it(`has a corpus of fixtures and generated rulesets (${corpus.length})`, () => {
      // The generators contribute one ruleset per topology at least; a corpus this small would test nothing.
      assert.ok(corpus.length >= 20, `${corpus.length} rulesets`);
    });

    it('on arbitrary text', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 400, unit: 'binary' }), base, (text, b) => {
          assertSpansInside(parse(text, b), text, b);
        }),
        params(300),
      );
    });

    it('on text made of its own tokens', () => {
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...TOKENS[dialect]), { maxLength: 80 }), base, (parts, b) => {
          const text = parts.join('');
          assertSpansInside(parse(text, b), text, b);
        }),
        params(300),
      );
    });

    it('on mutations of every ruleset fixture and generated ruleset', () => {
      fc.assert(
        fc.property(
          fc.nat({ max: corpus.length - 1 }),
          fc.array(mutation(TOKENS[dialect]), { minLength: 1, maxLength: 5 }),
          base,
          (i, ms, b) => {
            const text = ms.reduce(mutate, corpus[i]);
            assertSpansInside(parse(text, b), text, b);
          },
        ),
        params(200),
      );
    });

    it(`on every corpus ruleset unchanged, with no problem on what the generators wrote (${generated.length})`, () => {
      for (const text of corpus) assertSpansInside(parse(text, 7), text, 7);
      for (const text of generated) {
        const { problems } = parse(text, 0);
        assert.deepEqual(
          problems.map((p) => `${p.code}: ${p.message}`),
          [],
          text.slice(0, 200),
        );
      }
    });
  });
}
