/**
 * Issue 5 gaps closed after the first tracer: reverse NAT on every reply, session affinity as a note, node
 * rulesets compiled lazily (and shared work between nodes giving the same text as compiling a node alone),
 * the CLI's exit codes and JSON shape, and `--at node/<name>` for each kind of entry.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { trace as traceCommand } from '../../../src/cli/commands/trace';
import { CliError, type CliIO } from '../../../src/cli/command';
import { buildNodeRules, compileDataPlane, nodeRulesText } from '../../../src/core/dataplane';
import { buildTopology } from '../../../src/core/model/build';
import { traceFlow, type TraceRequest } from '../../../src/core/trace';
import type { IptablesFilter } from '../../../src/core/dataplane/iptables-filter';

const LAB_FILE = 'examples/two-node-lab/cluster.netpath.yaml';
const LAB = readFileSync(LAB_FILE, 'utf8');
const topo = (text = LAB) => buildTopology([{ path: 'lab.yaml', text }]).topology;

function trace(req: TraceRequest, text = LAB) {
  const out = traceFlow(topo(text), req);
  assert.ok(out.result, JSON.stringify(out.problems));
  return out.result;
}

describe('trace/reply: every delivered path gets its reply, with the reverse NAT listed', () => {
  it('pod -> ClusterIP: both backends answer from the Service address, each reply undoing its own DNAT', () => {
    const r = trace({ from: 'pod/client', to: 'svc/web:http', reply: true });
    assert.equal(r.paths.length, 2);
    for (const p of r.paths) {
      assert.ok(p.reply, 'every path has a reply');
      assert.equal(p.reply.disposition, 'delivered');
      assert.equal(p.reply.sourceSeen, '10.96.0.10');
      const dnat = p.nat.find((n) => n.type === 'DNAT')!;
      const rev = p.reply.nat.filter((n) => n.reverse);
      assert.deepEqual(
        rev.map((n) => [n.type, n.chain, n.rule]),
        [['DNAT', dnat.chain, dnat.rule]],
      );
      assert.deepEqual(rev[0].before.src, dnat.after.dst);
      assert.deepEqual(rev[0].after, { src: '10.96.0.10', sport: 80, dst: '10.244.1.10', dport: 40000 });
    }
  });

  it('external -> NodePort: the reply undoes the MASQUERADE and the DNAT on the node that did them', () => {
    const r = trace({ from: 'external/laptop', to: 'node/node1:30080', reply: true });
    for (const p of r.paths) {
      const rev = p.reply!.nat;
      assert.deepEqual(
        rev.map((n) => [n.type, n.netns, n.reverse]),
        [
          ['MASQUERADE', 'node:node1', true],
          ['DNAT', 'node:node1', true],
        ],
      );
      assert.equal(p.reply!.hops.at(-1)!.packet.src, '192.168.56.11');
      assert.equal(p.reply!.hops.at(-1)!.packet.dst, '192.168.56.100');
    }
  });

  it('no reply for a path that was not delivered', () => {
    const r = trace({ from: 'pod/client', to: 'pod/web-1:9999', reply: true });
    assert.equal(r.paths[0].disposition, 'rejected');
    assert.equal(r.paths[0].reply, undefined);
  });
});

describe('trace/session affinity', () => {
  const AFF = LAB.replace('    selector: {app: web}\n', '    sessionAffinity: ClientIP\n    selector: {app: web}\n');
  it('notes, per path, that later connections from the client stay on the chosen backend for the timeout', () => {
    assert.notEqual(AFF, LAB);
    const r = trace({ from: 'pod/client', to: 'svc/web:http' }, AFF);
    assert.equal(r.paths.length, 2);
    for (const p of r.paths) {
      const backend = `${p.delivered!.ip}:${p.delivered!.port}`;
      assert.equal(p.notes?.length, 1);
      assert.match(p.notes![0], /session affinity \(ClientIP\)/);
      assert.ok(p.notes![0].includes(`from 10.244.1.10 to this Service go to ${backend} for 10800 s`), p.notes![0]);
      assert.ok(p.hops.some((h) => h.steps.some((s) => s.kind === 'affinity' && s.detail === p.notes![0])));
    }
  });
  it('says nothing without affinity', () => {
    assert.ok(trace({ from: 'pod/client', to: 'svc/web:http' }).paths.every((p) => p.notes === undefined));
  });
});

describe('dataplane/lazy rulesets', () => {
  it('compiles no ruleset up front, each once on first read, and only those of the nodes a trace crosses', () => {
    const t = topo();
    const calls: string[] = [];
    const dp = compileDataPlane(t, { kubeProxy: (_t, n) => (calls.push(n.name), '') });
    assert.deepEqual(calls, []);
    const one = dp.namespaces.get('node:node1')!.filter;
    assert.strictEqual(dp.namespaces.get('node:node1')!.filter, one);
    assert.deepEqual(calls, ['node1']);
    traceFlow(t, { from: 'pod/client', to: 'pod/web-1:8080' }, dp);
    assert.deepEqual(calls, ['node1'], 'a same-node trace compiles no other node');
    void dp.problems;
    assert.deepEqual(calls, ['node1', 'node2'], 'reading every problem compiles every node');
  });

  it('a data plane sharing work between nodes gives each node the same text and rules as compiling it alone', () => {
    const text = LAB.replace(
      'externals:',
      `  - name: web-local\n    type: NodePort\n    externalTrafficPolicy: Local\n    sessionAffinity: ClientIP\n    clusterIP: 10.96.0.11\n    selector: {app: web}\n    ports: [{name: http, port: 80, targetPort: http, nodePort: 30081}]\nexternals:`,
    );
    const t = topo(text);
    assert.equal(t.services.length, 2);
    const dp = compileDataPlane(t);
    for (const node of t.nodes) {
      const shared = dp.namespaces.get(`node:${node.name}`)!.filter as IptablesFilter;
      const alone = buildNodeRules(t, node);
      assert.equal(shared.text, alone.text);
      assert.equal(shared.text, nodeRulesText(t, node.name));
      assert.deepEqual(
        JSON.parse(JSON.stringify(shared.ruleset, (_k, v) => (typeof v === 'bigint' ? String(v) : v))),
        JSON.parse(JSON.stringify(alone.ruleset, (_k, v) => (typeof v === 'bigint' ? String(v) : v))),
      );
    }
    // eTP Local: node2's lines differ from node1's (its local endpoint), so the replay is keyed by node.
    const local = (n: string) =>
      dp.namespaces
        .get(`node:${n}`)!
        .filter!.text.split('\n')
        .filter((l) => l.startsWith('-A KUBE-SVL-'))
        .join('\n');
    assert.notEqual(local('node1'), local('node2'));
  });
});

describe('trace/--at node/<name>', () => {
  const t = topo();
  const first = (req: TraceRequest) => traceFlow(t, req).result!.paths[0].hops[0];
  it('an address in the node pod CIDR enters from a pod on that node (at the bridge)', () => {
    const h = first({ from: '10.244.1.99', at: 'node/node1', to: 'pod/web-2:8080' });
    assert.deepEqual([h.netns, h.device, h.dir], ['node:node1', 'cni0', 'in']);
  });
  it("one of the node's addresses (or loopback) is locally originated", () => {
    for (const from of ['192.168.56.11', '127.0.0.1']) {
      const h = first({ from, at: 'node/node1', to: 'pod/web-2:8080' });
      assert.deepEqual([h.netns, h.dir], ['node:node1', 'out'], from);
    }
  });
  it('anything else comes from outside through the underlay interface', () => {
    const h = first({ from: '203.0.113.9', at: 'node/node1', to: 'pod/web-2:8080' });
    assert.deepEqual([h.netns, h.device, h.dir], ['node:node1', 'eth0', 'in']);
  });
  it('a bare address that is no object needs --at', () => {
    assert.equal(traceFlow(t, { from: '203.0.113.9', to: 'pod/web-2:8080' }).problems[0].code, 'trace.bad-input');
  });
});

describe('cli: netpath trace', () => {
  const io = (): CliIO & { text: string } => {
    const o = {
      cwd: path.resolve('.'),
      text: '',
      out(s: string) {
        o.text += s;
      },
      err() {},
    };
    return o;
  };
  it('exit 0 when every path is delivered, and the binding JSON shape', async () => {
    const o = io();
    assert.equal(
      await traceCommand.run([LAB_FILE, '--from', 'pod/client', '--to', 'svc/web:http', '--format', 'json'], o),
      0,
    );
    const j = JSON.parse(o.text);
    assert.deepEqual(Object.keys(j.flow), ['proto', 'src', 'sport', 'dst', 'dport']);
    const p = j.paths[0];
    for (const k of ['probability', 'disposition', 'reason', 'delivered', 'sourceSeen', 'hops', 'nat'])
      assert.ok(k in p, k);
    assert.deepEqual(Object.keys(p.delivered).sort(), ['container', 'ip', 'kind', 'name', 'port']);
    assert.deepEqual(Object.keys(p.hops[0]).sort(), ['device', 'dir', 'netns', 'packet', 'steps']);
    assert.deepEqual(Object.keys(p.hops[0].packet).sort(), ['dport', 'dst', 'sport', 'src', 'ttl']);
    assert.ok(
      p.hops[0].steps.every(
        (s: { kind: string; detail: string }) => typeof s.kind === 'string' && typeof s.detail === 'string',
      ),
    );
    assert.deepEqual(Object.keys(p.nat[0]).sort(), ['after', 'before', 'chain', 'netns', 'rule', 'type']);
  });
  it('exit 1 when some path is not delivered', async () => {
    assert.equal(await traceCommand.run([LAB_FILE, '--from', 'pod/client', '--to', 'pod/web-1:9999'], io()), 1);
  });
  it('bad input is a usage error (exit 2)', async () => {
    for (const args of [
      ['--from', 'pod/nope', '--to', 'svc/web:http'],
      ['--from', 'pod/client', '--to', 'svc/web'],
      ['--from', 'pod/client', '--to', 'svc/web:http', '--proto', 'gre'],
    ]) {
      await assert.rejects(traceCommand.run([LAB_FILE, ...args], io()), CliError, args.join(' '));
    }
  });
  it('text output shows reverse NAT and affinity notes', async () => {
    const o = io();
    await traceCommand.run([LAB_FILE, '--from', 'external/laptop', '--to', 'node/node1:30080', '--reply'], o);
    assert.match(o.text, /reverse DNAT \(conntrack\) in node:node1/);
  });
});
