/**
 * A stand-in for lambdas/local/query-worker.ts speaking the same IPC protocol, for ProcessQueryEngine's
 * tests: `SELECT 1` ends at once; `STUCK` never ends (as a statement DuckDB would not stop); `ALLOCATE`
 * holds ~300 MB and never ends (as an allocation DuckDB's memory_limit does not cover); `CRASH` exits.
 */
const held = [];
let n = 0;
const send = (m) => process.send(m);
process.on('message', (m) => {
  if (m.t === 'close') process.exit(0);
  if (m.t !== 'call') return;
  if (m.method === 'start') {
    const q = m.args[0];
    const id = `fake-${n++}`;
    send({ t: 'reply', id: m.id, ok: true, value: id });
    if (q.sql === 'SELECT 1') send({ t: 'ended', execution: id, status: { state: 'succeeded', stats: { rows: 1, bytesScanned: 0, elapsedMs: 1 } } });
    if (q.sql === 'ALLOCATE') for (let i = 0; i < 30; i++) held.push(Buffer.alloc(10 * 1024 * 1024, 1));
    if (q.sql === 'CRASH') setTimeout(() => process.exit(3), 10);
    return;
  }
  if (m.method === 'page')
    return send({
      t: 'reply',
      id: m.id,
      ok: true,
      value: { columns: [{ name: 'x', type: 'INTEGER' }], rows: [[1]], stats: { rows: 1, bytesScanned: 0, elapsedMs: 1 } },
    });
  send({ t: 'reply', id: m.id, ok: false, error: { name: 'NotFoundError', message: 'no such query' } });
});
process.on('disconnect', () => process.exit(0));
send({ t: 'ready' });
