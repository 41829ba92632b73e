/**
 * Runs every golden fixture (see fixtures.ts) and compares the complete diagnostic list. Set
 * UPDATE_GOLDEN=1 to write expected.json from the current output — then read every changed file.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { RULES } from '../../../src/core';
import { analyseCase, cases, located, sortExpected, textsOf, type Expected } from './fixtures';

describe('rules: golden fixtures', () => {
  const all = cases();

  for (const c of all) {
    it(c.name, async () => {
      const analysis = await analyseCase(c);
      const texts = textsOf(analysis);
      const actual = sortExpected(analysis.diagnostics.map((p) => located(c, p, texts)));
      const file = path.join(c.dir, 'expected.json');
      if (process.env.UPDATE_GOLDEN) fs.writeFileSync(file, `${JSON.stringify(actual, null, 2)}\n`);
      const expected = sortExpected(JSON.parse(fs.readFileSync(file, 'utf8')) as Expected[]);
      assert.deepEqual(actual, expected, analysis.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'));
    });
  }

  it('every rule has a case that fires and a near miss that does not', () => {
    for (const rule of RULES) {
      const own = all.filter((c) => c.name.startsWith(`${rule.code}/`));
      const expectations = own.map(
        (c) => JSON.parse(fs.readFileSync(path.join(c.dir, 'expected.json'), 'utf8')) as Expected[],
      );
      assert.ok(
        expectations.some((e) => e.some((x) => x.code === rule.code)),
        `${rule.code}: no fixture where it fires`,
      );
      assert.ok(
        expectations.some((e) => !e.some((x) => x.code === rule.code)),
        `${rule.code}: no near-miss fixture where it stays quiet`,
      );
    }
  });
});
