/**
 * A node's namespace makes its devices, bridges and packet filter when read, through getters every node shares: an
 * object with getters of its own (new functions per node) is kept by V8 as a hash table of its properties, one per
 * node of a large cluster. The getters stay own, enumerable properties, so a copy of a namespace still has them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileDataPlane } from '../../../src/core';
import { buildTopology } from '../../../src/core/model/build';

const LAB = readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8');

describe('data plane: node namespaces share their getters', () => {
  const t = buildTopology([{ path: 'lab.netpath.yaml', text: LAB }]).topology;
  const dp = compileDataPlane(t);
  const node1 = dp.namespaces.get('node:node1');
  const node2 = dp.namespaces.get('node:node2');

  it('two nodes read their devices, bridges and filter through the same functions', () => {
    assert.ok(node1 && node2);
    for (const key of ['interfaces', 'bridges', 'filter']) {
      const a = Object.getOwnPropertyDescriptor(node1, key);
      const b = Object.getOwnPropertyDescriptor(node2, key);
      assert.equal(typeof a?.get, 'function', key);
      assert.equal(a?.get, b?.get, key);
      assert.equal(a?.enumerable, true, key);
    }
  });

  it('each still reads its own node, and a copy reads the same', () => {
    assert.ok(node1 && node2);
    assert.deepEqual(
      node1.interfaces.map((i) => i.name),
      [...node1.interfaces].map((i) => i.name),
    );
    assert.notDeepEqual(
      node1.interfaces.flatMap((i) => i.addresses.map((a) => a.address)),
      node2.interfaces.flatMap((i) => i.addresses.map((a) => a.address)),
    );
    assert.notEqual(node1.filter, node2.filter);
    assert.equal(node1.filter, node1.filter);
    const copy = { ...node1 };
    assert.equal(copy.interfaces, node1.interfaces);
    assert.equal(copy.bridges, node1.bridges);
    assert.equal(copy.filter, node1.filter);
  });
});
