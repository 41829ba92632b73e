/**
 * The loader's quick test for files that may include others (mayInclude) answers exactly as searching for both
 * words would: its cheaper first search must never drop a file that includes.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mayInclude } from '../../../src/core/workspace/load';

describe('workspace: which files the loader parses for their includes', () => {
  it('answers as searching `include` and `netpath.dev/` would, for any text made of their pieces', () => {
    const piece = fc.constantFrom(
      'include',
      'inc',
      'clude',
      'lude',
      'netpath.dev/',
      'netpath.dev',
      'i',
      'c',
      ' ',
      '\n',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join('');
        assert.equal(mayInclude(text), text.includes('include') && text.includes('netpath.dev/'));
      }),
      { numRuns: 2000 },
    );
  });

  it('passes over a kubectl dump whose nginx snippet says include, and keeps a NetPath document that includes', () => {
    const dump = 'apiVersion: v1\nkind: ConfigMap\ndata:\n  nginx.conf: "include /etc/nginx/conf.d/*.conf;"\n';
    assert.equal(mayInclude(dump), false);
    assert.equal(mayInclude('apiVersion: netpath.dev/v1alpha1\nkind: Topology\ninclude: [app.yaml]\n'), true);
  });
});
