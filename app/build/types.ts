// The build's vocabulary, shared by the pipeline, the worker, the container builder, the engine
// service and the front ends. Everything here is plain data: it crosses thread, process and
// container boundaries as JSON.

export const STAGES = ['resolve', 'generate', 'compile-as', 'compile-native', 'link', 'record'] as const;
export type StageName = (typeof STAGES)[number];

export const STAGE_TITLES: Record<StageName, string> = {
  resolve: 'Resolve template and settings',
  generate: 'Generate configuration and assets',
  'compile-as': 'Compile AssemblyScript with the library OS',
  'compile-native': 'Compile Wasm to x86-64',
  link: 'Link with the kernel base',
  record: 'Record the artefact',
};

export type BuilderName = 'bundled' | 'docker';

/** What to build. Paths are absolute; the container builder mounts them at the same paths. */
export interface BuildRequest {
  /** resources/templates */
  templatesDir: string;
  template: string;
  /** the appliance's stored settings (validated again in the resolve stage) */
  settings: Record<string, unknown>;
  /** the content-addressed cache (images/, wasm/, native/) */
  cacheDir: string;
  /** kernel/build/kiln-base.elf */
  baseImage: string;
  /** false skips -O3 (faster, for experiments); builds default to optimised */
  optimize?: boolean;
  /** true ignores the cache and rebuilds every stage (the result still enters the cache) */
  noCache?: boolean;
}

export type StageState = 'running' | 'done' | 'cached' | 'failed' | 'cancelled';

export type BuildEvent =
  | { type: 'stage'; stage: StageName; state: StageState; ms?: number }
  | { type: 'log'; stage: StageName; line: string };

/** Where the image's bytes come from (bytes; the parts add up to `total`). */
export interface ImageBreakdown {
  /** the kernel base: boot, drivers, runtime */
  kernelBase: number;
  /** native code compiled from the appliance and the library OS */
  code: number;
  /** Wasm data segments (without embedded assets) and the configuration */
  data: number;
  /** bytes of embedded asset files (zone file, static site, ...) */
  assets: number;
  /** the blob's header, tables and strings (absent in artefacts recorded before they were split) */
  metadata?: number;
  /** page alignment: after the base, before and after the code */
  padding?: number;
  /** metadata + padding */
  other: number;
  total: number;
}

export interface BuildArtefact {
  /** the cache key: sha256 over every input */
  key: string;
  path: string;
  size: number;
  sha256: string;
  /** true when the image came from the cache without rebuilding */
  cached: boolean;
  builder: BuilderName;
  template: string;
  /** milliseconds per stage of this build (cached stages are short) */
  stageMs: Partial<Record<StageName, number>>;
  totalMs: number;
  /** library-OS modules linked in, e.g. ["kiln/config", "kiln/console"] */
  modules: string[];
  breakdown: ImageBreakdown;
}

/** A diagnostic from the AssemblyScript compiler, with where it points. */
export interface BuildDiagnostic {
  severity: 'error' | 'warning' | 'info';
  code: number;
  message: string;
  file: string;
  line: number;
  column: number;
  excerpt: string;
}

/** Why a build failed, as plain data. */
export interface BuildFailureData {
  stage: StageName;
  /** 'invalid_input' (settings, template code), 'cancelled' or 'internal' */
  code: 'invalid_input' | 'cancelled' | 'internal';
  message: string;
  cancelled: boolean;
  diagnostics: BuildDiagnostic[];
}
