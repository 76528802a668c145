/**
 * Local mode's syslog listener: TCP (octet-counted or newline-framed, RFC 6587) and UDP (RFC 5426) on one
 * port number. Messages are batched and go through the same ingest service as HTTP requests, as text
 * records whose format (RFC 5424 / 3164) the normalizer detects.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import { datagramFrame, syslogRecords, SyslogStreamFramer, type SyslogFrame } from '../../shared/domain/shippers/syslog.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { IngestService } from '../../shared/services/ingest.js';

export interface SyslogListenerOptions {
  host: string;
  /** 0: a free port for each of TCP and UDP (they may differ) */
  port: number;
  tenant: string;
  ingest: Pick<IngestService, 'ingestRecords'>;
  logger: Logger;
  /** A batch is ingested this long after its first message (default 100 ms)… */
  flushMs?: number;
  /** …or once it has this many messages (default 1000). */
  maxBatch?: number;
  maxConnections?: number;
}

export interface SyslogListener {
  tcpPort: number;
  udpPort: number;
  /** Stops listening, ingests what was received, and resolves when it is durable. */
  close(): Promise<void>;
}

/** Collects frames and ingests them in order, one batch at a time. */
class Batcher {
  private pending: SyslogFrame[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (frames: SyslogFrame[]) => Promise<void>,
    private readonly flushMs: number,
    private readonly maxBatch: number,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  add(frames: readonly SyslogFrame[]): void {
    if (frames.length === 0) return;
    this.pending.push(...frames);
    if (this.pending.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Ingests everything pending; resolves when that batch (and every one before it) is done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const frames = this.pending;
    this.pending = [];
    if (frames.length > 0) this.chain = this.chain.then(() => this.write(frames));
    return this.chain;
  }
}

export async function startSyslogListener(opts: SyslogListenerOptions): Promise<SyslogListener> {
  const { host, tenant, ingest, logger } = opts;
  const maxBatch = opts.maxBatch ?? 1000;
  const batcher = new Batcher(
    async (frames) => {
      try {
        await ingest.ingestRecords({ tenant, records: syslogRecords(frames), defaults: {} });
      } catch (err) {
        // Syslog has no acknowledgement to refuse with: say what was lost.
        logger.error('syslog messages could not be ingested and were dropped', { count: frames.length, error: (err as Error).message });
      }
    },
    opts.flushMs ?? 100,
    maxBatch,
  );

  const sockets = new Set<Socket>();
  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    const framer = new SyslogStreamFramer();
    socket.on('data', (chunk: Buffer) => {
      batcher.add(framer.push(chunk));
      // Backpressure: stop reading this sender while a full batch is being stored.
      if (batcher.size >= maxBatch) {
        socket.pause();
        void batcher.flush().then(() => socket.resume());
      }
    });
    socket.on('end', () => {
      batcher.add(framer.end());
      socket.end();
    });
    socket.on('error', (err) => logger.debug('syslog connection error', { error: err.message }));
    socket.on('close', () => sockets.delete(socket));
  });
  tcp.maxConnections = opts.maxConnections ?? 1000;

  const udp: UdpSocket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
  udp.on('message', (msg) => {
    const frame = datagramFrame(msg);
    if (frame) batcher.add([frame]);
  });
  udp.on('error', (err) => logger.warn('syslog UDP socket error', { error: err.message }));

  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port, host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const tcpPort = (tcp.address() as AddressInfo).port;
  try {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(opts.port, host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    throw err;
  }
  const udpPort = udp.address().port;
  tcp.on('error', (err) => logger.warn('syslog TCP listener error', { error: err.message }));

  let closed: Promise<void> | undefined;
  return {
    tcpPort,
    udpPort,
    close() {
      closed ??= (async () => {
        const tcpClosed = new Promise<void>((resolve) => tcp.close(() => resolve()));
        for (const s of sockets) s.end();
        // Senders get a moment to finish; then connections are cut.
        const cut = setTimeout(() => sockets.forEach((s) => s.destroy()), 1000);
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        await tcpClosed;
        clearTimeout(cut);
        await batcher.flush();
      })();
      return closed;
    },
  };
}
