/**
 * cdk-nag's AwsSolutions checks, as the app runs them: zero unacknowledged findings, and every
 * acknowledgement carries a written reason. (test/infra/network.test.ts runs them on the network variants.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { synthSluice } from '../helpers/infra.js';

/** Every AwsSolutions acknowledgement in the app: construct path, rule id, reason. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^Annotation::/, ''), reason }))
      .filter((a) => a.id.startsWith('AwsSolutions-')),
  );
}

/** The acknowledged rules, each with the constructs it is acknowledged on (path without the stack name). */
const EXPECTED = {
  'AwsSolutions-SMG4': ['Api/ApiKeys', 'Query/TokenSecret'],
  'AwsSolutions-DDB3': ['RateLimits/Table'],
  'AwsSolutions-SQS3': ['Schedules/DeadLetterQueue'],
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]': ['AWS679f53fac002430cb0da5b7982bd2287'],
  'AwsSolutions-IAM5[Resource::*]': [
    'Api/AuthorizerFunctionRole',
    'Compaction/CompactorFunctionRole',
    'Ingest/IngestFunctionRole',
    'Ingest/WriterFunctionRole',
    'Network/DynamoDbPrefixList',
    'Network/S3PrefixList',
    'Query/QueryFunctionRole',
  ],
  'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]': [
    'Compaction/CompactorFunctionRole',
    'Ingest/IngestFunctionRole',
    'Ingest/WriterFunctionRole',
    'Query/QueryFunctionRole',
  ],
  'AwsSolutions-IAM5[Action::kms:ReEncrypt*]': [
    'Compaction/CompactorFunctionRole',
    'Ingest/IngestFunctionRole',
    'Ingest/WriterFunctionRole',
    'Query/QueryFunctionRole',
  ],
  'AwsSolutions-IAM5[Action::s3:GetObject*]': ['Compaction/CompactorFunctionRole', 'Ingest/WriterFunctionRole', 'Query/QueryFunctionRole'],
  'AwsSolutions-IAM5[Action::s3:GetBucket*]': ['Compaction/CompactorFunctionRole', 'Ingest/WriterFunctionRole', 'Query/QueryFunctionRole'],
  'AwsSolutions-IAM5[Action::s3:List*]': ['Compaction/CompactorFunctionRole', 'Ingest/WriterFunctionRole', 'Query/QueryFunctionRole'],
  'AwsSolutions-IAM5[Action::s3:Abort*]': ['Compaction/CompactorFunctionRole', 'Ingest/WriterFunctionRole', 'Query/QueryFunctionRole'],
  'AwsSolutions-IAM5[Action::s3:DeleteObject*]': ['Compaction/CompactorFunctionRole', 'Ingest/WriterFunctionRole'],
  'AwsSolutions-IAM5[Resource::<StorageEvents1AF1C090.Arn>/events/*]': [
    'Compaction/CompactorFunctionRole',
    'Ingest/WriterFunctionRole',
    'Query/QueryFunctionRole',
  ],
  'AwsSolutions-IAM5[Resource::<StorageEvents1AF1C090.Arn>/receipts/*]': ['Ingest/WriterFunctionRole', 'Query/QueryFunctionRole'],
  'AwsSolutions-IAM5[Resource::<StorageEvents1AF1C090.Arn>/athena-results/*]': ['Query/QueryFunctionRole'],
};

describe('cdk-nag AwsSolutions', () => {
  it('fails synth on an unacknowledged finding (the check itself works)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'sluice-cdk-out-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'Bad');
      new Bucket(stack, 'Plain');
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      expect(() => app.synth()).toThrow(/AwsSolutions-S1[\s\S]*AwsSolutions-S10|AwsSolutions-S10[\s\S]*AwsSolutions-S1/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('finds nothing unacknowledged in the stack, and each acknowledgement gives its reason', () => {
    // synthSluice with nag: app.synth() throws with the report if any finding is not acknowledged.
    const { app } = synthSluice({ nag: true });
    const acks = acknowledgements(app);
    const byRule: Record<string, string[]> = {};
    for (const a of acks) (byRule[a.id] ??= []).push(a.path.replace(/^Sluice\//, ''));
    for (const paths of Object.values(byRule)) paths.sort();
    expect(byRule).toEqual(EXPECTED);
    for (const a of acks) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(60);
  });

  it('finds nothing unacknowledged with removalPolicy=destroy (buckets emptied by CDK on delete)', () => {
    const { template } = synthSluice({ nag: true, context: { removalPolicy: 'destroy' } });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    for (const b of buckets) expect(b.DeletionPolicy).toBe('Delete');
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete', Properties: { PendingWindowInDays: 7 } });
    template.hasResourceProperties('AWS::Athena::WorkGroup', { RecursiveDeleteOption: true });
  });
});
