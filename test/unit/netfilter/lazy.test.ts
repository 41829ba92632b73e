import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { analyse } from '../../../src/core';
import { buildNodeRules, newRulesMemo, SHARED_RULES_FILE } from '../../../src/core/dataplane/node-rules';
import {
  lazyScanner,
  newParseMemo,
  parseIptablesLines,
  parseIptablesLinesLazily,
} from '../../../src/core/netfilter/parse';
import { kubernetesList, netpathCluster } from '../../../bench/cluster';
import { takeWork } from '../../../src/core/work';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

// Read through JSON so every chain's getter runs (bigints of the prefixes as text).
const plain = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)));

/** The lazy parse, every chain read, is the eager parse: the same ruleset (spans included) and problems. */
function same(text: string): 'lazy' | 'eager' {
  const lines = text.split('\n');
  const lazy = parseIptablesLinesLazily(lines, 'netpath:rules', newParseMemo());
  const eager = parseIptablesLines(lines, 'netpath:rules', newParseMemo());
  if (!lazy) return 'eager';
  assert.deepEqual(plain(lazy.ruleset), plain(eager.ruleset), text);
  assert.deepEqual(lazy.problems, eager.problems, text);
  return 'lazy';
}

describe('iptables rules parsed chain by chain as they are read', () => {
  it("gives every node's generated ruleset of every fixture exactly as the eager parse does", () => {
    const texts = yamlFiles('test/fixtures/rules')
      .map((f) => ({ path: f, text: readFileSync(f, 'utf8') }))
      .concat([
        { path: 'a.yaml', text: netpathCluster({ name: 'a', nodes: 3, pods: 12, services: 5 }) },
        { path: 'b.yaml', text: kubernetesList({ name: 'b', nodes: 3, pods: 12, services: 5 }) },
      ]);
    let lazy = 0;
    for (const file of texts) {
      const t = analyse([file]).topology;
      for (const node of t.nodes) if (same(buildNodeRules(t, node).text) === 'lazy') lazy++;
    }
    assert.ok(lazy > 50, `the lazy parse took ${lazy} rulesets`);
  });

  it('finds the problems the eager parse finds: jumps to nothing, to built-in chains, unsupported matches, loops', () => {
    const text = [
      '*filter',
      ':INPUT ACCEPT [0:0]',
      ':FORWARD DROP [0:0]',
      ':A - [0:0]',
      ':B - [0:0]',
      '-A INPUT -j A',
      '-A A -j NOWHERE',
      '-A A -p tcp -m geoip --src-cc FR -j ACCEPT',
      '-A A -j B',
      '-A B -j FORWARD',
      '-A B -j A',
      '-A B -j CLASSIFY',
      'COMMIT',
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      '-A PREROUTING -d 10.0.0.1/32 -j DNAT --to-destination 10.1.0.1:80',
      'COMMIT',
      '',
    ].join('\n');
    assert.equal(same(text), 'lazy');
    const codes = parseIptablesLinesLazily(text.split('\n'), 'f', newParseMemo())!.problems.map((p) => p.code);
    assert.ok(codes.includes('iptables.syntax') && codes.includes('iptables.unsupported'), codes.join(', '));
  });

  it('reads lines alike but for names and addresses from the line before as the parse would, or parses them', () => {
    // Each pair: a line, then lines of its shape (names and IPv4 addresses of the same lengths) that must read the
    // same as parsed, including those whose words do not read as the first's (a bad address, a built-in target).
    const text = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SVC-AAAA - [0:0]',
      ':KUBE-SVC-BBBB - [0:0]',
      ':KUBE-SEP-AAAA - [0:0]',
      ':KUBE-SEP-BBBB - [0:0]',
      ':KUBE-SEP-CCCC - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      '-A PREROUTING -j KUBE-SVC-AAAA',
      '-A PREROUTING -j KUBE-SVC-BBBB',
      '-A KUBE-SVC-AAAA -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-AAAA',
      '-A KUBE-SVC-AAAA -j KUBE-SEP-BBBB',
      '-A KUBE-SVC-BBBB -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-CCCC',
      '-A KUBE-SVC-BBBB -j KUBE-SEP-NONE',
      '-A KUBE-SVC-BBBB -j DROP',
      '-A KUBE-SEP-AAAA -s 10.1.0.1 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-AAAA -m tcp -p tcp -j DNAT --to-destination 10.1.0.1:8080',
      '-A KUBE-SEP-BBBB -s 10.1.0.2 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-BBBB -m tcp -p tcp -j DNAT --to-destination 10.1.0.2:8080',
      '-A KUBE-SEP-BBBB ! -s 10.1.0.3 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-BBBB ! -s 10.1.0.4 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-CCCC -s 10.1.0.9 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-CCCC -s 999.1.0.9 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-CCCC -d 10.1.0.9 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-CCCC -m tcp -p tcp -j DNAT --to-destination 10.1.0.9:99999',
      '-A KUBE-SEP-CCCC -m tcp -p tcp -j DNAT --to-destination 10.1.0.9',
      '-A KUBE-SEP-CCCC -m tcp -p tcp -j DNAT --to-destination 10.1.0.19',
      'COMMIT',
      '',
    ].join('\n');
    assert.equal(same(text), 'lazy');
    const memo = newParseMemo();
    const parsed = parseIptablesLinesLazily(text.split('\n'), 'f', memo)!;
    takeWork();
    const chains = parsed.ruleset.tables.nat?.chains ?? [];
    const rules = chains.reduce((n, c) => n + c.rules.length, 0);
    // The first line of each shape is parsed, and those whose words do not read as its (the bad address and port).
    const read = takeWork().iptablesLinesParsed;
    assert.ok(read < rules - 6, `${read} of ${rules} lines parsed`);
    const sep = chains.find((c) => c.name === 'KUBE-SEP-BBBB');
    assert.deepEqual(
      sep?.rules.map((r) => r.text),
      [
        '-A KUBE-SEP-BBBB -s 10.1.0.2 -j KUBE-MARK-MASQ',
        '-A KUBE-SEP-BBBB -m tcp -p tcp -j DNAT --to-destination 10.1.0.2:8080',
        '-A KUBE-SEP-BBBB ! -s 10.1.0.3 -j KUBE-MARK-MASQ',
        '-A KUBE-SEP-BBBB ! -s 10.1.0.4 -j KUBE-MARK-MASQ',
      ],
    );
    assert.ok((memo.shapes.get('nat')?.size ?? 0) > 0, 'the memo keeps the shapes it read');
  });

  it("makes a line's rule from its shape as the parse writes it, key by key (a trace's JSON)", () => {
    // A rule made from a shape is made where it goes: its JSON, keys in order, is the eager parse's, and it is not
    // kept by its text in the memo (no other chain has the line).
    const sep = (n: number): string[] => {
      const chain = `KUBE-SEP-${String(n).padStart(16, 'A')}`;
      return [
        `-A ${chain} -s 10.1.0.${n} -j KUBE-MARK-MASQ`,
        `-A ${chain} -m tcp -p tcp -j DNAT --to-destination 10.1.0.${n}:8080`,
      ];
    };
    const ns = [11, 12, 13, 14];
    const lines = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      ...ns.map((n) => `:KUBE-SEP-${String(n).padStart(16, 'A')} - [0:0]`),
      '-A PREROUTING -j KUBE-SVC-AAAAAAAAAAAAAAAA',
      ...ns.map((n, i) =>
        i < ns.length - 1
          ? `-A KUBE-SVC-AAAAAAAAAAAAAAAA -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-${String(n).padStart(16, 'A')}`
          : `-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-${String(n).padStart(16, 'A')}`,
      ),
      ...ns.flatMap(sep),
      'COMMIT',
      '',
    ];
    const memo = newParseMemo();
    const lazy = parseIptablesLinesLazily(lines, 'f', memo)!;
    const eager = parseIptablesLines(lines, 'f', newParseMemo());
    const json = (r: typeof lazy): string[] =>
      (r.ruleset.tables.nat?.chains ?? []).flatMap((c) =>
        c.rules.map((rule) => JSON.stringify(rule, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))),
      );
    assert.deepEqual(json(lazy), json(eager));
    // Parsed in full and kept: the first line of each of the 5 shapes; the 8 others come from the shapes.
    assert.ok((memo.rules.get('nat')?.size ?? 0) <= 5, `${memo.rules.get('nat')?.size} lines kept`);
  });

  it('takes from a shape only the words that are whole IPv4 addresses, as the parse reads them', () => {
    // Words that look almost like addresses (a fourth digit in a group, three groups, a port of six digits, a prefix
    // length) are part of a line's shape, not left out of it: each of these lines reads as parsed, after one of the
    // same length and words that is an address.
    const text = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SEP-AAAA - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      '-A PREROUTING -j KUBE-SEP-AAAA',
      '-A KUBE-SEP-AAAA -s 10.1.0.1 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-AAAA -s 1000.1.0.1 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-AAAA -s 10.100.01 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-AAAA -s 10.1.0.1/32 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-AAAA -s 10.1.0.2/32 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-AAAA -d 10.1.0.3 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-AAAA -m tcp -p tcp -j DNAT --to-destination 10.1.0.1:80',
      '-A KUBE-SEP-AAAA -m tcp -p tcp -j DNAT --to-destination 10.1.0.2:81',
      '-A KUBE-SEP-AAAA -m tcp -p tcp -j DNAT --to-destination 10.1.0.1:123456',
      '-A KUBE-SEP-AAAA -m tcp -p tcp -j DNAT --to-destination 10.1.0.1:',
      '-A KUBE-SEP-AAAA -m tcp -p tcp -j DNAT --to-destination 10.1.0.1.2',
      'COMMIT',
      '',
    ].join('\n');
    assert.equal(same(text), 'lazy');
  });

  it('parses a chain only when it is read', () => {
    const text = '*nat\n:PREROUTING ACCEPT [0:0]\n:X - [0:0]\n-A PREROUTING -j X\n-A X -j ACCEPT\nCOMMIT\n';
    const r = parseIptablesLinesLazily(text.split('\n'), 'f', newParseMemo())!;
    const chain = r.ruleset.tables.nat!.chains.find((c) => c.name === 'X')!;
    const x = Object.getOwnPropertyDescriptor(chain, 'rules');
    assert.equal(typeof x?.get, 'function', 'a chain holds a getter until read');
    assert.deepEqual(
      chain.rules.map((rule) => rule.text),
      ['-A X -j ACCEPT'],
    );
  });

  it("places kube-proxy's lines by what the generator knows of them, as a parse of the node's text would", () => {
    // Alike nodes share one ruleset, built from the lines as they are assembled (kube-proxy's never read back): it
    // is the eager parse of the text after the node's two header lines, in the shared file, spans included.
    const files = [
      { path: 'a.yaml', text: netpathCluster({ name: 'a', nodes: 4, pods: 40, services: 12 }) },
      { path: 'b.yaml', text: kubernetesList({ name: 'b', nodes: 3, pods: 12, services: 5 }) },
      { path: 'c.yaml', text: netpathCluster({ name: 'c', nodes: 5, pods: 1100, services: 10 }) },
    ];
    for (const file of files) {
      const t = analyse([file]).topology;
      const memo = newRulesMemo();
      for (const node of t.nodes) {
        const rules = buildNodeRules(t, node, {}, memo);
        assert.ok(rules.shared, `${file.path} ${node.name} shares its ruleset`);
        // Alike nodes share the ruleset: until the first node's is read (below), no Service chain is parsed.
        const svc = rules.ruleset.tables.nat!.chains.find((c) => c.name.startsWith('KUBE-SVC-'))!;
        if (node === t.nodes[0])
          assert.equal(typeof Object.getOwnPropertyDescriptor(svc, 'rules')?.get, 'function', 'parsed when read');
        const body = rules.text.split('\n').slice(2);
        const eager = parseIptablesLines(body, SHARED_RULES_FILE, newParseMemo());
        assert.deepEqual(plain(rules.ruleset), plain(eager.ruleset), `${file.path} ${node.name}`);
        assert.deepEqual(
          rules.problems,
          eager.problems.map((p) => ({
            ...p,
            span: {
              ...p.span,
              file: `netpath:rules/${node.name}`,
              start: p.span.start + rules.shared!.shift,
              end: p.span.end + rules.shared!.shift,
            },
          })),
        );
      }
    }
  });

  it('takes a line as its writer says it is, and refuses a fact the text could not hold', () => {
    const scan = lazyScanner('f', newParseMemo());
    for (const l of ['*nat', ':PREROUTING ACCEPT [0:0]']) assert.ok(scan.line(l));
    assert.ok(scan.line(':KUBE-SERVICES - [0:0]', { decl: 'KUBE-SERVICES' }));
    assert.ok(scan.run({ chain: 'PREROUTING', rules: ['-A PREROUTING -j KUBE-SERVICES'] }));
    assert.ok(scan.line('-A KUBE-SERVICES -j RETURN', { rule: 'KUBE-SERVICES' }));
    assert.ok(scan.line('COMMIT'));
    const r = scan.end()!;
    const eager = parseIptablesLines(
      [
        '*nat',
        ':PREROUTING ACCEPT [0:0]',
        ':KUBE-SERVICES - [0:0]',
        '-A PREROUTING -j KUBE-SERVICES',
        '-A KUBE-SERVICES -j RETURN',
        'COMMIT',
      ],
      'f',
      newParseMemo(),
    );
    assert.deepEqual(plain(r.ruleset), plain(eager.ruleset));
    // A second declaration, a built-in chain declared as a user chain, rules of an undeclared chain: eager parse.
    const refused = (feed: (s: ReturnType<typeof lazyScanner>) => boolean): void => {
      const s = lazyScanner('f', newParseMemo());
      assert.ok(s.line('*nat'));
      assert.equal(feed(s), false);
      assert.equal(s.line('COMMIT'), false);
      assert.equal(s.end(), undefined);
    };
    refused((s) => s.line(':X - [0:0]', { decl: 'X' }) && s.line(':X - [0:0]', { decl: 'X' }));
    refused((s) => s.line(':OUTPUT - [0:0]', { decl: 'OUTPUT' }));
    refused((s) => s.run({ chain: 'NOPE', rules: ['-A NOPE -j ACCEPT'] }));
    refused((s) => s.line('-A NOPE -j ACCEPT', { rule: 'NOPE' }));
  });

  it("places a chain's lines given in several runs and single lines between them at their own offsets", () => {
    // A chain's lines are kept as the runs they came in; their offsets are worked out only when the chain is read.
    const lines = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-A - [0:0]',
      '-A PREROUTING -s 10.0.0.1 -j KUBE-A',
      '-A PREROUTING -s 10.0.0.22 -j KUBE-A',
      '-A KUBE-A -j RETURN',
      '-A PREROUTING -d 10.0.0.333 -j KUBE-A',
      '-A PREROUTING -p tcp --dport 80 -j ACCEPT',
      '-A PREROUTING -p udp -j DROP',
      'COMMIT',
    ];
    const scan = lazyScanner('f', newParseMemo());
    for (const l of lines.slice(0, 2)) assert.ok(scan.line(l));
    assert.ok(scan.line(lines[2], { decl: 'KUBE-A' }));
    assert.ok(scan.run({ chain: 'PREROUTING', rules: lines.slice(3, 5) }));
    assert.ok(scan.run({ chain: 'KUBE-A', rules: [lines[5]] }));
    assert.ok(scan.line(lines[6], { rule: 'PREROUTING' }));
    assert.ok(scan.run({ chain: 'PREROUTING', rules: lines.slice(7, 9) }));
    assert.ok(scan.line('COMMIT'));
    const eager = parseIptablesLines(lines, 'f', newParseMemo());
    assert.deepEqual(plain(scan.end()!.ruleset), plain(eager.ruleset));
  });

  it('gives every node the rules of its own, through a memo shared with the nodes before it', () => {
    // node2 has the Local-policy Service's endpoint, node1 not: their kube-proxy output differs, and node2's Service
    // ports are written again from what node1's generation recorded of them.
    const dir = 'test/fixtures/traces/nodeport-etp-local-with-endpoint';
    const t = analyse([{ path: 'topology.yaml', text: readFileSync(join(dir, 'topology.yaml'), 'utf8') }]).topology;
    const memo = newRulesMemo();
    const texts = t.nodes.map((node) => buildNodeRules(t, node, {}, memo).text);
    assert.ok(t.nodes.length >= 2 && new Set(texts).size === t.nodes.length, 'the nodes have different rules');
    t.nodes.forEach((node, i) => assert.equal(texts[i], buildNodeRules(t, node).text, node.name));
    for (const node of [...t.nodes].reverse())
      assert.equal(buildNodeRules(t, node, {}, memo).text, texts[t.nodes.indexOf(node)]);
  });

  it('leaves what is not plain generated text to the eager parse', () => {
    for (const text of [
      '*filter\n:INPUT ACCEPT [0:0]\n-I INPUT -j ACCEPT\nCOMMIT\n',
      '*filter\n-A NOPE -j ACCEPT\nCOMMIT\n',
      '*filter\nCOMMIT\n*filter\nCOMMIT\n',
      '*filter\n:INPUT ACCEPT [0:0]\n',
      '*filter\n  -A INPUT -j ACCEPT\nCOMMIT\n',
      '*filter\n:X - [0:0]\n:X - [0:0]\nCOMMIT\n',
      '*filter\n:INPUT MAYBE [0:0]\nCOMMIT\n',
      '*raw2\nCOMMIT\n',
      '-A INPUT -j ACCEPT\n',
    ])
      assert.equal(same(text), 'eager', JSON.stringify(text));
  });
});
