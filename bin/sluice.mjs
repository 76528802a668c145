#!/usr/bin/env node
// `npx sluice …`: registers the TypeScript loader (tsx, resolved from this package) and runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { buildCli } = await import('../cli/sluice.ts');
try {
  await buildCli().parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`sluice: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
