import type { Engine } from '../engine.ts';
import type { FlagSpec, Parsed } from './args.ts';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export interface CommandContext extends Output {
  /** opens the engine on first use, so `kiln --help` never touches the library */
  engine(): Engine;
  json: boolean;
  /** resolves when the user interrupts (Ctrl-C / SIGTERM), for long-running commands */
  interrupted: Promise<void>;
}

export interface Command {
  name: string;
  /** e.g. "<template> <name> [--set key=value ...]" */
  args: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  /** how many positionals: [min, max] */
  positionals: [number, number];
  run(p: Parsed, ctx: CommandContext): Promise<number>;
}

/** Prints rows as aligned columns. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}
