import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { analyse } from '../../../src/core';
import { buildNodeRules } from '../../../src/core/dataplane/node-rules';
import { newParseMemo, parseIptablesLines, parseIptablesLinesLazily } from '../../../src/core/netfilter/parse';
import { kubernetesList, netpathCluster } from '../../../bench/cluster';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

/** The lazy parse, every chain read, is the eager parse: the same ruleset (spans included) and problems. */
function same(text: string): 'lazy' | 'eager' {
  const lines = text.split('\n');
  const lazy = parseIptablesLinesLazily(lines, 'netpath:rules', newParseMemo());
  const eager = parseIptablesLines(lines, 'netpath:rules', newParseMemo());
  if (!lazy) return 'eager';
  // Read through JSON so every chain's getter runs (bigints of the prefixes as text).
  const plain = (v: unknown): unknown =>
    JSON.parse(JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)));
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
