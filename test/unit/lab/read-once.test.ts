/**
 * A command reads each of its files from disk once: checking that the arguments can be read, grouping them into
 * topologies and loading each group all ask for the same files (a cluster dump of 30 MB was read three times).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEntries, nodeFileHost, readOnceHost, topologiesOf } from '../../../src/lab/files';
import type { FileHost } from '../../../src/core';

describe('lab: files read once per command', () => {
  let tmp = '';
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netpath-read-once-'));
    fs.writeFileSync(
      path.join(tmp, 'cluster.netpath.yaml'),
      'apiVersion: netpath.dev/v1alpha1\nkind: Topology\ncluster:\n  podCIDRs: [10.244.0.0/16]\n',
    );
    fs.writeFileSync(
      path.join(tmp, 'app.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n',
    );
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads every file of a folder argument once through grouping and loading, with the same texts', async () => {
    const reads = new Map<string, number>();
    const counting: FileHost = {
      ...nodeFileHost,
      readFile(p) {
        reads.set(path.basename(p), (reads.get(path.basename(p)) ?? 0) + 1);
        return nodeFileHost.readFile(p);
      },
    };
    const files = readOnceHost(counting);
    const groups = await topologiesOf([tmp], tmp, {}, [], files);
    assert.equal(groups.length, 1);
    const loaded = await loadEntries(groups[0].entries, [tmp], tmp, {}, files);
    assert.deepEqual(loaded.files.map((f) => path.basename(f.path)).sort(), ['app.yaml', 'cluster.netpath.yaml']);
    assert.deepEqual(Object.fromEntries(reads), { 'app.yaml': 1, 'cluster.netpath.yaml': 1 });
    assert.equal(
      loaded.files.find((f) => f.path.endsWith('app.yaml'))?.text,
      fs.readFileSync(path.join(tmp, 'app.yaml'), 'utf8'),
    );
  });

  it('still refuses an argument that cannot be read', async () => {
    await assert.rejects(topologiesOf([path.join(tmp, 'missing.yaml')], tmp, {}, [], readOnceHost()), /cannot read/);
  });
});
