/**
 * The file system for the core, over node:fs and tinyglobby, and the expansion of folder arguments into
 * the YAML files under them. Paths given to the core are absolute POSIX paths. Shared by the CLI and the lab
 * (the lab must not import the CLI; the CLI wraps {@link FileArgumentError} into its usage error).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { groupTopologies, type FileHost, type TopologyGroup } from '../core';

// tinyglobby's ESM build (through fdir) calls createRequire(import.meta.url), which is empty in the CommonJS
// bundle esbuild writes to dist/cli.js; require() makes esbuild pick the CommonJS builds instead.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { glob } = require('tinyglobby') as typeof import('tinyglobby');

const toPosix = (p: string) => p.split(path.sep).join('/');

export const nodeFileHost: FileHost = {
  async readFile(p) {
    try {
      return await fs.readFile(p, 'utf8');
    } catch {
      return undefined;
    }
  },
  async glob(baseDir, pattern) {
    const found = await glob(pattern, {
      cwd: baseDir,
      absolute: true,
      onlyFiles: true,
      ignore: ['**/node_modules/**', '**/.git/**'],
    });
    return found.map(toPosix).sort();
  },
};

/** A file or folder argument that cannot be read (the CLI reports it as a usage error, exit 2). */
export class FileArgumentError extends Error {}

const SKIP = new Set(['node_modules', '.git']);

async function yamlFilesUnder(dir: string, out: string[]): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) await yamlFilesUnder(p, out);
    } else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(p);
  }
}

/**
 * The absolute paths of the files to lint: files as given, folders expanded to every *.yaml/*.yml under them
 * (skipping node_modules and .git). A missing argument or a folder without YAML is a
 * {@link FileArgumentError}.
 */
export async function expandArguments(args: readonly string[], cwd: string): Promise<string[]> {
  return [...new Set((await expandEach(args, cwd)).flat())];
}

/** {@link expandArguments}, one list per argument (in the order given), for grouping files into topologies. */
export async function expandEach(args: readonly string[], cwd: string): Promise<string[][]> {
  const out: string[][] = [];
  for (const arg of args) {
    const files: string[] = [];
    const abs = path.resolve(cwd, arg);
    let stat;
    try {
      stat = await fs.stat(abs);
    } catch {
      throw new FileArgumentError(`cannot read '${arg}': no such file or folder`);
    }
    if (stat.isDirectory()) {
      const found: string[] = [];
      await yamlFilesUnder(abs, found);
      if (!found.length) throw new FileArgumentError(`no .yaml or .yml files in folder '${arg}'`);
      files.push(...found);
    } else {
      try {
        await fs.access(abs, fs.constants.R_OK);
      } catch {
        throw new FileArgumentError(`cannot read '${arg}': permission denied`);
      }
      files.push(abs);
    }
    out.push(files.map(toPosix));
  }
  return out;
}

/** How a file is shown: relative to the working directory when it is inside it, else absolute. */
export function displayPath(file: string, cwd: string): string {
  if (!file) return file;
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? toPosix(rel) : toPosix(file);
}

/**
 * The topologies the arguments hold, grouped as the editor groups them ({@link groupTopologies}). A file that
 * cannot be read is a {@link FileArgumentError}.
 */
export async function topologiesOf(args: readonly string[], cwd: string): Promise<TopologyGroup[]> {
  const roots = await expandEach(args, cwd);
  for (const f of new Set(roots.flat()))
    if ((await nodeFileHost.readFile(f)) === undefined)
      throw new FileArgumentError(`cannot read '${displayPath(f, cwd)}'`);
  return groupTopologies(roots, nodeFileHost);
}

/** Refuses arguments that hold several topologies where one is needed, naming them. */
export function oneTopology(groups: readonly TopologyGroup[], cwd: string): TopologyGroup {
  if (groups.length === 1) return groups[0];
  const names = groups.map((g) => displayPath(g.entries[0], cwd));
  throw new FileArgumentError(
    groups.length
      ? `these files hold ${groups.length} separate topologies (${names.join(', ')}): name one of them`
      : 'no topology in these files',
  );
}
