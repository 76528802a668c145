/**
 * The one place every Sluice Lambda's defaults live: Node.js 24 on arm64, an ESM bundle built by the local
 * esbuild (a devDependency, so no Docker, and no npm run: synth works offline), the VPC placement, a log group with retention, and the Lambda
 * environment named through AWS_ENV (never a hard-coded variable name).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AWS_ENV, type AwsSetting } from '../../shared/config/env.js';
import { acknowledge } from './nag.js';

/**
 * dt-sql-parser (in the query Lambda) and some CommonJS dependencies call require() for Node built-ins at
 * run time; an ESM bundle has no `require`, so the bundle defines one.
 */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** What Lambda needs to attach a function to a VPC (AWSLambdaVPCAccessExecutionRole's actions). */
export const VPC_ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/** The newest Node.js runtime aws-cdk-lib offers (checked by test/infra/stack.test.ts), and the bundles' target. */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;
export const BUNDLE_TARGET = 'node24';

/** parquet-wasm reads its .wasm file from beside its own JS, so it is copied next to the bundle, not bundled. */
export const PARQUET_WASM = 'parquet-wasm';

/**
 * Packages kept out of a bundle and copied beside it from the repository's node_modules, with the files a
 * Lambda needs of each: its package.json (Node resolves the import through its "exports"), the build Node
 * loads, and the licences. No `npm ci` runs, so synth needs no registry, and no lock file is shipped.
 */
export const COPIED_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  // Three builds of the same 5 MB .wasm ship in the package; Node's "exports" condition loads node/.
  [PARQUET_WASM]: ['package.json', 'node', 'LICENSE_MIT', 'LICENSE_APACHE'],
};

/** The shell commands that copy a package's files (COPIED_PACKAGES) from node_modules into a bundle's node_modules. */
export function copyPackageCommands(projectRoot: string, name: string, outputDir: string): string[] {
  const files = COPIED_PACKAGES[name];
  if (!files) throw new Error(`${name} is not in COPIED_PACKAGES: say which of its files a Lambda needs`);
  const from = join(projectRoot, 'node_modules', name);
  const pkg = join(from, 'package.json');
  if (!existsSync(pkg)) throw new Error(`${pkg} is missing: run npm ci in ${projectRoot} before synth`);
  // Copied on its own, a package must not need others (they would be missing at run time).
  const deps = Object.keys((JSON.parse(readFileSync(pkg, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
  if (deps.length > 0) throw new Error(`${name} depends on ${deps.join(', ')}: copying it beside a bundle would leave those out`);
  const to = join(outputDir, 'node_modules', name);
  return [`mkdir -p "${to}"`, ...files.map((f) => `cp -R "${join(from, f)}" "${join(to, f)}"`)];
}

export interface LambdaDefaultsProps {
  /** The repository root: entries, package.json, the lock file and node_modules are under it. */
  readonly projectRoot: string;
  readonly vpc: IVpc;
  readonly vpcSubnets: SubnetSelection;
  readonly securityGroup: ISecurityGroup;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** Encrypts every function's log group. */
  readonly logKey?: IKey | undefined;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface SluiceFunctionProps {
  /** The entry file, relative to the project root (a one-line `*.handler.ts`). */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Settings by AWS_ENV key; the variable names come from AWS_ENV. */
  readonly environment?: Partial<Record<AwsSetting, string>>;
  /** Packages copied beside the bundle from node_modules instead of bundled (COPIED_PACKAGES, e.g. parquet-wasm). */
  readonly copiedPackages?: readonly string[];
  /** Files copied into the bundle: absolute source path → name beside index.mjs (the alert rules file). */
  readonly copyFiles?: Readonly<Record<string, string>>;
}

export class LambdaDefaults extends Construct {
  readonly functions: NodejsFunction[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: LambdaDefaultsProps,
  ) {
    super(scope, id);
  }

  /** A NodejsFunction with Sluice's defaults, created in `scope` (the subsystem construct that owns it). */
  createFunction(scope: Construct, id: string, fn: SluiceFunctionProps): NodejsFunction {
    const { projectRoot } = this.props;
    // A function that reaches parquet-wasm must list it here: bundled, it fails at cold start (ENOENT on
    // its .wasm). test/infra/bundles.test.ts loads every bundle and checks no other bundle contains it.
    const copiedPackages = [...(fn.copiedPackages ?? [])];
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: this.props.logRetention,
      removalPolicy: this.props.logRemovalPolicy,
      ...(this.props.logKey ? { encryptionKey: this.props.logKey } : {}),
    });
    // Its own role instead of the AWS managed policies: logs go only to the function's own log group.
    const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `Sluice ${id}` });
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(new PolicyStatement({ actions: VPC_ENI_ACTIONS, resources: ['*'] }));
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'Only the network-interface actions Lambda needs to run a function in a VPC (those of AWSLambdaVPCAccessExecutionRole); EC2 does not scope the Describe actions to resources.',
    );
    const environment: Record<string, string> = { [AWS_ENV.logLevel]: this.props.logLevel ?? 'info' };
    for (const [key, value] of Object.entries(fn.environment ?? {})) {
      environment[AWS_ENV[key as AwsSetting]] = value;
    }
    const f = new NodejsFunction(scope, id, {
      entry: join(projectRoot, fn.entry),
      handler: 'handler',
      description: fn.description,
      runtime: LAMBDA_RUNTIME,
      role,
      architecture: Architecture.ARM_64,
      memorySize: fn.memorySize,
      timeout: fn.timeout,
      environment,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      vpc: this.props.vpc,
      vpcSubnets: this.props.vpcSubnets,
      securityGroups: [this.props.securityGroup],
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        keepNames: true,
        sourceMap: false,
        // The SDK version in package-lock.json, not whichever the runtime happens to carry.
        bundleAwsSDK: true,
        forceDockerBundling: false,
        // Left out of the bundle and copied beside it after bundling (not nodeModules: that runs `npm ci`
        // in the asset folder, which needs the registry and ships the lock file).
        externalModules: copiedPackages.length > 0 ? copiedPackages : undefined,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_in: string, outputDir: string) => [
            ...copiedPackages.flatMap((name) => copyPackageCommands(projectRoot, name, outputDir)),
            ...Object.entries(fn.copyFiles ?? {}).map(([from, to]) => `cp "${from}" "${join(outputDir, to)}"`),
          ],
        },
      },
    });
    this.functions.push(f);
    return f;
  }
}
