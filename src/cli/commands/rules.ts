import { DIAGNOSTIC_CODES } from '../../core';
import { CliError, EXIT, type Command } from '../command';

export const rules: Command = {
  name: 'rules',
  summary: 'list every diagnostic code with its default severity',
  usage: `Usage: netpath rules [--format text|json]

Lists every diagnostic code NetPath reports, its default severity and what it finds.
Details and examples: docs/diagnostics.md.`,
  async run(args, io) {
    let json = false;
    for (let i = 0; i < args.length; i++) {
      const v = args[i] === '--format' ? args[++i] : args[i].startsWith('--format=') ? args[i].slice(9) : undefined;
      if (v === 'json') json = true;
      else if (v !== 'text') throw new CliError(`unknown argument '${args[i]}' (see netpath rules --help)`);
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
