/** The default flows `netpath verify` sends: the hostPort ones (issue 13: the kernel tier runs hostPort per plug-in). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildTopology } from '../../../src/core/model/build';
import { defaultFlows } from '../../../src/lab/flows';

const topology = (file: string, edit: (text: string) => string = (x) => x) =>
  buildTopology([{ path: 'lab.yaml', text: edit(readFileSync(file, 'utf8')) }]).topology;

const hostPortFlows = (t: ReturnType<typeof topology>) =>
  defaultFlows(t)
    .filter((f) => f.kind?.includes('hostPort'))
    .map((f) => `${f.kind}: ${f.from} -> ${f.to} ${f.proto}`);

describe('lab: default flows', () => {
  it('a pod with a hostPort: from the first external to the node address, and from its node on 127.0.0.1', () => {
    assert.deepEqual(hostPortFlows(topology('test/fixtures/traces/hostport-from-outside/topology.yaml')), [
      'external to hostPort: external/laptop -> 192.168.56.12:8000 tcp',
      'node to its own hostPort on localhost: node/node2 -> 127.0.0.1:8000 tcp',
    ]);
  });

  it('without portmap snat the localhost flow is left out (its outcome depends on the neighbour cache)', () => {
    assert.deepEqual(hostPortFlows(topology('test/fixtures/traces/hostport-localhost-no-snat/topology.yaml')), [
      'external to hostPort: external/laptop -> 192.168.56.12:8000 tcp',
    ]);
  });

  it('none without a hostPort or without portmap', () => {
    assert.deepEqual(hostPortFlows(topology('examples/two-node-lab/cluster.netpath.yaml')), []);
    assert.deepEqual(
      hostPortFlows(
        topology('test/fixtures/traces/hostport-from-outside/topology.yaml', (x) =>
          x.replace('    hairpinMode: true\n', '    hairpinMode: true\n    portmap: {enabled: false}\n'),
        ),
      ),
      [],
    );
  });

  it('a hostIP binds the flow to that address; a UDP hostPort is sent over UDP', () => {
    const t = topology('test/fixtures/traces/hostport-from-outside/topology.yaml', (x) =>
      x.replace('hostPort: 8000}', 'hostPort: 8000, hostIP: 192.168.56.12, protocol: UDP}'),
    );
    assert.deepEqual(hostPortFlows(t), ['external to hostPort: external/laptop -> 192.168.56.12:8000 udp']);
  });
});
