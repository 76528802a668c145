import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server that records JSON posts; `respond` decides each answer (default 200 "ok"). */
export async function startWebhookServer(respond: (n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 })) {
  const received: { at: number; body: any }[] = [];
  let calls = 0;
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const r = respond(calls++);
      if (r.status === 200) received.push({ at: Date.now(), body: JSON.parse(data) });
      res.writeHead(r.status, r.headers ?? {});
      res.end(r.status === 200 ? 'ok' : 'slow down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
