/** `netpath reach`, run in-process on the network-policies example: formats, filters, exit codes. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { main } from '../../../src/cli/main';

const ROOT = path.resolve(__dirname, '../../..');
const EXAMPLE = 'examples/network-policies';

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['reach', ...args], { cwd: ROOT, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('cli: netpath reach', () => {
  it('prints the groups and a grid per port; exit 1 when some pair is blocked', async () => {
    const r = await run(EXAMPLE, '--port', '8080');
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /G6 {2}shop app=web {2}\(2: shop\/web-1 shop\/web-2\)/);
    assert.match(r.out, /TCP\/8080/);
    // dev/tester (G1) reaches the web pods (G6) on http; nothing reaches the database on 8080.
    assert.match(r.out, /\n {2}G1 +x +x +x +\. +\. +x\n/);
    assert.match(
      r.out,
      /ingress of G5 \(isolated by shop\/allow-scrape, shop\/db, shop\/default-deny\): no rule allows/,
    );
  });

  it('exit 0 when every shown pair is allowed (DNS from the shop)', async () => {
    const r = await run(
      EXAMPLE,
      '--port',
      '53',
      '--proto',
      'udp',
      '--from',
      'ns/shop',
      '--to',
      'kube-system:k8s-app=kube-dns',
    );
    assert.equal(r.code, 0, r.out + r.err);
  });

  it('json is the matrix as data, with the options used', async () => {
    const r = await run(
      EXAMPLE,
      '--port',
      '5432',
      '--format',
      'json',
      '--from',
      'shop:app=api',
      '--to',
      'pod/shop/db-0',
    );
    const m = JSON.parse(r.out);
    assert.deepEqual(m.options, { ipBlockPodIPs: 'match', nodeTraffic: 'allow' });
    assert.deepEqual(m.ports, [{ protocol: 'TCP', port: 5432 }]);
    assert.equal(m.cells.length, 1);
    assert.equal(m.cells[0].allowed, true);
    assert.deepEqual(m.groups[m.cells[0].from].pods, ['shop/api-1']);
  });

  it('csv has one row per group pair and port, with the isolating policies', async () => {
    const r = await run(EXAMPLE, '--port', '5432', '--format', 'csv', '--from', 'shop:app=web', '--to', 'shop:app=db');
    const lines = r.out.trim().split('\n');
    assert.equal(lines[0].split(',')[8], 'verdict');
    assert.equal(lines.length, 2);
    assert.match(
      lines[1],
      /^"shop","app=web","shop\/web-1 shop\/web-2","shop","app=db","shop\/db-0",TCP,5432,blocked,blocked,blocked,/,
    );
  });

  it('markdown has a table per port', async () => {
    const r = await run(
      EXAMPLE,
      '--port',
      '9090',
      '--format',
      'markdown',
      '--from',
      'ns/monitoring',
      '--to',
      'ns/shop',
    );
    assert.match(r.out, /^# NetworkPolicy reachability/);
    assert.match(r.out, /## TCP\/9090/);
    assert.match(r.out, /\| G3 \| allowed \| blocked \| allowed \|/);
  });

  it('without --port judges every port the destinations declare', async () => {
    const r = await run(EXAMPLE, '--format', 'json', '--to', 'ns/kube-system');
    assert.deepEqual(JSON.parse(r.out).ports, [
      { protocol: 'TCP', port: 53 },
      { protocol: 'UDP', port: 53 },
    ]);
  });

  it('--ipblock-pod-ips and --node-traffic reach the evaluator', async () => {
    const r = await run(
      EXAMPLE,
      '--port',
      '80',
      '--format',
      'json',
      '--ipblock-pod-ips',
      'ignore',
      '--node-traffic',
      'policy',
    );
    assert.deepEqual(JSON.parse(r.out).options, { ipBlockPodIPs: 'ignore', nodeTraffic: 'policy' });
  });

  for (const [args, message] of [
    [['--port', 'http'], /--port 'http' is not a port/],
    [['--proto', 'udp'], /--proto needs --port/],
    [['--from', 'app in ()'], /needs at least one value/],
    [['--to', 'ns/nowhere', '--port', '80'], /no pod matches --to/],
    [['--format', 'yaml'], /use text or json or csv or markdown/],
  ] as const) {
    it(`exit 2 with one line: ${args.join(' ')}`, async () => {
      const r = await run(EXAMPLE, ...args);
      assert.equal(r.code, 2);
      assert.match(r.err, message);
      assert.equal(r.err.trim().split('\n').length, 1);
    });
  }

  it("netpath trace takes the same NetworkPolicy choices: --node-traffic policy judges the pod's own node", async () => {
    const trace = async (...extra: string[]) => {
      let out = '';
      const code = await main(
        ['trace', EXAMPLE, '--from', 'node/node1', '--to', 'pod/shop/api-1:8000', '--format', 'json', ...extra],
        { cwd: ROOT, out: (t) => void (out += t), err: () => undefined },
      );
      return { code, result: JSON.parse(out) as { paths: { reason: string | null }[] } };
    };
    const allowed = await trace();
    assert.equal(allowed.code, 0);
    const judged = await trace('--node-traffic', 'policy');
    assert.deepEqual([judged.code, judged.result.paths[0].reason], [1, 'policy-denied']);
  });
});
