/**
 * "Parsing never throws", proved on more than hand-picked strings: the whole pipeline (analyse with every rule,
 * node rulesets, traceFlow between catalog and made-up endpoints, hover, completion, navigation) runs on
 * arbitrary text and on mutations of every example and fixture without throwing. The run counts are bounded so the
 * unit tier stays fast; a failure prints fast-check's seed (replay with NETPATH_FUZZ_SEED).
 */
import fc from 'fast-check';
import { CORPUS, exercise, mutate, mutations, offsets, fuzzTimeout, params, tracePicks } from './harness';

describe('fuzz: the pipeline never throws', function () {
  this.timeout(fuzzTimeout());

  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), offsets, (text, at) => {
        exercise([{ path: '/w/a.yaml', text }], { traces: [], offsets: at });
      }),
      params(40),
    );
  });

  it('on arbitrary YAML-looking text', () => {
    const token = fc.constantFrom(
      'apiVersion: netpath.dev/v1alpha1\n',
      'apiVersion: v1\n',
      'kind: Topology\n',
      'kind: Pod\n',
      'kind: Service\n',
      '---\n',
      'pods:\n',
      '  - name: a\n',
      '    ip: 10.244.1.1x\n',
      'spec:\n',
      '  ports: [{port: 80}]\n',
      '- ',
      '  ',
      ': ',
      '&a ',
      '*a',
      '{',
      '[',
      '\n',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), tracePicks, offsets, (parts, traces, at) => {
        exercise([{ path: '/w/a.yaml', text: parts.join('') }], { traces, offsets: at });
      }),
      params(80),
    );
  });

  it(`on mutations of every example and fixture (${CORPUS.length} groups)`, () => {
    fc.assert(
      fc.property(
        fc.nat({ max: CORPUS.length - 1 }),
        fc.nat(),
        mutations,
        tracePicks,
        offsets,
        (g, f, ms, traces, at) => {
          const group = CORPUS[g];
          const i = f % group.length;
          const files = group.map((file, j) => (j === i ? { ...file, text: ms.reduce(mutate, file.text) } : file));
          exercise(files, { traces, offsets: at });
        },
      ),
      params(60),
    );
  });
});
