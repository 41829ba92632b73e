import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_FILE_BYTES } from '../../../src/core';
import { netpathCluster, SCALE_SIZES } from '../../../bench/cluster';

describe('the default size limit', () => {
  it('fits the 15,000-pod topology (issue 16), in the core and in the editor setting alike', () => {
    const size = SCALE_SIZES.find((s) => s.pods === 15000);
    assert.ok(size, 'the bench has a 15,000-pod cluster');
    const bytes = Buffer.byteLength(netpathCluster(size));
    assert.ok(bytes < DEFAULT_MAX_FILE_BYTES, `${bytes} bytes against a limit of ${DEFAULT_MAX_FILE_BYTES}`);
    // CRLF line ends add a byte per line: the same file checked out on Windows still fits.
    const lines = netpathCluster(size).split('\n').length;
    assert.ok(bytes + lines < DEFAULT_MAX_FILE_BYTES);
    const setting = (
      JSON.parse(readFileSync('package.json', 'utf8')) as {
        contributes: { configuration: { properties: Record<string, { default: unknown }> } };
      }
    ).contributes.configuration.properties['netpath.maxFileSizeKB'];
    assert.equal(setting.default, DEFAULT_MAX_FILE_BYTES / 1024);
  });
});
