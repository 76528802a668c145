/**
 * cdk-nag acknowledgements, made by the construct that causes the finding and always with a reason. The app
 * and test/infra/nag.test.ts run the AwsSolutions pack; any finding not acknowledged here fails synth.
 */
import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The IAM5 finding for objects under `pattern` in a bucket of this stack, e.g. `events/*`. */
export function bucketObjectsFinding(bucket: IBucket, pattern: string): string {
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnElement);
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${pattern}]`;
}

/** KMS grants (grantEncrypt…, and the grants of queues, buckets and secrets under the key) name action families. */
export function acknowledgeKeyGrant(scope: IConstruct, key: IKey, actions: readonly ('GenerateDataKey*' | 'ReEncrypt*')[]): void {
  for (const action of actions) {
    acknowledge(
      scope,
      `AwsSolutions-IAM5[Action::kms:${action}]`,
      `Written by CDK's grant methods for the one Sluice key (${key.node.path}) as the resource: kms:${action} is that action's family (e.g. GenerateDataKey and GenerateDataKeyWithoutPlaintext), not a wildcard over keys.`,
    );
  }
}
