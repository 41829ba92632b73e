/**
 * Reads a topology's files through a host-provided file system: the entry files, then whatever their
 * NetPath documents `include:`, transitively. Include cycles end quietly (each file is read once);
 * includes that match nothing are `ref.unknown` problems on the include entry.
 */
import { problem, type Problem } from '../problem';
import { parseYamlFile } from '../syntax/yaml';
import { get } from '../syntax/yaml';
import { strings } from '../model/read';
import type { SourceFile } from '../model/types';
import { dirname, join } from './paths';

/** What the core needs from the outside world to read files. Paths are absolute POSIX paths. */
export interface FileHost {
  readFile(path: string): Promise<string | undefined>;
  /** Absolute paths of the files matching a glob relative to `baseDir`, sorted. */
  glob(baseDir: string, pattern: string): Promise<string[]>;
}

export interface LoadResult {
  readonly files: readonly SourceFile[];
  readonly problems: readonly Problem[];
}

const MAX_FILES = 2000;
const GLOB_CHARS = /[*?[\]{}]/;

export async function loadTopologyFiles(
  entries: readonly string[],
  host: FileHost,
  preloaded: ReadonlyMap<string, string> = new Map(),
): Promise<LoadResult> {
  const files: SourceFile[] = [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const cache = new Map(preloaded);
  const read = async (path: string): Promise<string | undefined> => {
    if (!cache.has(path)) {
      const text = await host.readFile(path);
      if (text !== undefined) cache.set(path, text);
      return text;
    }
    return cache.get(path);
  };
  const queue = [...entries];
  while (queue.length) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    if (files.length >= MAX_FILES) {
      problems.push(
        problem('include.too-many', 'warning', `More than ${MAX_FILES} files: the rest are not read.`, {
          file: entries[0] ?? path,
          start: 0,
          end: 0,
        }),
      );
      break;
    }
    const text = await read(path);
    if (text === undefined) continue; // The caller reports unreadable entry files; includes are checked below.
    files.push({ path, text });
    // Only NetPath documents include other files.
    for (const doc of parseYamlFile(path, text).documents) {
      const apiVersion = get(doc.root, 'apiVersion');
      if (apiVersion?.kind !== 'scalar' || !String(apiVersion.value).startsWith('netpath.dev/')) continue;
      for (const inc of strings(get(doc.root, 'include'))) {
        const matches = GLOB_CHARS.test(inc.value)
          ? await host.glob(dirname(path), inc.value)
          : [join(dirname(path), inc.value)];
        const existing = [];
        for (const m of matches) {
          if (seen.has(m) || (await read(m)) !== undefined) existing.push(m);
        }
        if (!existing.length) {
          problems.push(
            problem(
              'ref.unknown',
              'error',
              `include '${inc.value}' matches no file (relative to ${dirname(path)}).`,
              inc.span,
            ),
          );
        }
        queue.push(...existing);
      }
    }
  }
  return { files, problems };
}
