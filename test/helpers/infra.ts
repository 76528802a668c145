/**
 * Synthesizes the Sluice stack for tests, the way `cdk synth` does (cdk.json's context and feature flags,
 * then `-c` overrides), optionally without bundling the Lambdas: CDK's own `aws:cdk:bundling-stacks` context
 * (what `cdk ls` uses) leaves their code as a placeholder asset, which keeps a synth to a few seconds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll } from 'vitest';
import { readConfig } from '../../infra/config.js';
import { SluiceStack } from '../../infra/sluice-stack.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

export interface SynthOptions {
  /** `-c key=value` overrides (strings, as the CLI passes them, or JSON values as in cdk.json). */
  context?: Record<string, unknown>;
  /** Bundle the Lambdas for real (slow: esbuild and npm ci per function). */
  bundle?: boolean;
  /** Run cdk-nag's AwsSolutions checks: app.synth() then throws on any unacknowledged finding. */
  nag?: boolean;
  /** Where the cloud assembly goes (default: a temporary directory removed after the test file). */
  outdir?: string;
}

const scratch: string[] = [];
// Registered in the root suite of every test file that imports this helper.
afterAll(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cdk-out-'));
  scratch.push(dir);
  return dir;
}

export function synthSluice(options: SynthOptions = {}) {
  const app = new App({
    outdir: options.outdir ?? scratchDir(),
    context: {
      ...CDK_JSON_CONTEXT,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  const config = readConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext()));
  const stack = new SluiceStack(app, config.stackName, { config, projectRoot: PROJECT_ROOT });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const assembly = app.synth();
  const template = Template.fromStack(stack);
  return { app, stack, config, assembly, template };
}

/** The resources of one type, as { logicalId: resource }. */
export function resourcesOf(template: Template, type: string): Record<string, { Properties: Record<string, any>; [k: string]: any }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, any> }>;
}

/** The single resource of a type whose logical id starts with `prefix`. */
export function only(template: Template, type: string, prefix = ''): { id: string; Properties: Record<string, any>; [k: string]: any } {
  const found = Object.entries(resourcesOf(template, type)).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} with id ${prefix}*, found ${found.map(([id]) => id).join(', ') || 'none'}`);
  const [id, r] = found[0]!;
  return { id, ...r };
}

/**
 * Sluice's own Lambda functions (their descriptions start with "Sluice"), without the ones CDK adds for
 * deployment-time custom resources (e.g. the prefix-list lookup of the network).
 */
export function sluiceFunctions(template: Template): Record<string, { Properties: Record<string, any>; [k: string]: any }> {
  return Object.fromEntries(
    Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).filter(([, f]) => String(f.Properties.Description ?? '').startsWith('Sluice')),
  );
}
