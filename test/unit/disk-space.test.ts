import { afterEach, describe, expect, it } from 'vitest';
import { DiskSpace, errorCode, type DiskSpaceFs } from '../../shared/adapters/local/disk-space.js';
import { MemoryLogger } from '../helpers/logger.js';

const MiB = 1024 * 1024;

/** A filesystem whose free space and writability the test sets; counts the statfs calls. */
function fakeFs(totalBytes: number, freeBytes: number) {
  const state = { free: freeBytes, total: totalBytes, readOnly: false, statfsCalls: 0, probes: 0 };
  const fs: DiskSpaceFs = {
    statfs: async () => {
      state.statfsCalls++;
      return { bavail: Math.floor(state.free / 4096), bsize: 4096, blocks: Math.floor(state.total / 4096) };
    },
    probe: async () => {
      state.probes++;
      if (state.readOnly) throw Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' });
    },
  };
  return { state, fs };
}

const erofs = () => Object.assign(new Error('EROFS: read-only file system, write'), { code: 'EROFS' });
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
/** Polls until the condition holds (timers may run late on a busy machine); fails after 3 s. */
async function until(cond: () => boolean): Promise<void> {
  for (const end = Date.now() + 3000; !cond();) {
    if (Date.now() > end) throw new Error('condition not met within 3 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('DiskSpace', () => {
  const opened: DiskSpace[] = [];
  const open = async (fs: DiskSpaceFs, opts: { reserveBytes?: number; reservePercent?: number; refreshMs?: number } = {}) => {
    const disk = await DiskSpace.open({
      dir: '/data',
      reserveBytes: 1024 * MiB,
      reservePercent: 10,
      refreshMs: 60_000,
      logger: new MemoryLogger(),
      fs,
      ...opts,
    });
    opened.push(disk);
    return disk;
  };
  afterEach(() => {
    for (const d of opened.splice(0)) d.close();
  });

  it('the reserve is the smaller of the byte cap and the percentage of the filesystem; 0 in either turns it off', async () => {
    expect((await open(fakeFs(48 * MiB, 40 * MiB).fs)).status().reserveBytes).toBe(Math.floor(4.8 * MiB));
    expect((await open(fakeFs(100 * 1024 * MiB, 50 * 1024 * MiB).fs)).status().reserveBytes).toBe(1024 * MiB);
    expect((await open(fakeFs(48 * MiB, 1 * MiB).fs, { reserveBytes: 0 })).refusal()).toBeUndefined();
    expect((await open(fakeFs(48 * MiB, 1 * MiB).fs, { reservePercent: 0 })).refusal()).toBeUndefined();
  });

  it('refuses below the reserve with a message a client can act on, and counts what was written since the last look', async () => {
    const { state, fs } = fakeFs(100 * MiB, 20 * MiB);
    const disk = await open(fs);
    expect(disk.refusal()).toBeUndefined();
    expect(disk.refusal(9 * MiB)).toBeUndefined();
    expect(disk.refusal(11 * MiB)).toMatchObject({
      reason: 'disk below reserve',
      message: expect.stringMatching(/free disk space \(20\.0 MiB\) is below the reserve .*\(10\.0 MiB\)/),
    });
    // A burst of writes is counted before the next statfs: no overshoot past the reserve.
    for (let i = 0; i < 11; i++) disk.wrote(MiB);
    expect(disk.refusal()?.reason).toBe('disk below reserve');
    expect(state.statfsCalls).toBe(1);
  });

  it('asks the filesystem only on open, on its timer, after ENOSPC and after space was reclaimed; never per check', async () => {
    const { state, fs } = fakeFs(100 * MiB, 50 * MiB);
    const disk = await open(fs);
    for (let i = 0; i < 10_000; i++) disk.refusal(1000);
    expect(state.statfsCalls).toBe(1);
    state.free = 5 * MiB;
    disk.failed(enospc());
    // Refused at once (the figure is taken as zero until the filesystem answers), then by the fresh figure.
    expect(disk.refusal()?.reason).toBe('disk below reserve');
    await disk.refresh();
    expect(state.statfsCalls).toBeGreaterThanOrEqual(2);
    expect(disk.status().freeBytes).toBe(5 * MiB);
    state.free = 60 * MiB;
    disk.reclaimed();
    await disk.refresh();
    expect(disk.refusal()).toBeUndefined();
  });

  it('looks on a short timer, faster while refusing, and tells listeners when space comes back', async () => {
    const { state, fs } = fakeFs(100 * MiB, 5 * MiB);
    const disk = await open(fs, { refreshMs: 2000 });
    let improved = 0;
    disk.onImproved(() => improved++);
    expect(disk.refusal()?.reason).toBe('disk below reserve');
    state.free = 50 * MiB;
    // While refusing, it looks every refreshMs / 4 (500 ms), not every 2 s.
    const t0 = Date.now();
    await until(() => disk.refusal() === undefined);
    expect(Date.now() - t0).toBeLessThan(1900);
    expect(improved).toBe(1);
  });

  it('a read-only filesystem refuses until a probe write succeeds, then accepts and tells listeners', async () => {
    const { state, fs } = fakeFs(100 * MiB, 50 * MiB);
    const disk = await open(fs, { refreshMs: 200 });
    let improved = 0;
    disk.onImproved(() => improved++);
    state.readOnly = true;
    disk.failed(new Error('object store cannot write', { cause: erofs() }));
    expect(disk.refusal()).toEqual({
      reason: 'data directory not writable (EROFS)',
      message: 'the data directory cannot be written (EROFS); ingest resumes by itself once it can',
    });
    expect(disk.status()).toMatchObject({ writable: false, error: 'EROFS' });
    await until(() => state.probes >= 2);
    expect(disk.refusal()?.reason).toBe('data directory not writable (EROFS)');
    expect(improved).toBe(0);
    state.readOnly = false;
    await until(() => disk.refusal() === undefined);
    expect(disk.status()).toMatchObject({ writable: true });
    expect(disk.status().error).toBeUndefined();
    expect(improved).toBe(1);
  });

  it('errors that are not about the disk leave it alone; a failing statfs keeps the last figures', async () => {
    const { fs } = fakeFs(100 * MiB, 50 * MiB);
    const disk = await open(fs);
    disk.failed(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    disk.failed(new Error('no code at all'));
    expect(disk.refusal()).toBeUndefined();
    fs.statfs = async () => {
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    };
    await disk.refresh();
    expect(disk.status().freeBytes).toBe(50 * MiB);
    expect(disk.refusal()).toBeUndefined();
  });

  it('errorCode finds the code on the error or its causes', () => {
    expect(errorCode(enospc())).toBe('ENOSPC');
    expect(errorCode(new Error('outer', { cause: new Error('mid', { cause: erofs() }) }))).toBe('EROFS');
    expect(errorCode(new Error('none'))).toBeUndefined();
  });
});
