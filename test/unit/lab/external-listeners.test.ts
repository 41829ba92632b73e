/**
 * The ports verify serves on an external client (which has no listener of its own): those its flows are predicted to
 * reach, once each, so that a pod's request to the outside is answered in the kernel as the tracer predicts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileDataPlane } from '../../../src/core';
import { buildTopology } from '../../../src/core/model/build';
import { externalListeners } from '../../../src/lab/verify';

describe('lab/externalListeners', () => {
  const text = readFileSync('examples/cni-flannel-vxlan/cluster.netpath.yaml', 'utf8');
  const t = buildTopology([{ path: 'cluster.netpath.yaml', text }]).topology;
  const dp = compileDataPlane(t);

  it("serves each port and protocol a flow to an external reaches, once; a pod's or a node's port is not the external's", () => {
    const got = externalListeners(t, dp, [
      { from: 'pod/client', to: '192.168.56.100:80' },
      { from: 'pod/web-2', to: '192.168.56.100:80' },
      { from: 'pod/client', to: '192.168.56.100:5353', proto: 'udp' },
      { from: 'pod/client', to: 'pod/web-2:8080' },
      { from: 'external/laptop', to: 'node/node1:30080' },
    ]);
    assert.deepEqual(
      [...got],
      [
        [
          'external:laptop',
          [
            { pod: 'external:laptop', container: '', port: 80, protocol: 'TCP' },
            { pod: 'external:laptop', container: '', port: 5353, protocol: 'UDP' },
          ],
        ],
      ],
    );
  });

  it('a flow the tracer cannot place adds nothing', () => {
    assert.deepEqual([...externalListeners(t, dp, [{ from: 'pod/nobody', to: '192.168.56.100:80' }])], []);
  });
});
