/**
 * The table over the storage layout and the engine that reads it: a Glue database with the `events` table
 * (Parquet, columns and partition projection derived from the one schema in shared/domain) and an Athena
 * workgroup that enforces its own settings: results encrypted with the key, a per-query scan cutoff.
 */
import { Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AWS_ENV } from '../../shared/config/env.js';
import { GLUE_TABLE_NAME, glueColumns, gluePartitionKeys, partitionProjectionParameters } from '../../shared/domain/glue-schema.js';
import { EVENTS_PREFIX } from '../../shared/domain/storage-layout.js';
import { ATHENA_RESULTS_PREFIX } from './storage.js';

export const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
export const PARQUET_INPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
export const PARQUET_OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';

/** What the query Lambda may do in Athena: run, watch, page through and stop its own workgroup's queries. */
export const ATHENA_QUERY_ACTIONS = [
  'athena:StartQueryExecution',
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'athena:StopQueryExecution',
  'athena:GetWorkGroup',
];
/** What Athena needs from Glue on the caller's behalf to plan a query over the table. */
export const GLUE_READ_ACTIONS = ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'];

export interface CatalogProps {
  readonly bucket: IBucket;
  readonly key: IKey;
  /** Glue database name: lower case letters, digits and '_'. */
  readonly databaseName: string;
  readonly workGroupName: string;
  readonly scanCutoffBytes: number;
  /** retain keeps the workgroup's query history on `cdk destroy` (it fails if there are saved queries). */
  readonly removalPolicy: 'retain' | 'destroy';
}

export class Catalog extends Construct {
  readonly databaseName: string;
  readonly tableName = GLUE_TABLE_NAME;
  readonly workGroupName: string;
  readonly database: CfnDatabase;
  readonly table: CfnTable;
  readonly workGroup: CfnWorkGroup;

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const bucketUrl = `s3://${props.bucket.bucketName}/`;
    this.databaseName = props.databaseName;
    this.workGroupName = props.workGroupName;

    this.database = new CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: props.databaseName, description: 'Sluice log events' },
    });

    this.table = new CfnTable(this, 'EventsTable', {
      catalogId: stack.account,
      databaseName: props.databaseName,
      tableInput: {
        name: GLUE_TABLE_NAME,
        description: 'Sluice events: Parquet (ZSTD) under events/tenant=/dt=/hour=, read through partition projection',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'parquet',
          'parquet.compression': 'ZSTD',
          ...partitionProjectionParameters(bucketUrl),
        },
        partitionKeys: gluePartitionKeys(),
        storageDescriptor: {
          columns: glueColumns(),
          location: `${bucketUrl}${EVENTS_PREFIX}`,
          inputFormat: PARQUET_INPUT_FORMAT,
          outputFormat: PARQUET_OUTPUT_FORMAT,
          serdeInfo: { serializationLibrary: PARQUET_SERDE, parameters: { 'serialization.format': '1' } },
        },
      },
    });
    this.table.addResourceDependency(this.database);

    this.workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName,
      description: 'Sluice queries: results encrypted with the Sluice key, scan cutoff per query',
      state: 'ENABLED',
      // Lets `cdk destroy` remove the workgroup together with its query history.
      recursiveDeleteOption: props.removalPolicy === 'destroy',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.scanCutoffBytes,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `${bucketUrl}${ATHENA_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
          expectedBucketOwner: stack.account,
        },
      },
    });
  }

  get workGroupArn(): string {
    return Stack.of(this).formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroupName });
  }

  /** Glue ARNs of the catalog, the database and the events table (what Athena checks for the caller). */
  get glueArns(): string[] {
    const stack = Stack.of(this);
    return [
      stack.formatArn({ service: 'glue', resource: 'catalog' }),
      stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
      stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${this.tableName}` }),
    ];
  }

  /** Runs queries in the workgroup over the table, and tells the Lambda their names. (S3 and KMS: Storage.) */
  grantQuery(fn: LambdaFunction): void {
    fn.addToRolePolicy(new PolicyStatement({ actions: ATHENA_QUERY_ACTIONS, resources: [this.workGroupArn] }));
    fn.addToRolePolicy(new PolicyStatement({ actions: GLUE_READ_ACTIONS, resources: this.glueArns }));
    fn.addEnvironment(AWS_ENV.workgroup, this.workGroupName);
    fn.addEnvironment(AWS_ENV.database, this.databaseName);
    fn.addEnvironment(AWS_ENV.table, this.tableName);
  }
}
