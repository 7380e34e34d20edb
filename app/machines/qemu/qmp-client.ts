// A small QMP client: one JSON object per line over a Unix socket. Commands carry an id so
// replies match requests even when events arrive in between.
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class QmpError extends Error {
  constructor(
    readonly errorClass: string,
    message: string,
  ) {
    super(message);
  }
}

export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [] }> {
  private buffer = '';
  private nextId = 1;
  private pending = new Map<string, Pending>();
  private closed = false;
  version: { qemu: { major: number; minor: number; micro: number } } | null = null;

  private constructor(private readonly socket: Socket) {
    super();
  }

  /** Connects, waits for the greeting and negotiates capabilities. */
  static async connect(path: string): Promise<QmpClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    const client = new QmpClient(socket);
    const greeting = new Promise<Record<string, unknown>>((resolve, reject) => {
      client.greetingWaiter = resolve;
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('QMP closed before greeting')));
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => client.onData(chunk));
    socket.on('close', () => client.onClose());
    socket.on('error', () => client.onClose());
    // A QMP socket held by another client accepts the connection but never greets.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('QMP did not greet within 2 s (another client attached?)')),
        2000,
      );
    });
    let g: Record<string, unknown>;
    try {
      g = await Promise.race([greeting, timeout]);
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const qmp = g.QMP as { version?: { qemu: { major: number; minor: number; micro: number } } } | undefined;
    client.version = qmp?.version ?? null;
    await client.execute('qmp_capabilities');
    return client;
  }

  private greetingWaiter: ((g: Record<string, unknown>) => void) | null = null;

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line === '') continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      this.onMessage(msg);
    }
  }

  private onMessage(msg: Record<string, unknown>): void {
    if ('QMP' in msg) {
      this.greetingWaiter?.(msg);
      this.greetingWaiter = null;
    } else if (typeof msg.event === 'string') {
      this.emit('event', msg as unknown as QmpEvent);
    } else if (typeof msg.id === 'string') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if ('error' in msg) {
        const e = msg.error as { class: string; desc: string };
        p.reject(new QmpError(e.class, e.desc));
      } else p.resolve(msg.return);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error('QMP connection closed'));
    this.pending.clear();
    this.emit('close');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('QMP connection closed'));
    const id = `k${this.nextId++}`;
    const payload = JSON.stringify(
      args ? { execute: command, arguments: args, id } : { execute: command, id },
    );
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(payload + '\n');
    });
  }

  close(): void {
    this.socket.destroy();
    this.onClose();
  }
}
