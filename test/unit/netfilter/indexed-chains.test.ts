import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { generateKubeProxyRules, generateKubeProxyTables } from '../../../src/core/kubeproxy';
import type { KubeProxyInput, ServiceInput } from '../../../src/core/kubeproxy/types';
import { indexedRulesOf, type ChainIndex } from '../../../src/core/netfilter/chains';
import { chainIndex, chainsOf } from '../../../src/core/netfilter/evaluate';
import {
  indexArgs,
  indexLine,
  newParseMemo,
  parseIptablesLinesLazily,
  type DeferredLines,
} from '../../../src/core/netfilter/parse';
import type { Chain, Rule, Table, TableName } from '../../../src/core/netfilter/types';

/**
 * Long dispatch chains (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES, KUBE-PROXY-FIREWALL) are indexed
 * from their lines without parsing them, and a packet parses only the rules it can match. That index and those
 * rules must be exactly what parsing the whole chain gives, for every shape kube-proxy writes.
 */

/** Many Services of every kind kube-proxy writes dispatch rules for, in one family. */
function services(family: 4 | 6, count: number): ServiceInput[] {
  const ip = (n: number, k: number): string =>
    family === 4 ? `10.${n}.${k >> 8}.${k & 255}` : `fd00:${n}::${k.toString(16)}`;
  const out: ServiceInput[] = [];
  for (let k = 1; k <= count; k++) {
    const kind = k % 8;
    const endpoints =
      kind === 7
        ? [] // no endpoints: REJECT rules in the filter table
        : [1, 2, 3].map((e) => ({
            ip: ip(128, k * 4 + e),
            ports: { http: 8080, dns: 53 },
            node: e === 1 ? 'node1' : `node${e + k}`,
            ...(kind === 6 && e === 2 ? { ready: false, serving: true, terminating: true } : {}),
          }));
    out.push({
      namespace: k % 3 ? 'default' : 'kube-system',
      name: `svc${k}`,
      clusterIP: ip(96, k),
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, ...(kind >= 2 ? { nodePort: 30000 + k } : {}) },
        ...(kind === 1 ? [{ name: 'dns', protocol: 'UDP' as const, port: 53, targetPort: 53 }] : []),
        ...(kind === 5 ? [{ name: '', protocol: 'SCTP' as const, port: 9000 }] : []),
      ],
      ...(kind === 3 ? { externalIPs: [ip(200, k)] } : {}),
      ...(kind === 4
        ? {
            loadBalancerIPs: [ip(201, k)],
            loadBalancerSourceRanges: [family === 4 ? '192.168.0.0/16' : 'fd01::/64'],
            healthCheckNodePort: 32000 + k,
          }
        : {}),
      ...(kind === 4 || kind === 6 ? { externalTrafficPolicy: 'Local' as const } : {}),
      ...(kind === 5 ? { internalTrafficPolicy: 'Local' as const, sessionAffinity: 'ClientIP' as const } : {}),
      endpoints,
    });
  }
  return out;
}

function inputs(): [string, KubeProxyInput][] {
  const base = (family: 4 | 6): KubeProxyInput => ({
    nodeName: 'node1',
    family,
    nodeIPs: [family === 4 ? '192.168.1.10' : 'fd01::10'],
    localDetector: { mode: 'ClusterCIDR', cidrs: [family === 4 ? '10.128.0.0/9' : 'fd00:128::/64'] },
    services: services(family, 60),
  });
  return [
    ['IPv4', base(4)],
    ['IPv6', base(6)],
    ['IPv4, nodePortAddresses and nfacct', { ...base(4), nodePortAddresses: ['192.168.0.0/16'], nfacct: true }],
    ['IPv4, no localhost NodePorts', { ...base(4), localhostNodePorts: false, masqueradeAll: true }],
    ['IPv4, a bridge detector', { ...base(4), localDetector: { mode: 'BridgeInterface', interface: 'cni0' } }],
    ['IPv4, over 1,000 endpoints (no per-endpoint comments)', { ...base(4), services: services(4, 400) }],
  ];
}

/** Every chain that offered an index before being parsed, with that index and each rule read one by one. */
function lazilyIndexed(text: string): { table: TableName; chain: string; index: ChainIndex; rules: Rule[] }[] {
  const parsed = parseIptablesLinesLazily(text.split('\n'), 'netpath:rules/node1', newParseMemo());
  assert.ok(parsed, 'generated text takes the lazy parse');
  const out: { table: TableName; chain: string; index: ChainIndex; rules: Rule[] }[] = [];
  const later: (() => void)[] = [];
  for (const table of Object.values(parsed.ruleset.tables)) {
    if (!table) continue;
    for (const chain of chainsOf(table).values()) {
      // Asked before anything parses the chain (after that, the chain's parsed rules answer).
      const indexed = indexedRulesOf(chain);
      if (!indexed) continue;
      const all = [...indexed.index.byDst.values(), ...indexed.index.byPort.values(), indexed.index.rest].flat();
      const rules = all.sort((a, b) => a - b).map((i) => indexed.ruleAt(i));
      later.push(() => out.push({ table: table.name, chain: chain.name, index: indexed.index, rules }));
    }
  }
  for (const f of later) f();
  return out;
}

describe('dispatch chains indexed without parsing them', () => {
  for (const [what, input] of inputs()) {
    it(`${what}: the index and the rules are those of the parsed chain`, () => {
      const text = generateKubeProxyRules(input);
      const indexed = lazilyIndexed(text);
      const names = indexed.map((c) => `${c.table} ${c.chain}`);
      assert.ok(names.includes('nat KUBE-SERVICES'), `KUBE-SERVICES is indexed (${names.join(', ')})`);
      if (input.services.some((s) => s.ports.some((p) => p.nodePort)))
        assert.ok(names.includes('nat KUBE-NODEPORTS'), 'KUBE-NODEPORTS is indexed');
      const full = parseIptablesLinesLazily(text.split('\n'), 'netpath:rules/node1', newParseMemo());
      assert.ok(full);
      for (const c of indexed) {
        const table: Table | undefined = full.ruleset.tables[c.table];
        assert.ok(table);
        const chain: Chain | undefined = chainsOf(table).get(c.chain);
        assert.ok(chain);
        // Every line has its rule, in order: the index covers each rule once.
        assert.equal(c.rules.length, chain.rules.length, `${c.chain}: one rule per line`);
        // Compared one by one with a short message: a diff of 100s of rules would be the size of the ruleset.
        c.rules.forEach((rule, i) =>
          assert.ok(isDeepStrictEqual(rule, chain.rules[i]), `${c.chain} rule ${i}: ${rule.text} read alone`),
        );
        assert.ok(isDeepStrictEqual(c.index, chainIndex(chain)), `${c.chain}: the index is the parsed chain's`);
      }
    });
  }

  // A skim keeps kube-proxy's per-Service dispatch lines as the words it would join (src/core/kubeproxy/generate.ts
  // DeferredRun): the index read from those words must be the one read from the lines.
  it("reads the lines a skim has not written from their words as it reads the lines (every input's)", () => {
    // Every KUBE- chain is there: the words and the line are asked about the same tables.
    const chains = new (class extends Map<string, { builtin: boolean }> {
      override has(name: string): boolean {
        return name.startsWith('KUBE-');
      }
    })();
    let deferredLines = 0;
    for (const [what, input] of inputs()) {
      const g = generateKubeProxyTables(input);
      const runs: [TableName, { chain: string; deferred?: DeferredLines; count?: number }][] = [
        ...(g.nat.layout?.plainRuns ?? []).map((r) => ['nat', r] as [TableName, typeof r]),
        ...g.filter.runs.map((r) => ['filter', r] as [TableName, typeof r]),
      ];
      for (const [table, r] of runs) {
        const deferred = r.deferred ?? (isDeferred(r) ? r : undefined);
        if (!deferred) continue;
        for (let i = 0; i < (r.count ?? 0); i++) {
          deferredLines++;
          const line: string = deferred.lineAt(i);
          assert.equal(deferred.charsOf(i), line.length + 1, `${what}: ${line} measured`);
          assert.equal(
            indexArgs(deferred.argsOf(i), table, chains),
            indexLine(line, r.chain, table, chains),
            `${what}: ${line}`,
          );
        }
      }
    }
    assert.ok(deferredLines > 0, 'the skims kept lines unwritten');
  });

  it('reads words as it reads the line they make, comment and all', () => {
    const chains = new Map([['KUBE-SVC-A', { builtin: false }]]);
    for (const line of [
      '-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m comment --comment "a b" -m udp -p udp --dport 53 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m comment --comment ab -m udp -p udp --dport 53 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m comment --comment "" -m udp -p udp --dport 53 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m comment --comment "a b"',
      '-A KUBE-SERVICES -m comment --comment "a \\" b" -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m comment --comment a"b -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m comment --comment "a b -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m tcp -p tcp -m comment --comment "a b" -d 10.0.0.1 --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m comment --comment "a" -m comment --comment "b" -d 10.0.0.1 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m tcp -p tcp  -d 10.0.0.1 --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-SVC-A',
    ]) {
      const words = wordsOf(line.slice('-A KUBE-SERVICES '.length));
      assert.equal(['-A', 'KUBE-SERVICES', ...words].join(' '), line, 'the words make the line');
      for (const args of [words, [words.slice(0, 4), ...words.slice(4)]])
        assert.equal(indexArgs(args, 'nat', chains), indexLine(line, 'KUBE-SERVICES', 'nat', chains), line);
    }
  });

  it('leaves a line it does not read to the parser (the whole chain is then parsed and indexed as usual)', () => {
    const chains = new Map([
      ['KUBE-SVC-A', { builtin: false }],
      ['PREROUTING', { builtin: true }],
    ]);
    const read = (line: string, table: TableName = 'nat') => indexLine(line, 'KUBE-SERVICES', table, chains);
    assert.equal(read('-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-A'), '4:167772161');
    assert.equal(read('-A KUBE-SERVICES -m comment --comment "a b" -m udp -p udp --dport 53 -j KUBE-SVC-A'), 53);
    assert.equal(read('-A KUBE-SERVICES -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-SVC-A'), 0);
    assert.equal(read('-A KUBE-SERVICES -d 10.0.0.0/24 --dport 80 -j KUBE-SVC-A'), undefined, '--dport needs -m tcp');
    assert.equal(read('-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.0/24 --dport 80 -j KUBE-SVC-A'), 80);
    for (const refused of [
      '-A KUBE-SERVICES -m comment --comment "a \\" b" -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-A',
      "-A KUBE-SERVICES -m comment --comment 'a b' -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-A",
      '-A KUBE-SERVICES -m comment --comment "a b -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m tcp -p tcp  -d 10.0.0.1 --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1,10.0.0.2 --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1 ! --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1 --dport 80:90 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1 --dport 0 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m tcp -p udp -d 10.0.0.1 --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m multiport -p tcp -d 10.0.0.1 --dports 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-MISSING',
      '-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1 --dport 80 -j PREROUTING',
      '-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1 --dport 80 -j DROP',
      '-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-A --extra',
      '-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1 --dport 80',
      '-A KUBE-SERVICESX -m tcp -p tcp -d 10.0.0.1 --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m tcp -p tcp -d not-an-address --dport 80 -j KUBE-SVC-A',
      '-A KUBE-SERVICES -m statistic --mode random --probability 0.5 -j KUBE-SVC-A',
    ])
      assert.equal(read(refused), undefined, refused);
    assert.equal(read('-A KUBE-SERVICES -m tcp -p tcp -d 10.0.0.1 --dport 80 -j DROP', 'filter'), '4:167772161');
  });
});

/** Whether a generated run is one whose lines its writer kept unwritten. */
function isDeferred(r: object): r is DeferredLines {
  return 'argsOf' in r && 'lineAt' in r && 'charsOf' in r;
}

/** A line's words as a writer hands them over: split at spaces, a double-quoted comment kept as one word. */
function wordsOf(text: string): string[] {
  const out: string[] = [];
  const pieces = text.split(' ');
  for (let i = 0; i < pieces.length; i++) {
    let w = pieces[i];
    if (w.startsWith('"') && (w.length === 1 || !w.endsWith('"')))
      while (i + 1 < pieces.length && !(w.length > 1 && w.endsWith('"'))) w += ` ${pieces[++i]}`;
    out.push(w);
  }
  return out;
}
