/** The CLI's file access: the shared Node file host (src/lab/files.ts), with argument errors as usage errors. */
import { expandArguments as expand, FileArgumentError } from '../lab/files';
import { CliError } from './command';

export { displayPath, nodeFileHost } from '../lab/files';

/** {@link expand}, with an unreadable argument reported as a CliError (exit 2). */
export async function expandArguments(args: readonly string[], cwd: string): Promise<string[]> {
  try {
    return await expand(args, cwd);
  } catch (err) {
    throw err instanceof FileArgumentError ? new CliError(err.message) : err;
  }
}
