/**
 * Show Node Rules prints kube-proxy's nftables tables as `nft list ruleset` prints them: for every tracer scenario and
 * bundled example in nftables mode, each node's tables are loaded as kube-proxy loads them (its `add …` transaction)
 * with `nft -f` into a scratch network namespace and the kernel's listing must be the text NetPath shows, line for
 * line (a hash set's elements compared as a set).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { kubeProxyNftablesText, kubeProxyNftablesTransaction } from '../../src/core/dataplane/kube-proxy';
import { labUnavailable, loadLabTopology } from '../../src/lab';
import { run } from '../../src/lab/exec';
import { comparableListing } from './nft-listing';

const root = path.resolve(__dirname, '../..');
const NS = `nftl${process.pid}`;
let unavailable: string | undefined;

/** Every scenario's topology text, switched to kube-proxy's nftables mode. */
function scenarios(): [string, string][] {
  const traces = path.join(root, 'test/fixtures/traces');
  const out: [string, string][] = fs
    .readdirSync(traces)
    .sort()
    .map((n) => [n, fs.readFileSync(path.join(traces, n, 'topology.yaml'), 'utf8')]);
  out.push([
    'examples/dual-stack',
    fs.readFileSync(path.join(root, 'examples/dual-stack/cluster.netpath.yaml'), 'utf8'),
  ]);
  // Cases of the listing alone (no trace): IPv6 anonymous sets that nft merges, as it does IPv4 ones.
  const listing = path.join(root, 'test/fixtures/nft-listing');
  for (const n of fs.readdirSync(listing).sort())
    out.push([`nft-listing/${n}`, fs.readFileSync(path.join(listing, n), 'utf8')]);
  return out.map(([n, text]) => [
    n,
    text.includes('    mode: iptables\n')
      ? text.replace('    mode: iptables\n', '    mode: nftables\n')
      : text.replace(/^cluster:\n/m, 'cluster:\n  kubeProxy: {mode: nftables}\n'),
  ]);
}

describe('kernel: nft lists kube-proxy’s tables exactly as Show Node Rules prints them', function () {
  before(async function () {
    unavailable = await labUnavailable();
    if (unavailable) return;
    const r = await run('ip', ['netns', 'add', NS]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async function () {
    if (!unavailable) await run('ip', ['netns', 'del', NS]);
  });

  for (const [name, text] of scenarios()) {
    it(name, async function () {
      if (unavailable) this.skip();
      fs.mkdirSync(path.join(root, 'test-output'), { recursive: true });
      const dir = fs.mkdtempSync(path.join(root, 'test-output', 'nft-listing-'));
      try {
        const file = path.join(dir, 'topology.yaml');
        fs.writeFileSync(file, text);
        const { topology } = await loadLabTopology([file], root);
        assert.equal(topology.cluster.kubeProxy.mode, 'nftables');
        for (const node of topology.nodes) {
          // Load what kube-proxy loads (its `add …` transaction), list it, and compare with what NetPath shows.
          const ours = kubeProxyNftablesText(topology, node);
          const load = await run('ip', ['netns', 'exec', NS, 'sh', '-c', 'nft flush ruleset && nft -f -'], {
            input: kubeProxyNftablesTransaction(topology, node),
          });
          assert.equal(load.code, 0, load.stderr);
          const listed = await run('ip', ['netns', 'exec', NS, 'nft', 'list', 'ruleset']);
          assert.equal(listed.code, 0, listed.stderr);
          assert.deepEqual(comparableListing(ours), comparableListing(listed.stdout), `node ${node.name}`);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
