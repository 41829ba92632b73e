/**
 * Typed steps (issue 12): the walk's facts are fields, and the consumers in the core and the lab read those
 * fields, never the `detail` sentence. Each golden trace is given again with every sentence blanked: the text
 * output still says what happened on each hop (DROP/REJECT found by verdict), and verify's comparison predicts
 * the same devices and affinity.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compileDataPlane } from '../../../src/core/dataplane';
import { buildTopology } from '../../../src/core/model/build';
import {
  formatTraceText,
  hasAffinity,
  isBlocking,
  matteredStep,
  stepsOf,
  summarizeStep,
  traceFlow,
  type Hop,
  type Step,
  type TraceResult,
} from '../../../src/core/trace';
import { predictedOutcomes } from '../../../src/lab/compare';
import { predictedDevices } from '../../../src/lab/devices';
import { runCase } from './golden.test';

const ROOT = 'test/fixtures/traces';
const cases = readdirSync(ROOT)
  .filter((d) => existsSync(path.join(ROOT, d, 'request.json')))
  .sort();

const blankHops = (hs: readonly Hop[]): Hop[] =>
  hs.map((h) => ({ ...h, steps: h.steps.map((s) => ({ ...s, detail: '' })) }));

function blank(r: TraceResult): TraceResult {
  return {
    ...r,
    paths: r.paths.map((p) => ({
      ...p,
      hops: blankHops(p.hops),
      ...(p.origin ? { origin: { ...p.origin, steps: p.origin.steps.map((s) => ({ ...s, detail: '' })) } } : {}),
      ...(p.reply ? { reply: { ...p.reply, hops: blankHops(p.reply.hops) } } : {}),
    })),
  };
}

/** The hop table rows of the text output: `#`, namespace, device, dir, src, dst, ttl and what happened. */
const rows = (text: string) => text.split('\n').filter((l) => /^ {2,4}\d+ /.test(l));

describe('trace/typed steps', () => {
  for (const name of cases) {
    it(`${name}: text output and verify's predictions from typed fields, with every detail blanked`, () => {
      const { outcome } = runCase(path.join(ROOT, name));
      const r = outcome.result!;
      const b = blank(r);
      // Text: the same rows, and each row that said something still says something; a DROP/REJECT verdict is shown.
      const full = rows(formatTraceText(r));
      const bare = rows(formatTraceText(b));
      // A walk that ended before any device has no hop table: its origin's steps are printed instead.
      assert.ok(full.length > 0 || r.paths.every((p) => p.origin), 'the hop table has rows');
      assert.equal(bare.length, full.length);
      bare.forEach((row, i) => {
        const said = (l: string) => l.replace(/^(\s*\S+){7}/, '').trim();
        assert.equal(said(row) === '', said(full[i]) === '', `row ${i + 1}: ${row}`);
      });
      const said = formatTraceText(b);
      for (const p of b.paths) {
        const steps = [...(p.origin?.steps ?? []), ...p.hops.flatMap((h) => h.steps)];
        for (const s of steps.filter(isBlocking))
          assert.ok(said.includes(summarizeStep(s)), `${name}: the blocking rule`);
        for (const s of steps.filter((x) => x.kind === 'drop'))
          assert.ok(said.includes(summarizeStep(s)), `${name}: why it ended`);
      }
      // Verify: the devices crossed and the affinity are predicted from fields alone.
      const text = readTopology(name);
      const built = buildTopology([{ path: 'topology.yaml', text }]);
      const dp = compileDataPlane(built.topology, { files: new Map([['topology.yaml', text]]) });
      assert.deepEqual(predictedOutcomes(b, dp), predictedOutcomes(r, dp));
      b.paths.forEach((p, i) => {
        assert.deepEqual(predictedDevices(p, dp), predictedDevices(r.paths[i], dp));
        assert.equal(hasAffinity(p), hasAffinity(r.paths[i]));
      });
    });
  }

  it('types what the walk knows: routes considered, veth ends, the bridge hairpin decision, the statistic branch', () => {
    const hp = runCase(path.join(ROOT, 'hairpin-off')).outcome.result!.paths[0];
    const bridge = stepsOf(hp.hops, 'bridge').at(-1)!;
    assert.equal(bridge.hairpin, 'off');
    assert.equal(bridge.inPort, bridge.outPort);
    const drop = stepsOf(hp.hops, 'drop')[0];
    assert.deepEqual([drop.reason, drop.disposition, drop.device], ['hairpin-off', 'dropped', bridge.inPort]);
    const veth = stepsOf(hp.hops, 'veth')[0];
    assert.deepEqual(veth.from, { netns: 'pod:default/web-1', device: 'eth0' });
    assert.equal(veth.to.netns, 'node:node1');

    const lb = runCase(path.join(ROOT, 'pod-to-service')).outcome.result!;
    const branches = lb.paths.flatMap((p) => stepsOf(p.hops, 'netfilter').filter((s) => s.probability !== undefined));
    assert.ok(branches.length > 0, 'a statistic branch carries its probability');
    for (const s of branches) assert.ok(s.verdict === 'jump' || s.verdict === 'not-chosen', s.verdict);
    const route = stepsOf(lb.paths[0].hops, 'route')[0];
    assert.equal(route.table, 'main');
    assert.equal(route.considered[0], route.route, 'the chosen route is the first considered');
    const nat = stepsOf(lb.paths[0].hops, 'nat')[0];
    assert.equal(nat.type, 'DNAT');
    assert.equal(nat.before.dst, lb.flow.dst);
    assert.equal(nat.after.dst, lb.paths[0].nat[0].after.dst);
  });

  it('the step that mattered on a hop is chosen by kind and verdict: a denying policy before a rule, a tunnel before delivery', () => {
    const packet = { src: '10.244.1.10', sport: 40000, dst: '10.244.2.11', dport: 8080, ttl: 64 };
    const hop = (steps: Step[]): Hop => ({ netns: 'node:node2', device: 'eth0', dir: 'in', packet, steps });
    const route: Step = {
      kind: 'route',
      detail: '',
      destination: packet.dst,
      table: 'main',
      route: '10.244.2.0/24 dev cni0',
      dev: 'cni0',
      considered: ['10.244.2.0/24 dev cni0'],
    };
    const jump: Step = {
      kind: 'netfilter',
      detail: '',
      hook: 'FORWARD',
      table: 'filter',
      chain: 'FORWARD',
      rule: '-A FORWARD -j X',
      verdict: 'jump',
      target: 'X',
    };
    const denied: Step = {
      kind: 'policy',
      detail: '',
      direction: 'ingress',
      verdict: 'denied',
      pod: 'default/web-2',
      policies: ['default/deny-all'],
    };
    const decap: Step = {
      kind: 'decap',
      detail: '',
      protocol: 'vxlan',
      device: 'flannel.1',
      outer: { src: '192.168.56.11', dst: '192.168.56.12' },
      udpPort: 8472,
      vni: 1,
    };
    assert.equal(matteredStep(hop([route, jump, denied]))?.kind, 'policy');
    assert.equal(matteredStep(hop([route, decap]))?.kind, 'decap');
    assert.equal(matteredStep(hop([jump, route]))?.kind, 'route', 'a jump is not decisive');
    assert.equal(summarizeStep(denied), 'NetworkPolicy ingress of default/web-2: denied (default/deny-all)');
  });

  it("names the Service firewall from kube-proxy's generator, not from the rule text", () => {
    const denied = runCase(path.join(ROOT, 'loadbalancer-source-ranges-denied')).outcome.result!.paths[0];
    const fw = stepsOf(denied.hops, 'netfilter').filter(isBlocking);
    assert.equal(fw.length, 1);
    assert.equal(fw[0].role, 'service-firewall');
    const drop = stepsOf(denied.hops, 'drop')[0];
    assert.deepEqual([drop.reason, drop.hook, drop.chain], ['source-range', 'FORWARD', fw[0].chain]);
  });

  it('a DROP rule the user wrote elsewhere is a netfilter drop, whatever its comment says', () => {
    // A rule of the node's own in a chain of its own: not kube-proxy's Service firewall, so not `source-range`.
    const text = readTopology('pod-to-pod-same-node').replace(
      '    podCIDR: 10.244.1.0/24\n',
      [
        '    podCIDR: 10.244.1.0/24',
        '    iptables: |',
        '      *filter',
        '      :FORWARD ACCEPT [0:0]',
        '      :LB-GUARD - [0:0]',
        '      -A FORWARD -j LB-GUARD',
        '      -A LB-GUARD -m comment --comment "traffic not accepted by KUBE-FW-X" -j DROP',
        '      COMMIT',
        '',
      ].join('\n'),
    );
    assert.ok(text.includes('LB-GUARD'));
    const built = buildTopology([{ path: 'topology.yaml', text }]);
    assert.deepEqual(
      built.problems.filter((p) => p.severity === 'error'),
      [],
    );
    const { request } = runCase(path.join(ROOT, 'pod-to-pod-same-node'));
    const { expect: _e, ...req } = request;
    const r = traceFlow(built.topology, req).result;
    if (!r) assert.fail('no trace');
    assert.deepEqual(
      r.paths.map((p) => p.reason),
      ['netfilter-drop'],
    );
  });
});

function readTopology(name: string): string {
  return readFileSync(path.join(ROOT, name, 'topology.yaml'), 'utf8');
}
