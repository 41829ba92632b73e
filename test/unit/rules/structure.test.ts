/**
 * The structure codes (from the YAML reader and the model builder), severity overrides, and the rule
 * catalogue: every code documented, every rule well-formed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, DIAGNOSTIC_CODES, RULES } from '../../../src/core';

const HEAD = 'apiVersion: netpath.dev/v1alpha1\nkind: Topology\n';
const run = (text: string, options = {}) => analyse([{ path: '/t/topology.yaml', text }], options).diagnostics;
const codes = (text: string, options = {}) => run(text, options).map((d) => d.code);

describe('rules: structure codes', () => {
  const table: { name: string; text: string; code: string; at: string; says?: RegExp }[] = [
    {
      name: 'yaml.syntax on an unclosed flow list',
      text: `${HEAD}cluster:\n  podCIDRs: [10.244.0.0/16\n`,
      code: 'yaml.syntax',
      at: '',
    },
    {
      name: 'schema.unknown-key with a suggestion',
      text: `${HEAD}cluster:\n  podCIDR: [10.244.0.0/16]\n`,
      code: 'schema.unknown-key',
      at: 'podCIDR:',
      says: /Did you mean 'podCIDRs'/,
    },
    {
      // Object.prototype's members are no keys of the schema: `constructor` found its function and went unreported.
      name: 'schema.unknown-key on a key named after an Object.prototype member',
      text: `${HEAD}cluster:\n  constructor: {x: 1}\n`,
      code: 'schema.unknown-key',
      at: 'constructor:',
      says: /Unknown key 'constructor' in cluster/,
    },
    {
      name: 'schema.type on a string where a list goes',
      text: `${HEAD}nodes: node1\n`,
      code: 'schema.type',
      at: 'node1',
    },
    {
      name: 'schema.type on a bad enum with a suggestion',
      text: `${HEAD}cluster:\n  routing: hostgw\n`,
      code: 'schema.type',
      at: 'hostgw',
      says: /Did you mean 'host-gw'/,
    },
    {
      name: 'ref.unknown on a pod on a missing node',
      text: `${HEAD}nodes: [{name: node1}]\npods: [{name: a, node: node9, ip: 10.0.0.1}]\n`,
      code: 'ref.unknown',
      at: 'node9',
      says: /known: node1/,
    },
    {
      name: 'ref.unknown on an interface on a missing network',
      text: `${HEAD}nodes: [{name: node1, interfaces: [{name: eth0, network: wan, address: 10.0.0.1/24}]}]\n`,
      code: 'ref.unknown',
      at: 'wan',
    },
    {
      name: 'name.duplicate on a node defined twice',
      text: `${HEAD}nodes: [{name: node1}, {name: node1}]\n`,
      code: 'name.duplicate',
      at: 'node1}]',
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      const found = run(t.text).filter((d) => d.code === t.code);
      assert.ok(found.length >= 1, `no ${t.code} in ${JSON.stringify(run(t.text).map((d) => d.code))}`);
      if (t.at)
        assert.ok(
          found.some((d) => d.span.start === t.text.lastIndexOf(t.at)),
          `${t.code} not at '${t.at}': ${found.map((d) => d.span.start)}`,
        );
      if (t.says) assert.match(found[0].message, t.says);
    });
  }

  it('a broken document does not stop the rest of the file from being analysed', () => {
    const text = `${HEAD}cluster:\n  podCIDRs: [10.244.0.1/16]\n  bad: [\n---\n${HEAD}nodes: [{name: n}]\n`;
    const c = codes(text);
    assert.ok(c.includes('yaml.syntax'));
  });
});

describe('rules: severity overrides', () => {
  const text = `${HEAD}cluster:\n  podCIDRs: [10.244.0.1/16]\n  kubeProxy: {masqueradeAll: true}\n`;

  it('off drops a code, others change severity, the rest keep their default', () => {
    const plain = run(text);
    assert.ok(plain.some((d) => d.code === 'cidr.host-bits' && d.severity === 'warning'));
    const changed = run(text, { severity: { 'cidr.host-bits': 'error', 'nat.masquerade-all': 'off' } });
    assert.ok(changed.some((d) => d.code === 'cidr.host-bits' && d.severity === 'error'));
    assert.ok(!changed.some((d) => d.code === 'nat.masquerade-all'));
  });

  it("applies to the model's codes too", () => {
    const t = `${HEAD}cluster:\n  podCIDR: [10.0.0.0/8]\n`;
    assert.ok(codes(t).includes('schema.unknown-key'));
    assert.ok(!codes(t, { severity: { 'schema.unknown-key': 'off' } }).includes('schema.unknown-key'));
    assert.equal(
      run(t, { severity: { 'schema.unknown-key': 'info' } }).find((d) => d.code === 'schema.unknown-key')?.severity,
      'info',
    );
  });
});

describe('rules: catalogue', () => {
  it('every rule has a unique dotted code, a one-line description and a severity', () => {
    const seen = new Set<string>();
    for (const r of RULES) {
      assert.match(r.code, /^[a-z]+(?:\.[a-z-]+)+$/);
      assert.ok(!seen.has(r.code), `${r.code} listed twice`);
      seen.add(r.code);
      assert.ok(r.description.length > 10 && !r.description.includes('\n'));
      assert.ok(['error', 'warning', 'info', 'hint'].includes(r.severity));
    }
  });

  it('every rule lives in a file named after its code', () => {
    for (const r of RULES) {
      const file = path.resolve(__dirname, '../../../src/core/rules', `${r.code.replace(/\./g, '-')}.ts`);
      assert.ok(fs.existsSync(file), `${r.code}: expected ${file}`);
    }
  });

  it('docs/diagnostics.md documents every code with its severity', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../../docs/diagnostics.md'), 'utf8');
    for (const c of DIAGNOSTIC_CODES) {
      const heading = new RegExp(`^### \`${c.code.replace(/\./g, '\\.')}\` \\(${c.severity}\\)$`, 'm');
      assert.match(doc, heading, `docs/diagnostics.md lacks '### \`${c.code}\` (${c.severity})'`);
    }
  });

  it('reports the default severity of its code', async () => {
    const { cases, analyseCase } = await import('./fixtures');
    const severity = new Map(DIAGNOSTIC_CODES.map((c) => [c.code, c.severity]));
    for (const c of cases()) {
      for (const d of (await analyseCase(c)).diagnostics)
        assert.equal(d.severity, severity.get(d.code), `${c.name}: ${d.code}`);
    }
  });
});
