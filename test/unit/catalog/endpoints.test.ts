import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, destinationChoices, parseEndpoint, sourceChoices, traceFlow } from '../../../src/core';

const root = path.join(__dirname, '../../..');
const file = path.join(root, 'examples/two-node-lab/cluster.netpath.yaml');
const t = analyse([{ path: file, text: fs.readFileSync(file, 'utf8') }]).topology;

describe('trace endpoint choices', () => {
  it('offers pods, their containers (when a pod has several), nodes and externals as sources', () => {
    assert.deepEqual(
      sourceChoices(t).map((c) => c.endpoint),
      [
        'pod/default/client',
        'pod/default/client:shell',
        'pod/default/client:sidecar',
        'pod/default/web-1',
        'pod/default/web-2',
        'node/node1',
        'node/node2',
        'external/laptop',
      ],
    );
  });

  it('offers pod ports, localhost ports of the source pod, Service ports, NodePorts per node and externals as destinations', () => {
    const to = destinationChoices(t, 'pod/default/client').map((c) => c.endpoint);
    assert.deepEqual(to, [
      'localhost:9090',
      'pod/default/client:9090',
      'pod/default/web-1:8080',
      'pod/default/web-2:8080',
      'svc/default/web:http',
      'node/node1:30080',
      'node/node2:30080',
      'external/laptop',
    ]);
    assert.ok(!destinationChoices(t, 'node/node1').some((c) => c.kind === 'localhost'));
  });

  it('every choice is valid trace syntax and traces without input problems', () => {
    for (const from of sourceChoices(t)) {
      assert.ok(parseEndpoint(from.endpoint).ok, from.endpoint);
      for (const to of destinationChoices(t, from.endpoint)) {
        const { problems } = traceFlow(t, { from: from.endpoint, to: to.endpoint, proto: to.proto ?? 'tcp' });
        assert.deepEqual(
          problems.filter((p) => p.severity === 'error').map((p) => p.message),
          [],
          `${from.endpoint} -> ${to.endpoint}`,
        );
      }
    }
  });

  it('the walkthrough ships the bundled example unchanged', () => {
    assert.equal(
      fs.readFileSync(path.join(root, 'media/walkthrough/two-node-lab.netpath.yaml'), 'utf8'),
      fs.readFileSync(file, 'utf8'),
    );
  });
});
