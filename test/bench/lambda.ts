/**
 * Lambda bundle benchmark (reports, never fails): every `lambdas/**\/*.handler.ts` bundled with esbuild the
 * way infra/constructs/lambda-defaults.ts has CDK bundle it (ESM, node22, module/main fields, minified,
 * names kept, no source map, the createRequire banner, the AWS SDK bundled, parquet-wasm external and
 * installed beside the bundle), then its size and its cold init: a fresh `node` imports the bundle (the
 * handler module's top level, secrets fetched from a fake Secrets Manager on loopback) and times the
 * import; the median of several spawns.
 *
 *   npx tsx test/bench/lambda.ts [--spawns 5]
 *
 * lambdaBundles() is shared with the benchmark suite (test/bench/run.ts, `npm run bench`).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { build } from 'esbuild';
import { AWS_ENV } from '../../shared/config/env.js';
import { tempDir } from '../helpers/tmp.js';
import { isMain, median } from './lib.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

export interface LambdaBundle {
  entry: string;
  name: string;
  bundleBytes: number;
  /** packages installed beside the bundle instead of bundled (parquet-wasm) */
  external: string[];
  /** median import time of the bundle in a fresh node, ms */
  initMs: number;
  initRunsMs: number[];
  /** median wall time of the whole `node` process (start, import, exit), ms */
  processMs: number;
}

export interface LambdaResult {
  bundles: LambdaBundle[];
  /** parquet-wasm's Node .wasm, installed beside the writer and compactor bundles */
  parquetWasmBytes: number;
  /** its JS glue (node/parquet_wasm.js), loaded beside the bundle too */
  parquetWasmJsBytes: number;
}

/** The handler entries: every lambdas/**\/*.handler.ts, as the CDK constructs name them. */
export function handlerEntries(root = ROOT): string[] {
  return (readdirSync(join(root, 'lambdas'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.handler.ts'))
    .map((f) => join('lambdas', f))
    .sort();
}

/** Just enough Secrets Manager (awsJson1_1) for the handlers' top-level secret reads. */
async function fakeSecretsManager(): Promise<{ endpoint: string; close: () => void }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (String(req.headers['x-amz-target']) === 'secretsmanager.GetSecretValue') {
        const { SecretId } = JSON.parse(body) as { SecretId: string };
        const value = SecretId.includes('keys') ? JSON.stringify({ keys: [] }) : 'x'.repeat(64);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ ARN: SecretId, Name: 'secret', SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 0 }));
        return;
      }
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'not expected by the bundle benchmark' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** Bundles every handler, then times `spawns` cold imports of each in a fresh node (cwd outside the repository). */
export async function lambdaBundles(spawns = 5, onProgress?: (msg: string) => void): Promise<LambdaResult> {
  // The banner and the package that is never bundled come from the CDK defaults themselves.
  const { ESM_REQUIRE_BANNER, PARQUET_WASM } = await import('../../infra/constructs/lambda-defaults.js');
  const { dir, cleanup } = await tempDir('sluice-bench-lambda-');
  const aws = await fakeSecretsManager();
  const bundles: LambdaBundle[] = [];
  try {
    for (const entry of handlerEntries()) {
      const name = relative('lambdas', entry).replace(/\.handler\.ts$/, '');
      const out = join(dir, name.replace(/\//g, '-'));
      mkdirSync(out, { recursive: true });
      const result = await build({
        entryPoints: [join(ROOT, entry)],
        outfile: join(out, 'index.mjs'),
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: { js: ESM_REQUIRE_BANNER },
        minify: true,
        keepNames: true,
        sourcemap: false,
        // NodejsFunction's nodeModules: external, installed beside index.mjs. Only parquet-wasm is ever
        // listed (its .wasm cannot be bundled); a bundle that does not reach it is unchanged by this.
        external: [PARQUET_WASM],
        metafile: true,
        logLevel: 'error',
      });
      const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
      const external = [PARQUET_WASM].filter((p) => imports.includes(p));
      if (external.length > 0) {
        mkdirSync(join(out, 'node_modules'), { recursive: true });
        for (const p of external) symlinkSync(join(ROOT, 'node_modules', p), join(out, 'node_modules', p), 'dir');
      }
      const bundleBytes = statSync(join(out, 'index.mjs')).size;
      const script = join(out, 'init.mjs');
      writeFileSync(
        script,
        `const t0 = performance.now();
         const m = await import(${JSON.stringify(pathToFileURL(join(out, 'index.mjs')).href)});
         const ms = performance.now() - t0;
         process.stdout.write('\\n@@init ' + JSON.stringify({ ms, handler: typeof m.handler }) + '\\n');
         process.exit(0);`,
      );
      const env = {
        PATH: process.env['PATH'],
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'example',
        AWS_ENDPOINT_URL: aws.endpoint,
        NODE_NO_WARNINGS: '1',
        [AWS_ENV.logLevel]: 'error',
        [AWS_ENV.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/sluice-queue',
        [AWS_ENV.bucket]: 'sluice-events-bucket',
        [AWS_ENV.workgroup]: 'Sluice',
        [AWS_ENV.database]: 'sluice',
        [AWS_ENV.table]: 'events',
        [AWS_ENV.topicArn]: 'arn:aws:sns:us-east-1:123456789012:sluice-alerts',
        [AWS_ENV.keysSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:keys-AbCdEf',
        [AWS_ENV.tokenSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf',
      };
      const initRunsMs: number[] = [];
      const processRunsMs: number[] = [];
      for (let s = 0; s < spawns; s++) {
        const t = performance.now();
        const { stdout } = await run(process.execPath, [script], { env, cwd: out, timeout: 60_000 });
        processRunsMs.push(performance.now() - t);
        const line = stdout.split('\n').find((l) => l.startsWith('@@init '));
        if (!line) throw new Error(`${name}: no init time from the bundle:\n${stdout.slice(0, 2000)}`);
        const r = JSON.parse(line.slice('@@init '.length)) as { ms: number; handler: string };
        if (r.handler !== 'function') throw new Error(`${name}: the bundle exports no handler`);
        initRunsMs.push(r.ms);
      }
      bundles.push({ entry, name, bundleBytes, external, initMs: median(initRunsMs), initRunsMs, processMs: median(processRunsMs) });
      onProgress?.(`${name}: ${(bundleBytes / 1024).toFixed(0)} KB, init ${median(initRunsMs).toFixed(0)} ms`);
    }
  } finally {
    aws.close();
    await cleanup();
  }
  const wasmDir = join(ROOT, 'node_modules', 'parquet-wasm', 'node');
  return {
    bundles,
    parquetWasmBytes: statSync(join(wasmDir, 'parquet_wasm_bg.wasm')).size,
    parquetWasmJsBytes: statSync(join(wasmDir, 'parquet_wasm.js')).size,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { spawns: { type: 'string', default: '5' } } });
  const r = await lambdaBundles(Number(values.spawns));
  console.log('\nbundle                 KB   init ms (median)  node process ms');
  for (const b of r.bundles) {
    console.log(
      `${b.name.padEnd(20)} ${(b.bundleBytes / 1024).toFixed(0).padStart(5)}   ${b.initMs.toFixed(0).padStart(16)}  ${b.processMs.toFixed(0).padStart(15)}${b.external.length ? `  + ${b.external.join(', ')} beside it` : ''}`,
    );
  }
  console.log(`parquet-wasm (node): ${(r.parquetWasmBytes / 1024).toFixed(0)} KB .wasm + ${(r.parquetWasmJsBytes / 1024).toFixed(0)} KB JS\n`);
}

if (isMain(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
