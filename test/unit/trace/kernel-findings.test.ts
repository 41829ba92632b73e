/** Tracer cases the kernel lab (netpath verify) found wrong, kept as fast unit tests. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildTopology } from '../../../src/core/model/build';
import { traceFlow, type TraceRequest } from '../../../src/core/trace';

function trace(file: string, req: TraceRequest) {
  const t = buildTopology([{ path: 'lab.yaml', text: readFileSync(file, 'utf8') }]).topology;
  const out = traceFlow(t, req);
  assert.ok(out.result, JSON.stringify(out.problems));
  return out.result;
}

describe('trace/kernel findings', () => {
  it('dual-stack: an IPv6 packet to the IPv6 cluster IP is DNATed to the IPv6 endpoint, never the IPv4 one', () => {
    const r = trace('examples/dual-stack/cluster.netpath.yaml', { from: 'pod/client', to: '[fd00:10:96::a]:80' });
    assert.deepEqual(
      r.paths.map((p) => [p.disposition, p.delivered?.ip, p.sourceSeen]),
      [['delivered', 'fd00:10:244:2::a', 'fd00:10:244:1::a']],
    );
  });

  it('container to container over localhost: the receiver sees the loopback address', () => {
    const r = trace('examples/two-node-lab/cluster.netpath.yaml', { from: 'pod/client:shell', to: 'localhost:9090' });
    assert.equal(r.flow.src, '127.0.0.1');
    assert.equal(r.paths[0].sourceSeen, '127.0.0.1');
  });
});
