/**
 * Errors in the core speak of the topology's objects, never of CLI flags (issue 12): the editor shows the core's
 * words as they are; the CLI adds the flag a typed field names.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { trace as traceCommand } from '../../../src/cli/commands/trace';
import type { CliIO } from '../../../src/cli/command';
import { buildTopology } from '../../../src/core/model/build';
import { traceFlow, type TraceInputField, type TraceRequest } from '../../../src/core/trace';

const LAB_FILE = 'examples/two-node-lab/cluster.netpath.yaml';
const t = buildTopology([{ path: 'lab.yaml', text: readFileSync(LAB_FILE, 'utf8') }]).topology;

const cases: [TraceRequest, TraceInputField, RegExp][] = [
  [{ from: 'pod/nobody', to: 'svc/web:http' }, 'from', /pod/i],
  [{ from: 'pod/client:nosuch', to: 'svc/web:http' }, 'from', /no container 'nosuch'/],
  [{ from: 'pod/client', to: 'svc/web' }, 'to', /needs a port/],
  [{ from: 'pod/client', to: 'svc/web:http', sport: 70000 }, 'sport', /70000 is not a port/],
  [{ from: '203.0.113.9', to: 'pod/web-2:8080' }, 'from', /belongs to no pod, node or external/],
  [{ from: '203.0.113.9', to: 'pod/web-2:8080', at: 'nodes/node1' }, 'at', /node\/<name>, not 'nodes\/node1'/],
  [{ from: 'external/laptop', to: 'localhost:80' }, 'to', /needs a pod or node as the source/],
  [{ from: 'bogus', to: 'svc/web:http' }, 'from', /./],
];

describe('trace/input errors', () => {
  for (const [req, field, words] of cases)
    it(`${JSON.stringify(req)}: the ${field} is named as an object, no flag`, () => {
      const out = traceFlow(t, req);
      assert.equal(out.result, undefined);
      assert.equal(out.inputError?.field, field);
      assert.match(out.inputError.message, words);
      const shown = out.problems.map((p) => p.message).join('\n');
      assert.doesNotMatch(shown, /--[a-z]/, shown);
      assert.match(shown, /^(Source|Destination|Source port|Entry point): /);
    });

  it('the CLI adds the flag at its edge, and the --at hint', async () => {
    const io: CliIO = { cwd: process.cwd(), out() {}, err() {} };
    await assert.rejects(
      traceCommand.run([LAB_FILE, '--from', 'pod/client:nosuch', '--to', 'svc/web:http'], io),
      /^Error: --from: Pod default\/client has no container 'nosuch'/,
    );
    await assert.rejects(
      traceCommand.run([LAB_FILE, '--from', '203.0.113.9', '--to', 'pod/web-2:8080'], io),
      /--from: 203\.0\.113\.9 belongs to no pod, node or external of the topology: say which node it enters by\. Use --at node\/<name>\./,
    );
  });
});

describe('trace/a pod named without its namespace', () => {
  const lab = readFileSync(LAB_FILE, 'utf8');
  const inShop = lab.replace(
    '  - name: client\n    node: node1\n',
    '  - name: client\n    namespace: shop\n    node: node1\n',
  );
  // The same name in a second namespace: a bare name no longer says which pod.
  const twice = inShop.replace(
    '  - name: client\n    namespace: shop\n',
    '  - name: client\n    namespace: lab\n    node: node1\n    ip: 10.244.1.99\n  - name: client\n    namespace: shop\n',
  );

  it('finds the one pod of that name outside the default namespace', () => {
    assert.notEqual(inShop, lab);
    const shop = buildTopology([{ path: 'lab.yaml', text: inShop }]).topology;
    assert.ok(shop.pods.some((p) => p.id === 'shop/client'));
    const out = traceFlow(shop, { from: 'pod/client', to: 'pod/web-2:8080' });
    assert.equal(out.inputError, undefined);
    assert.equal(out.result?.paths[0]?.disposition, 'delivered');
  });

  it('refuses a name two namespaces have', () => {
    assert.notEqual(twice, inShop);
    const two = buildTopology([{ path: 'lab.yaml', text: twice }]).topology;
    assert.equal(two.pods.filter((p) => p.name === 'client').length, 2);
    const out = traceFlow(two, { from: 'pod/client', to: 'pod/web-2:8080' });
    assert.equal(out.result, undefined);
    assert.equal(out.inputError?.field, 'from');
  });
});
