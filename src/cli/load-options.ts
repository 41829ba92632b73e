/** The options every command that reads a topology takes: --allow-outside DIR (repeatable) and --max-file-size-kb N. */
import type { ArgumentOptions } from '../lab/files';
import { CliError, quoted } from './command';

export type { ArgumentOptions };

export const LOAD_USAGE = `  --allow-outside DIR        let include: entries read files under DIR too (repeatable); by default they
                             are confined to the folders given and the folders of the files given
  --max-file-size-kb N       files over N KB are not read (default 8192, like netpath.maxFileSizeKB)`;

export interface Collected {
  allowOutside: string[];
  maxFileSizeKB: number | undefined;
}

/** Reads a load option at `args[i]` into `into`; returns the index of its last argument, or undefined. */
export function readLoadOption(args: readonly string[], i: number, into: Collected): { next: number } | undefined {
  const a = args[i];
  const eq = a.indexOf('=');
  const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
  if (name !== '--allow-outside' && name !== '--max-file-size-kb') return undefined;
  let next = i;
  const value = eq > 0 ? a.slice(eq + 1) : args[++next];
  if (value === undefined || value === '') throw new CliError(`${name} needs a value`);
  if (name === '--allow-outside') into.allowOutside.push(value);
  else {
    if (!/^\d{1,7}$/.test(value) || Number(value) < 1)
      throw new CliError(`--max-file-size-kb ${quoted(value)} is not a size in KB (a whole number from 1)`);
    into.maxFileSizeKB = Number(value);
  }
  return { next };
}

export function loadOptions(c: Collected): ArgumentOptions {
  return {
    ...(c.allowOutside.length ? { allowOutside: c.allowOutside } : {}),
    ...(c.maxFileSizeKB !== undefined ? { maxFileSizeKB: c.maxFileSizeKB } : {}),
  };
}
