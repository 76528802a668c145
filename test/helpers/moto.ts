/**
 * moto_server (moto, installed with pip on the project's machines and in CI) on 127.0.0.1 with a free port,
 * in a child process: a real local peer for the AWS adapters (S3 with conditional writes, SQS, SNS,
 * Secrets Manager, DynamoDB). Suites that need it use `describe.skipIf(!hasMoto())`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

export interface Moto {
  endpoint: string;
  /** Settings for an SDK v3 client of this server (dummy credentials, path-style S3). */
  clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string }; forcePathStyle: boolean };
  /** Forgets every resource (moto's reset API). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** moto's default account: ARNs it returns and accepts use it. */
export const MOTO_ACCOUNT = '123456789012';
export const MOTO_REGION = 'us-east-1';

let available: boolean | undefined;
/** Whether moto_server is on PATH. */
export function hasMoto(): boolean {
  available ??= spawnSync('moto_server', ['--help'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
  return available;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * moto_server answers on threads and its DynamoDB does not lock an item between a condition and its update,
 * so concurrent conditional writes can both succeed, which DynamoDB never allows. `serialized` runs moto's
 * own server app on one thread: each call is then atomic, as in DynamoDB, while callers still interleave.
 */
const SERIALIZED = [
  'import sys',
  'from werkzeug.serving import run_simple',
  'from moto.server import DomainDispatcherApplication, create_backend_app',
  "run_simple('127.0.0.1', int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)",
].join('\n');

export async function startMoto(opts: { serialized?: boolean } = {}): Promise<Moto> {
  const port = await freePort();
  const [command, args] = opts.serialized ? ['python3', ['-c', SERIALIZED, String(port)]] : ['moto_server', ['-H', '127.0.0.1', '-p', String(port)]];
  const proc = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MOTO_PORT: String(port) } });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`moto_server exited with ${proc.exitCode}: ${err}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGTERM');
      throw new Error(`moto_server did not answer within 30 s: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    clientConfig: { endpoint, region: MOTO_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, forcePathStyle: true },
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
