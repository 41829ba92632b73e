/** Loads the topology the lab builds, as `netpath trace` does, so the lab and the tracer read the same data plane. */
import { analyse, compileDataPlane, type DataPlane, type Topology } from '../core';
import { loadEntries, oneTopology, readOnceHost, topologiesOf } from './files';

export interface LoadedLab {
  readonly topology: Topology;
  readonly dataPlane: DataPlane;
  readonly files: readonly string[];
}

export async function loadLabTopology(paths: readonly string[], cwd: string): Promise<LoadedLab> {
  const files = readOnceHost();
  const { entries } = oneTopology(await topologiesOf(paths, cwd, {}, [], files), cwd);
  const loaded = await loadEntries(entries, paths, cwd, {}, files);
  const analysis = analyse(loaded.files, { parse: files.takeParsed });
  const dataPlane = compileDataPlane(analysis.topology, { files: new Map(loaded.files.map((f) => [f.path, f.text])) });
  return { topology: analysis.topology, dataPlane, files: loaded.files.map((f) => f.path) };
}
