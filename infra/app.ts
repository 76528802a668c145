/**
 * The CDK app (cdk.json: `npx tsx infra/app.ts`): reads the validated configuration from context, creates
 * the stack, and runs cdk-nag's AwsSolutions checks on it (synth fails on any unacknowledged finding).
 */
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readConfig, SluiceConfigError, type SluiceConfig } from './config.js';
import { SluiceStack } from './sluice-stack.js';

const app = new App();
let config: SluiceConfig;
try {
  // getAllContext() is typed `any`; it returns the context as a plain object of key → value.
  config = readConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext() as Record<string, unknown>));
} catch (err) {
  // A configuration mistake is the user's to fix: the message names the key; a stack trace would bury it.
  if (!(err instanceof SluiceConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
new SluiceStack(app, config.stackName, { config, projectRoot: fileURLToPath(new URL('..', import.meta.url)) });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
