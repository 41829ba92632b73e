/**
 * Every crash found (by fuzzing or reported) stays a fixture: test/fixtures/crashes/<case>/ holds the YAML that
 * crashed and `probe.json` ({found, offsets, traces}: the cursor offsets and [from, to, reply] trace requests
 * that reached the crash). Each case runs the whole pipeline again; traces must end as a trace or a
 * `trace.bad-input` problem, never a throw.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, completionsAt, hoverAt, traceFlow, TRACE_BAD_INPUT } from '../../../src/core';
import { exercise } from './harness';

const DIR = path.resolve(__dirname, '../../fixtures/crashes');

interface Probe {
  readonly found: string;
  readonly offsets: readonly number[];
  readonly traces: readonly (readonly [string, string, boolean])[];
}

describe('fuzz: every crash found is a fixture', () => {
  for (const name of fs.readdirSync(DIR).sort()) {
    const dir = path.join(DIR, name);
    const probe = JSON.parse(fs.readFileSync(path.join(dir, 'probe.json'), 'utf8')) as Probe;
    it(`${name}: ${probe.found}`, () => {
      const files = fs
        .readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => ({ path: `/crashes/${name}/${f}`, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
      exercise(files, { traces: probe.traces, offsets: probe.offsets });
      const analysis = analyse(files);
      for (const [from, to] of probe.traces) {
        const { result, problems } = traceFlow(analysis.topology, { from, to });
        assert.ok(result || problems.some((p) => p.code === TRACE_BAD_INPUT), `${from} -> ${to}`);
      }
    });
  }

  it('a pod whose ip is invalid is refused by name, with the value, as bad input', () => {
    const text = fs.readFileSync(path.join(DIR, 'trace-pod-ip-invalid/topology.yaml'), 'utf8');
    const analysis = analyse([{ path: '/t.yaml', text }]);
    assert.ok(analysis.diagnostics.some((d) => d.code === 'cidr.invalid'));
    const { result, problems } = traceFlow(analysis.topology, { from: 'node/node1', to: 'pod/default/b:80' });
    assert.equal(result, undefined);
    assert.match(problems[0].message, /pod\/default\/b:80 has no valid address: '10\.244\.1\.1x' is not an IP address/);
  });

  it('words every object answers to (constructor, toString, __proto__) are unknown words to the ruleset parsers', () => {
    const text = fs.readFileSync(path.join(DIR, 'ruleset-inherited-words/topology.yaml'), 'utf8');
    const { diagnostics } = analyse([{ path: '/t.yaml', text }]);
    const said = diagnostics.map((d) => `${d.code} ${text.slice(d.span.start, d.span.end)}: ${d.message}`);
    for (const expected of [
      "iptables.syntax -p hasOwnProperty: Unknown protocol 'hasOwnProperty'.",
      "iptables.unsupported -m toString: Match module 'toString' is not supported.",
      "iptables.syntax -j constructor: Chain or target 'constructor' does not exist in table 'filter'.",
      "iptables.syntax -j __proto__: Chain or target '__proto__' does not exist in table 'filter'.",
      "nftables.syntax constructor saddr 10.244.1.10 accept: Unexpected 'constructor'.",
      "nftables.syntax toString: 'toString' is not an IP protocol.",
      "nftables.syntax __proto__: '__proto__' is not one of invalid, established, related, new, untracked.",
      "nftables.syntax constructor: 'constructor' is not a number.",
    ])
      assert.ok(said.includes(expected), `${expected}\nnot in:\n${said.join('\n')}`);
  });

  it('a key like constructor is only a key: no hover from a table of lists, no label value every pod has', () => {
    const text = fs.readFileSync(path.join(DIR, 'hover-completion-inherited-keys/topology.yaml'), 'utf8');
    const analysis = analyse([{ path: '/t.yaml', text }]);
    assert.equal(hoverAt(analysis, '/t.yaml', text.indexOf('- name: x') + 8), undefined);
    const end = text.lastIndexOf('      constructor: ') + '      constructor: '.length;
    assert.ok(end > 700, 'the selector key is in the fixture');
    assert.deepEqual(completionsAt(analysis, '/t.yaml', text, end), []);
    // The same place under a label key the pod has offers its value.
    const app = text.slice(0, end - 'constructor: '.length) + 'app: ';
    const withApp = analyse([{ path: '/t.yaml', text: app }]);
    assert.deepEqual(
      completionsAt(withApp, '/t.yaml', app, app.length).map((c) => [c.label, c.detail]),
      [['web', 'label of default/a']],
    );
  });

  it('a host-network pod whose node is not in the topology is refused as a source, naming the node', () => {
    const text = fs.readFileSync(path.join(DIR, 'trace-hostnetwork-pod-node-missing/cluster.yaml'), 'utf8');
    const analysis = analyse([{ path: '/c.yaml', text }]);
    const { result, problems } = traceFlow(analysis.topology, {
      from: 'pod/kube-system/etcd-kind-control-plane',
      to: 'pod/default/web:80',
    });
    assert.equal(result, undefined);
    assert.equal(problems[0].code, TRACE_BAD_INPUT);
    assert.match(problems[0].message, /hostNetwork: true\), and its node kind-control-plane is not in this topology/);
  });
});
