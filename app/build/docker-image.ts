// The pinned builder image: resources/builder/Dockerfile on top of the locally made Debian
// bookworm base (resources/builder/make-base-image.sh), with this machine's Node copied in and
// its version checked. The tag is derived from the Dockerfile and the Node version, so a change
// to either makes a new image and an old one is never reused by mistake.

import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { repoRoot } from '../paths.ts';
import { sha256 } from './hash.ts';

export const BASE_IMAGE_TAG = 'kiln-builder-base:bookworm';
export const BUILDER_DIR = join(repoRoot(), 'resources', 'builder');

export function builderImageTag(): string {
  const dockerfile = readFileSync(join(BUILDER_DIR, 'Dockerfile'), 'utf8');
  return `kiln-builder:${sha256(`${dockerfile}\n${process.version}`).slice(0, 16)}`;
}

async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

export async function baseImagePresent(docker: Docker): Promise<boolean> {
  return imageExists(docker, BASE_IMAGE_TAG);
}

/** Builds the builder image when missing; `log` receives the build output line by line. */
export async function ensureBuilderImage(docker: Docker, log: (line: string) => void): Promise<string> {
  const tag = builderImageTag();
  if (await imageExists(docker, tag)) return tag;
  if (!(await baseImagePresent(docker))) {
    throw new Error(
      `The builder's base image ${BASE_IMAGE_TAG} is missing: run resources/builder/make-base-image.sh (debootstrap + docker import).`,
    );
  }
  const context = mkdtempSync(join(tmpdir(), 'kiln-builder-context-'));
  try {
    copyFileSync(join(BUILDER_DIR, 'Dockerfile'), join(context, 'Dockerfile'));
    copyFileSync(process.execPath, join(context, 'node'));
    log(`building ${tag} (Node ${process.version})`);
    const stream = await docker.buildImage(
      { context, src: ['Dockerfile', 'node'] },
      { t: tag, buildargs: { NODE_VERSION: process.version.slice(1) }, rm: true, forcerm: true },
    );
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null, output: { error?: string }[]) => {
          const failed = output?.find((o) => o.error);
          if (err || failed)
            reject(new Error(`builder image build failed: ${err?.message ?? failed?.error}`));
          else resolve();
        },
        (e: { stream?: string }) => {
          for (const line of (e.stream ?? '').split('\n')) if (line.trim()) log(line.trimEnd());
        },
      );
    });
    return tag;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
