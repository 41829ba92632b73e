import { DIAGNOSTIC_CODES } from '../../core';
import { CliError, EXIT, type Command, quoted } from '../command';

export const rules: Command = {
  name: 'rules',
  summary: 'list every diagnostic code with its default severity',
  usage: `Usage: netpath rules [--format text|json]

Lists every diagnostic code NetPath reports, its default severity and what it finds.
Details and examples: docs/diagnostics.md.`,
  async run(args, io) {
    let json = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      // `--format` at the end has no value: said so (it read as "unknown argument 'undefined'"), and the last
      // --format wins, as in every other command (a later `--format text` left the output JSON).
      const v = a === '--format' ? args[++i] : a.startsWith('--format=') ? a.slice('--format='.length) : undefined;
      if (a === '--format' && v === undefined) throw new CliError('--format needs a value: text or json');
      if (v === undefined) throw new CliError(`unknown argument ${quoted(a)} (see netpath rules --help)`);
      if (v !== 'text' && v !== 'json') throw new CliError(`unknown format ${quoted(v)}: use text or json`);
      json = v === 'json';
    }
    if (json) {
      io.out(`${JSON.stringify({ rules: DIAGNOSTIC_CODES }, null, 2)}\n`);
      return EXIT.ok;
    }
    const width = Math.max(...DIAGNOSTIC_CODES.map((c) => c.code.length));
    io.out(
      DIAGNOSTIC_CODES.map((c) => `${c.code.padEnd(width)}  ${c.severity.padEnd(7)}  ${c.description}`).join('\n') +
        '\n',
    );
    return EXIT.ok;
  },
};
