#!/usr/bin/env node
// `npx sluice …`: registers the TypeScript loader (tsx, resolved from this package) and runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { buildCli } = await import('../lambdas/local/cli.ts');
await buildCli().parseAsync(process.argv);
