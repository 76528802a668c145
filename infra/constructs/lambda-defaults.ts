/**
 * The one place every Sluice Lambda's defaults live: Node.js 22 on arm64, an ESM bundle built by the local
 * esbuild (a devDependency, so no Docker), the VPC placement, a log group with retention, and the Lambda
 * environment named through AWS_ENV (never a hard-coded variable name).
 */
import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
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

export const LAMBDA_RUNTIME = Runtime.NODEJS_22_X;

/** parquet-wasm reads its .wasm file from beside its own JS, so it is installed next to the bundle, not bundled. */
export const PARQUET_WASM = 'parquet-wasm';

export interface LambdaDefaultsProps {
  /** The repository root: entries, package.json and the lock file are under it. */
  readonly projectRoot: string;
  readonly vpc: IVpc;
  readonly vpcSubnets: SubnetSelection;
  readonly securityGroup: ISecurityGroup;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
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
  /** Packages installed beside the bundle instead of bundled (e.g. parquet-wasm). */
  readonly nodeModules?: readonly string[];
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
    const nodeModules = [...(fn.nodeModules ?? [])];
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: this.props.logRetention,
      removalPolicy: this.props.logRemovalPolicy,
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
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        keepNames: true,
        sourceMap: false,
        // The SDK version in package-lock.json, not whichever the runtime happens to carry.
        bundleAwsSDK: true,
        forceDockerBundling: false,
        // Only when there are some: an empty list would still run `npm ci` for nothing.
        nodeModules: nodeModules.length > 0 ? nodeModules : undefined,
        // `npm ci` for nodeModules: from npm's cache, no audit/fund calls, so synth works without a network
        // once `npm ci` has run in the repository.
        environment: {
          npm_config_prefer_offline: 'true',
          npm_config_audit: 'false',
          npm_config_fund: 'false',
          npm_config_update_notifier: 'false',
        },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // parquet-wasm ships three builds of the same 5 MB .wasm; Node loads only node/.
          afterBundling: (_in: string, outputDir: string) => [
            ...(nodeModules.includes(PARQUET_WASM)
              ? [`rm -rf "${join(outputDir, 'node_modules', PARQUET_WASM, 'bundler')}" "${join(outputDir, 'node_modules', PARQUET_WASM, 'esm')}"`]
              : []),
            ...Object.entries(fn.copyFiles ?? {}).map(([from, to]) => `cp "${from}" "${join(outputDir, to)}"`),
          ],
        },
      },
    });
    acknowledge(
      f,
      'AwsSolutions-L1',
      'DESIGN.md fixes the Lambda runtime at Node.js 22: the bundles target node22 and the pinned dependencies are chosen and tested for Node 20/22; moving to a newer runtime is a deliberate upgrade, not a side effect of a cdk-nag release.',
    );
    this.functions.push(f);
    return f;
  }
}
