/**
 * The data plane keeps nothing per pod up front: a pod's namespace is found by its id when read, and the owner of a
 * pod's address by the address's text. What a reader sees is the same as a map of every namespace and every owner.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileDataPlane } from '../../../src/core';
import { buildTopology } from '../../../src/core/model/build';
import { addressKey, literalAddress } from '../../../src/core/net/address';
import { takeWork } from '../../../src/core/work';

const LAB = readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8');
// A hostNetwork pod, a pod holding node2's address, a dual-stack pod written with a long IPv6 spelling, a pod with an
// address that does not parse, and the laptop sharing web-2's address.
const TEXT = LAB.replace(
  'services:\n',
  `  - {name: agent, node: node1, hostNetwork: true, containers: [{name: a, ports: [{containerPort: 9100}]}]}
  - {name: squatter, node: node1, ip: 192.168.56.12}
  - {name: dual, node: node2, ips: [10.244.2.11, "fd00:0:0::0:1"]}
  - {name: broken, node: node2, ip: 10.244.2.012}
services:
`,
).replace('address: 192.168.56.100/24', 'address: 10.244.2.10/24');

describe('data plane: pods kept as pods until read', () => {
  const t = buildTopology([{ path: 'lab.netpath.yaml', text: TEXT }]).topology;
  const dp = compileDataPlane(t);

  it('lists nodes, then the pods with a namespace of their own, then externals; each id reads its namespace', () => {
    const ids = [
      'node:node1',
      'node:node2',
      'pod:default/client',
      'pod:default/web-1',
      'pod:default/web-2',
      'pod:default/squatter',
      'pod:default/dual',
      'pod:default/broken',
      'external:laptop',
    ];
    assert.deepEqual([...dp.namespaces.keys()], ids);
    assert.equal(dp.namespaces.size, ids.length);
    assert.deepEqual(
      [...dp.namespaces.entries()].map(([id, ns]) => [id, ns.id]),
      ids.map((id) => [id, id]),
    );
    for (const id of ids) assert.equal(dp.namespaces.get(id), dp.namespaces.get(id), `${id} is built once`);
    assert.equal(dp.namespaces.has('pod:default/agent'), false, 'a hostNetwork pod runs in its node');
    assert.equal(dp.namespaces.get('pod:default/agent'), undefined);
    assert.equal(dp.namespaces.get('pod:default/nobody'), undefined);
    assert.deepEqual(dp.namespaces.get('node:node1')?.pods, ['default/agent']);
  });

  it('owns each address by the first to hold it: nodes, then pods, then externals', () => {
    const owner = (a: string) => dp.owners.get(addressKey(literalAddress(a)));
    assert.deepEqual(owner('192.168.56.12'), { netns: 'node:node2', device: 'eth0' });
    assert.deepEqual(owner('10.244.2.10'), { netns: 'pod:default/web-2', device: 'eth0' });
    assert.deepEqual(owner('fd00::1'), { netns: 'pod:default/dual', device: 'eth0' });
    assert.deepEqual(owner('10.244.2.11'), { netns: 'pod:default/dual', device: 'eth0' });
    assert.deepEqual(owner('10.244.1.1'), { netns: 'node:node1', device: 'cni0' });
    assert.equal(owner('10.244.2.12'), undefined, 'an address that does not parse owns nothing');
    assert.equal(owner('10.244.1.99'), undefined);
    const entries = [...dp.owners];
    assert.equal(entries.length, dp.owners.size);
    for (const [key, o] of entries) assert.deepEqual(dp.owners.get(key), o, key);
    assert.deepEqual(
      entries.map(([, o]) => o.netns).filter((n, i, all) => all.indexOf(n) === i),
      ['node:node1', 'node:node2', 'pod:default/client', 'pod:default/web-1', 'pod:default/web-2', 'pod:default/dual'],
    );
  });
});

describe('data plane: the owners of pod addresses', () => {
  // A pod holding web-1's address after it, one whose address is quoted with spaces around it, and one written with
  // a leading zero (no address key spells it).
  const text = LAB.replace(
    'services:\n',
    `  - {name: late, node: node2, ip: 10.244.1.11}
  - {name: spaced, node: node2, ip: " 10.244.2.20 "}
  - {name: zero, node: node2, ip: 10.244.02.21}
services:
`,
  );
  const t = buildTopology([{ path: 'lab.netpath.yaml', text }]).topology;

  it('indexes no pod address until a lookup gets past the nodes, then each once per topology', () => {
    takeWork();
    const dp = compileDataPlane(t);
    const owner = (a: string) => dp.owners.get(addressKey(literalAddress(a)));
    assert.deepEqual(owner('192.168.56.12'), { netns: 'node:node2', device: 'eth0' });
    assert.equal(takeWork().podOwnerAddresses, 0, 'a compile and a node address index no pod address');
    assert.deepEqual(owner('10.244.1.11'), { netns: 'pod:default/web-1', device: 'eth0' }, 'the first pod wins');
    assert.deepEqual(owner('10.244.2.20'), { netns: 'pod:default/spaced', device: 'eth0' });
    assert.equal(owner('10.244.2.21'), undefined, 'a leading zero spells no address');
    assert.equal(owner('10.244.2.22'), undefined);
    assert.deepEqual(owner('10.244.1.10'), { netns: 'pod:default/client', device: 'eth0' });
    assert.equal(takeWork().podOwnerAddresses, t.pods.filter((p) => !p.hostNetwork).flatMap((p) => p.ips).length);
    // A trace's fresh data plane of the same topology reads the same index.
    const again = compileDataPlane(t);
    assert.deepEqual(again.owners.get(addressKey(literalAddress('10.244.2.20'))), owner('10.244.2.20'));
    assert.equal(takeWork().podOwnerAddresses, 0, 'a second data plane of the topology indexes nothing');
  });
});
