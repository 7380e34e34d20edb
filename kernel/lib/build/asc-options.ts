// How a template's appliance is compiled by asc, from its template.json ("runtime", "optimize").
// Kept apart from compile-as.ts so the engine can validate a template.json without loading asc.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * `incremental`: the collector runs by itself during allocations; the compiler keeps every
 * reference a function holds on a shadow stack for it (about 40% of a networked appliance's
 * code). `minimal`: no shadow stack; the event loop collects between turns (kernel/lib/loop.ts),
 * so an appliance's main must not keep references in locals across run().
 */
export type AscRuntime = 'incremental' | 'minimal';
export const ASC_RUNTIMES: readonly AscRuntime[] = ['incremental', 'minimal'];

/** `speed`: -O3. `size`: -O3s (the same passes, less inlining: the dns appliance's code -18%). */
export type AscOptimize = 'speed' | 'size';
export const ASC_OPTIMIZE: readonly AscOptimize[] = ['speed', 'size'];

export interface AscOptions {
  runtime: AscRuntime;
  optimize: AscOptimize;
}

export const DEFAULT_ASC_OPTIONS: AscOptions = { runtime: 'incremental', optimize: 'speed' };

/** Checks the two fields of a parsed template.json; the message names the file and the field. */
export function ascOptionsOf(manifest: { runtime?: unknown; optimize?: unknown }, where: string): AscOptions {
  const pick = <T extends string>(field: 'runtime' | 'optimize', allowed: readonly T[], dflt: T): T => {
    const v = manifest[field];
    if (v === undefined) return dflt;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    throw new Error(`${where}: "${field}" must be one of ${allowed.join(', ')}`);
  };
  return {
    runtime: pick('runtime', ASC_RUNTIMES, DEFAULT_ASC_OPTIONS.runtime),
    optimize: pick('optimize', ASC_OPTIMIZE, DEFAULT_ASC_OPTIONS.optimize),
  };
}

/** The options of the template.json beside `entry`; the defaults when there is none. */
export function templateAscOptions(entry: string): AscOptions {
  const manifest = join(dirname(resolve(entry)), 'template.json');
  if (!existsSync(manifest)) return DEFAULT_ASC_OPTIONS;
  return ascOptionsOf(JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>, manifest);
}
