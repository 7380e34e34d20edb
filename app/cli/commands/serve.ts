import { join } from 'node:path';
import { repoRoot } from '../../paths.ts';
import { startWebServer } from '../../server/web-server.ts';
import { int, str } from '../args.ts';
import type { Command } from '../command.ts';

export function rendererDir(): string {
  return process.env.KILN_RENDERER ?? join(repoRoot(), 'dist', 'renderer');
}

export const serveCommand: Command = {
  name: 'serve',
  args: '[--port N] [--host ADDR]',
  summary: 'serve the Kiln UI and API to a browser (web mode)',
  flags: {
    port: { type: 'string', value: 'N', help: 'port to listen on (default: a free one)' },
    host: {
      type: 'string',
      value: 'ADDR',
      help: 'address to bind (default 127.0.0.1; anything else exposes Kiln to the network)',
    },
    json: { type: 'boolean', help: 'print the URL as JSON' },
  },
  positionals: [0, 0],
  async run(p, ctx) {
    const engine = ctx.engine();
    // A long-lived front end picks up the VMs a previous engine left running (or marks them lost).
    const { reattached, lost } = await engine.machines.reattachAll();
    if (!ctx.json && reattached.length + lost.length > 0) {
      ctx.err(`Re-attached to ${reattached.length} running VM(s); ${lost.length} marked lost.`);
    }
    const server = await startWebServer({
      engine,
      rendererDir: rendererDir(),
      port: int(p, 'port', 0, 65535) ?? 0,
      host: str(p, 'host') ?? '127.0.0.1',
    });
    if (ctx.json) ctx.out(JSON.stringify({ url: server.url, port: server.port }));
    else ctx.out(`Kiln web mode: ${server.url}\n(open it in a browser; Ctrl-C stops)`);
    await ctx.interrupted;
    await server.close();
    return 0;
  },
};
