// `kiln`: the command line over the same engine as the app. Exit status: 0 done, 1 failed,
// 2 usage error (unknown command, bad flag).
import { Engine } from '../engine.ts';
import { toErrorData } from '../errors.ts';
import { parseArgs, UsageError } from './args.ts';
import type { Command, CommandContext, Output } from './command.ts';
import { commands } from './commands/index.ts';

function usage(): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: kiln <command> [options]   (every command takes --json)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    "kiln <command> --help shows a command's options. Data lives in $KILN_HOME (default ~/.local/share/kiln).",
  ].join('\n');
}

function commandUsage(c: Command): string {
  const lines = [`Usage: kiln ${c.name} ${c.args}`.trimEnd(), '', c.summary];
  const flags = Object.entries(c.flags);
  if (flags.length) lines.push('', 'Options:');
  for (const [name, f] of flags) lines.push(`  --${name}${f.value ? ` ${f.value}` : ''}`.padEnd(26) + f.help);
  return lines.join('\n');
}

export async function runCli(
  argv: string[],
  io: Output = { out: (s) => console.log(s), err: (s) => console.error(s) },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    io.err(`kiln: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandUsage(cmd));
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs(rest, cmd.flags);
    const n = parsed.positionals.length;
    if (n < cmd.positionals[0] || n > cmd.positionals[1])
      throw new UsageError(`expected ${cmd.args || 'no arguments'}`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`kiln ${cmd.name}: ${err.message}\n\n${commandUsage(cmd)}`);
    return 2;
  }
  const json = parsed.flags.json === true;
  let engine: Engine | undefined;
  let onSignal: (() => void) | undefined;
  const interrupted = new Promise<void>((resolve) => {
    onSignal = resolve;
  });
  const signal = () => onSignal?.();
  process.once('SIGINT', signal);
  process.once('SIGTERM', signal);
  const ctx: CommandContext = {
    ...io,
    json,
    interrupted,
    engine: () => (engine ??= Engine.open()),
  };
  try {
    return await cmd.run(parsed, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`kiln ${cmd.name}: ${err.message}\n\n${commandUsage(cmd)}`);
      return 2;
    }
    const e = toErrorData(err);
    if (json) io.out(JSON.stringify({ error: e }));
    else io.err(`kiln ${cmd.name}: ${e.message}`);
    return 1;
  } finally {
    process.off('SIGINT', signal);
    process.off('SIGTERM', signal);
    await engine?.close();
  }
}
