import assert from 'node:assert/strict';
import { LabError } from '../../../src/lab/errors';
import { LAB_STAGES, parseLabFault } from '../../../src/lab/fault';

describe('lab: the fault hook of the kernel tier (NETPATH_LAB_FAULT)', () => {
  it('reads <stage>:fail|pause[@N] for every stage', () => {
    assert.equal(parseLabFault(undefined), undefined);
    assert.equal(parseLabFault(''), undefined);
    for (const stage of LAB_STAGES) {
      assert.deepEqual(parseLabFault(`${stage}:fail`), { stage, action: 'fail', occurrence: 1 });
      assert.deepEqual(parseLabFault(`${stage}:pause@3`), { stage, action: 'pause', occurrence: 3 });
    }
  });

  it('refuses anything else with one line naming the stages, control characters escaped', () => {
    for (const bad of ['rules', 'rules:crash', 'teardown:fail', 'probes:pause@0', 'probes:pause@x', 'Rules:fail'])
      assert.throws(
        () => parseLabFault(bad),
        (e: unknown) =>
          e instanceof LabError && /must be <stage>:fail\|pause\[@N\] with a stage of namespaces, wire/.test(e.message),
        bad,
      );
    assert.throws(
      () => parseLabFault('x\u001b[2J'),
      (e: unknown) => e instanceof LabError && e.message.includes("'x?[2J'") && !/\n/.test(e.message),
    );
  });
});
