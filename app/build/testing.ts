// Helpers for the build's tests and benchmark: a throwaway cache and request builders.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../paths.ts';
import type { BuildRequest } from './types.ts';

export const TEMPLATES_DIR = join(repoRoot(), 'resources', 'templates');
export const BASE_IMAGE = join(repoRoot(), 'kernel', 'build', 'kiln-base.elf');

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `kiln-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function request(
  cacheDir: string,
  template: string,
  settings: Record<string, unknown> = {},
  extra: Partial<BuildRequest> = {},
): BuildRequest {
  return { templatesDir: TEMPLATES_DIR, template, settings, cacheDir, baseImage: BASE_IMAGE, ...extra };
}

/** A private copy of the templates folder, for tests that edit a template's sources. */
export function copyTemplates(into: string): string {
  const dest = join(into, 'templates');
  cpSync(TEMPLATES_DIR, dest, { recursive: true });
  return dest;
}
