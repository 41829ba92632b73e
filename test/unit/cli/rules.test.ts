/**
 * `netpath rules`' arguments (found by the CLI fuzzer, issue 17): `--format` with no value says so instead of
 * "unknown argument 'undefined'", and the last `--format` wins as in every other command.
 */
import assert from 'node:assert/strict';
import { main } from '../../../src/cli/main';

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { cwd: process.cwd(), out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('cli: netpath rules arguments', () => {
  it('--format at the end is one line saying it needs a value (exit 2)', async () => {
    assert.deepEqual(await cli(['rules', '--format']), {
      code: 2,
      out: '',
      err: 'netpath rules: --format needs a value: text or json\n',
    });
  });

  it('a format it does not know is named, escaped', async () => {
    const r = await cli(['rules', '--format', 'x\u001b[2J']);
    assert.deepEqual(r, { code: 2, out: '', err: "netpath rules: unknown format 'x\\u001b[2J': use text or json\n" });
  });

  it('the last --format wins', async () => {
    const text = await cli(['rules', '--format', 'json', '--format=text']);
    assert.equal(text.code, 0);
    assert.match(text.out, /^[a-z]+\.\S+ +(error|warning|info|hint) /m);
    assert.throws(() => JSON.parse(text.out) as unknown);
    const json = await cli(['rules', '--format=text', '--format', 'json']);
    assert.ok(Array.isArray((JSON.parse(json.out) as { rules: unknown[] }).rules));
  });
});

describe('cli: netpath lint -f', () => {
  it('-f at the end names -f, the flag typed (found by the CLI fuzzer at 3000 runs, seed 7)', async () => {
    assert.deepEqual(await cli(['lint', 'examples/two-node-lab', '-f']), {
      code: 2,
      out: '',
      err: 'netpath lint: -f needs a value: text, json or sarif\n',
    });
  });
});
