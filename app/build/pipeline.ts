// The build pipeline: resolve -> generate -> compile-as -> compile-native -> link -> record.
// Pure function of its request: it runs the same in the bundled worker and in the builder
// container, reports every stage and log line through `emit`, checks `signal` between stages,
// and writes nothing but complete files (atomic renames into the content-addressed cache).

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { resolveSettings, type Settings } from '../templates/schema.ts';
import { TemplateRegistry, type Template } from '../templates/registry.ts';
import { KilnError } from '../errors.ts';
import { breakdown } from './breakdown.ts';
import { BuildCache } from './cache.ts';
import { BuildFailure, formatDiagnostic } from './errors.ts';
import { AssetError, generate, withCompiledAssets, type CompiledAsset, type Generated } from './generate.ts';
import { canonicalJson, hashFile, hashTree, sha256 } from './hash.ts';
import { linkedModules } from './modules.ts';
import type { AsOutput, AssetCompiler, Toolchain } from './toolchain.ts';
import type { BuildArtefact, BuildEvent, BuildRequest, BuilderName, StageName } from './types.ts';

/** Bump when the pipeline's output format changes, so old cache entries are not reused. */
export const PIPELINE_VERSION = 1;

export interface PipelineContext {
  toolchain: Toolchain;
  emit: (e: BuildEvent) => void;
  signal?: AbortSignal;
  builder?: BuilderName;
  /**
   * A second layer under the request's cache for asc output, by the same content key: looked up
   * when the build cache misses, filled with every successful compile; `noCache` builds bypass
   * it. The test runner shares one per run across test homes (see worker.ts).
   */
  sharedWasm?: BuildCache;
}

class StageRunner {
  readonly ms: Partial<Record<StageName, number>> = {};
  constructor(private readonly ctx: PipelineContext) {}

  log(stage: StageName, text: string): void {
    for (const line of text.split('\n')) this.ctx.emit({ type: 'log', stage, line });
  }

  async run<T>(stage: StageName, body: () => Promise<T> | T, cachedWhen?: (r: T) => boolean): Promise<T> {
    if (this.ctx.signal?.aborted) {
      throw new BuildFailure(stage, 'Build cancelled.', { cancelled: true });
    }
    this.ctx.emit({ type: 'stage', stage, state: 'running' });
    const t0 = performance.now();
    try {
      const r = await body();
      const ms = Math.round((performance.now() - t0) * 10) / 10;
      this.ms[stage] = ms;
      this.ctx.emit({ type: 'stage', stage, state: cachedWhen?.(r) ? 'cached' : 'done', ms });
      return r;
    } catch (err) {
      const failure = toFailure(stage, err);
      this.ctx.emit({ type: 'stage', stage, state: failure.cancelled ? 'cancelled' : 'failed' });
      if (!failure.cancelled) this.log(stage, `error: ${failure.message}`);
      throw failure;
    }
  }
}

function toFailure(stage: StageName, err: unknown): BuildFailure {
  if (err instanceof BuildFailure) return err;
  if (err instanceof KilnError) {
    const field = err.field ? ` (setting "${err.field}")` : '';
    return new BuildFailure(stage, `${err.message}${field}`, { invalidInput: err.code === 'invalid_input' });
  }
  if (err instanceof AssetError) return new BuildFailure(stage, err.message, { invalidInput: true });
  return new BuildFailure(stage, err instanceof Error ? err.message : String(err));
}

interface Resolved {
  template: Template;
  settings: Settings;
}

export async function runPipeline(req: BuildRequest, ctx: PipelineContext): Promise<BuildArtefact> {
  const t0 = performance.now();
  const stages = new StageRunner(ctx);
  const cache = new BuildCache(req.cacheDir);
  const tc = ctx.toolchain;
  const optimize = req.optimize !== false;

  const { template, settings } = await stages.run('resolve', (): Resolved => {
    const template = new TemplateRegistry(req.templatesDir).get(req.template);
    const settings = resolveSettings(template.settings, req.settings);
    stages.log('resolve', `template ${template.name}: ${template.title}`);
    stages.log('resolve', `settings ${canonicalJson(settings)}`);
    return { template, settings };
  });

  const libos = tc.libosFingerprint();
  const gen = await stages.run('generate', async (): Promise<Generated> => {
    const g = generate(template.settings, settings, template.dir, tc.embedFolder);
    const compiled: CompiledAsset[] = [];
    for (const c of g.compile) {
      const compiler = tc.assetCompilers[c.compiler];
      if (!compiler) throw new AssetError(c.key, `Unknown asset compiler "${c.compiler}" for ${c.key}.`);
      const wasm = await assetCompilerWasm(compiler, libos, req.noCache ? null : cache, ctx, stages);
      const data = compiler.run(wasm, readFileSync(c.path, 'utf8'), settings);
      stages.log('generate', `asset ${c.key}: compiled by ${c.compiler} to ${data.length} bytes`);
      compiled.push({ key: c.key, data, consumed: compiler.consumes });
    }
    const out = withCompiledAssets(g, compiled);
    stages.log('generate', `configuration: ${Buffer.byteLength(out.config)} bytes`);
    for (const a of out.assets) {
      stages.log(
        'generate',
        `asset ${a.key}: ${a.kind} ${a.path} (${a.files} files, ${a.bytes} bytes, sha256 ${a.sha256.slice(0, 12)})`,
      );
    }
    return out;
  });

  // Every input of the image, by content. Paths never enter a key.
  const templateHash = hashTree(template.dir, { skipDirs: new Set(['node_modules', 'build']) });
  const compiler = tc.compilerFingerprint();
  const baseHash = hashFile(req.baseImage);
  const wasmKey = sha256(
    canonicalJson({
      v: PIPELINE_VERSION,
      templateHash,
      entry: relative(template.dir, template.entry),
      extra: gen.extraSources,
      libos,
      optimize,
      asc: template.asc,
    }),
  );
  const key = sha256(canonicalJson({ v: PIPELINE_VERSION, wasmKey, compiler, baseHash, config: gen.config }));

  if (!req.noCache) {
    const hit = cache.lookupImage(key);
    if (hit) {
      stages.log('record', `cache hit ${key.slice(0, 16)}: ${hit.path}`);
      for (const s of ['compile-as', 'compile-native', 'link'] as const)
        ctx.emit({ type: 'stage', stage: s, state: 'cached', ms: 0 });
      ctx.emit({ type: 'stage', stage: 'record', state: 'cached', ms: 0 });
      return {
        ...hit,
        cached: true,
        builder: ctx.builder ?? 'bundled',
        stageMs: stages.ms,
        totalMs: round(performance.now() - t0),
      };
    }
  }

  const entryPath = template.entry;
  const wasm = await stages.run(
    'compile-as',
    async () => {
      const cached = req.noCache ? null : cache.get('wasm', wasmKey);
      if (cached) {
        stages.log('compile-as', `reusing compiled Wasm ${wasmKey.slice(0, 16)} (sources unchanged)`);
        return { wasm: cached, cached: true };
      }
      stages.log(
        'compile-as',
        `asc ${relative(template.dir, template.entry)} --runtime ${template.asc.runtime} ${optimize ? (template.asc.optimize === 'size' ? '-O3s' : '-O3') : '-O1'}`,
      );
      const shared = req.noCache ? undefined : ctx.sharedWasm;
      const kept = shared?.get('wasm', wasmKey);
      if (kept) stages.log('compile-as', `reusing the Wasm kept in ${shared!.dir}`);
      const r: AsOutput = kept
        ? { wasm: kept, diagnostics: [] }
        : await tc.compileAs(entryPath, gen.extraSources, optimize, template.asc);
      if (shared && !kept && !r.diagnostics.some((d) => d.severity === 'error'))
        shared.put('wasm', wasmKey, r.wasm);
      for (const d of r.diagnostics.filter((x) => x.severity === 'warning'))
        stages.log('compile-as', formatDiagnostic(d));
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length > 0) {
        const first = errors[0]!;
        for (const d of errors) stages.log('compile-as', formatDiagnostic(d));
        const where = first.line > 0 ? `${first.file}:${first.line}:${first.column}` : first.file;
        throw new BuildFailure('compile-as', `${where}: ${first.message}`, {
          diagnostics: errors,
          invalidInput: true,
        });
      }
      cache.put('wasm', wasmKey, r.wasm);
      stages.log('compile-as', `Wasm: ${r.wasm.length} bytes`);
      return { wasm: r.wasm, cached: false };
    },
    (r) => r.cached,
  );

  const nativeKey = sha256(`${sha256(wasm.wasm)}\n${compiler}\n${PIPELINE_VERSION}`);
  const native = await stages.run(
    'compile-native',
    async () => {
      const cached = req.noCache ? null : cache.get('native', nativeKey);
      if (cached) {
        stages.log('compile-native', `reusing compiled code ${nativeKey.slice(0, 16)} (Wasm unchanged)`);
        return { blob: cached, cached: true };
      }
      const r = await tc.compileNative(wasm.wasm);
      cache.put('native', nativeKey, r.blob);
      stages.log('compile-native', `native blob: ${r.blob.length} bytes`);
      return { blob: r.blob, cached: false };
    },
    (r) => r.cached,
  );

  const base = new Uint8Array(readFileSync(req.baseImage));
  const image = await stages.run('link', async () => {
    const img = await tc.link(base, native.blob, Buffer.from(gen.config, 'utf8'));
    stages.log(
      'link',
      `kernel base ${base.length} bytes + blob ${native.blob.length} bytes -> image ${img.length} bytes`,
    );
    return img;
  });

  return await stages.run('record', () => {
    const modules = linkedModules(entryPath, tc.libDir, gen.extraSources);
    const artefact: BuildArtefact = {
      key,
      path: cache.imagePath(key),
      size: image.length,
      sha256: sha256(image),
      cached: false,
      builder: ctx.builder ?? 'bundled',
      template: template.name,
      stageMs: stages.ms,
      totalMs: 0,
      modules,
      breakdown: breakdown({
        imageBytes: image.length,
        baseBytes: base.length,
        blob: tc.blobParts(native.blob),
        configBytes: Buffer.byteLength(gen.config),
        // Assets live in the data segments as AssemblyScript strings (UTF-16): two bytes per
        // character of the generated modules' text.
        assetBytes: Object.values(gen.extraSources).reduce((n, src) => n + 2 * src.length, 0),
      }),
    };
    artefact.totalMs = round(performance.now() - t0);
    cache.storeImage(key, image, artefact);
    stages.log('record', `image ${artefact.path}`);
    stages.log('record', `size ${artefact.size} bytes, sha256 ${artefact.sha256}`);
    stages.log('record', `library modules: ${modules.join(', ') || '(none)'}`);
    return artefact;
  });
}

/**
 * An asset compiler's Wasm, compiled once per library-OS state and kept in the build cache (and
 * the shared layer) like an appliance's: a zone change never runs asc.
 */
async function assetCompilerWasm(
  compiler: AssetCompiler,
  libos: string,
  cache: BuildCache | null,
  ctx: PipelineContext,
  stages: StageRunner,
): Promise<Uint8Array> {
  const key = sha256(
    canonicalJson({
      v: PIPELINE_VERSION,
      libos,
      entry: relative(ctx.toolchain.libDir, compiler.entry),
      asc: compiler.asc,
    }),
  );
  const shared = cache ? ctx.sharedWasm : undefined;
  const kept = cache?.get('wasm', key) ?? shared?.get('wasm', key);
  if (kept) return kept;
  stages.log(
    'generate',
    `asc ${relative(ctx.toolchain.libDir, compiler.entry)} (asset compiler, once per library OS)`,
  );
  const r = await ctx.toolchain.compileAs(compiler.entry, {}, true, compiler.asc);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`asset compiler ${compiler.entry}: ${formatDiagnostic(errors[0]!)}`);
  cache?.put('wasm', key, r.wasm);
  shared?.put('wasm', key, r.wasm);
  return r.wasm;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
