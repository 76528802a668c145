/**
 * The CDK app (cdk.json: `npx tsx infra/app.ts`): reads the validated configuration from context, creates
 * the stack, and runs cdk-nag's AwsSolutions checks on it (synth fails on any unacknowledged finding).
 */
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readConfig } from './config.js';
import { SluiceStack } from './sluice-stack.js';

const app = new App();
const config = readConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext()));
new SluiceStack(app, config.stackName, { config, projectRoot: fileURLToPath(new URL('..', import.meta.url)) });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
