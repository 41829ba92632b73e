// Small process helpers shared by the build, test and start scripts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Seconds since `t0` (a `performance.now()` value), one decimal. */
export const seconds = (t0) => ((performance.now() - t0) / 1000).toFixed(1);

/** A log function that prefixes every line with `[tag]`. */
export const logger =
  (tag) =>
  (...parts) =>
    console.log(`[${tag}]`, ...parts);

/**
 * The environment for a nested `npm` in another folder: without the variables `npm test`/`npm start`
 * set to describe this package and script (npm_package_*, npm_lifecycle_*, ...), which belong to this
 * repository, but with npm_config_* kept: that is how a machine sets its registry, cache or proxy.
 */
export function cleanNpmEnv(env = process.env) {
  const scriptVars = /^npm_(package_|lifecycle_|command$|execpath$|node_execpath$)/i;
  return Object.fromEntries(Object.entries(env).filter(([k]) => !scriptVars.test(k)));
}

/**
 * Runs a command to completion. Output goes to the terminal, or, with `logFile`, to that file (so long
 * installs stay quiet and the failure shows the file's tail). Resolves with the exit code when `allowFail`,
 * otherwise rejects on a non-zero exit.
 */
export function run(cmd, args, { cwd, env, logFile, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const out = logFile ? fs.openSync(logFile, 'a') : 'inherit';
    if (logFile) fs.writeSync(out, `\n$ ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', out, out] });
    child.on('error', (err) => reject(new Error(`${cmd}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (logFile) fs.closeSync(out);
      const status = code ?? 128;
      if (status === 0 || allowFail) return resolve(status);
      const tail = logFile ? '\n' + tailOf(logFile, 40) : '';
      reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`})${tail}`));
    });
  });
}

/** Runs a command and returns its stdout (rejects on failure, with stderr in the message). */
export function capture(cmd, args, { cwd, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => reject(new Error(`${cmd}: ${err.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.trim()}`)),
    );
  });
}

/** The last `n` lines of a text file (for error messages). */
export function tailOf(file, n) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}
