import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, traceFlow } from '../../../src/core';

describe('trace: a source written as ip:port', () => {
  const file = path.join(__dirname, '../../../examples/two-node-lab/cluster.netpath.yaml');
  const t = analyse([{ path: file, text: fs.readFileSync(file, 'utf8') }]).topology;
  const flow = (sport?: number) =>
    traceFlow(t, { from: '192.168.56.100:5555', to: '192.168.56.11:30080', proto: 'tcp', sport }).result!.flow;

  it('uses the port as the source port', () => assert.equal(flow().sport, 5555));
  it('lets --sport win over it', () => assert.equal(flow(6000).sport, 6000));
});
