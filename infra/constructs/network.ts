/**
 * Where the Lambdas run: the private subnets of an existing VPC (`-c vpcId=…` with its subnets given in
 * context, so synth needs no lookup) or a small VPC of its own. AWS services are reached through a gateway
 * endpoint (S3) and interface endpoints, so no data leaves the VPC; a NAT gateway exists only when a Slack
 * channel needs the internet.
 */
import {
  CfnSecurityGroup,
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
  type ISecurityGroup,
  type IVpc,
  type SubnetSelection,
} from 'aws-cdk-lib/aws-ec2';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Stack, type RemovalPolicy } from 'aws-cdk-lib';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/** The interface endpoints the Lambdas (and issue 6's alert Lambda) call, by construct id. */
export const INTERFACE_ENDPOINTS = {
  Sqs: InterfaceVpcEndpointAwsService.SQS,
  Sns: InterfaceVpcEndpointAwsService.SNS,
  Athena: InterfaceVpcEndpointAwsService.ATHENA,
  Glue: InterfaceVpcEndpointAwsService.GLUE,
  SecretsManager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Kms: InterfaceVpcEndpointAwsService.KMS,
  Sts: InterfaceVpcEndpointAwsService.STS,
  Logs: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
} as const;

export interface NetworkProps {
  /** An existing VPC; undefined creates one. */
  readonly existing?: {
    readonly vpcId: string;
    readonly availabilityZones: string[];
    readonly privateSubnetIds: string[];
    readonly privateSubnetRouteTableIds: string[];
  };
  /** Creates the S3 gateway endpoint and the interface endpoints (false when the VPC already has them). */
  readonly createEndpoints: boolean;
  /** Internet egress (a NAT gateway in a created VPC) for the Slack webhook. */
  readonly egress: boolean;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** Encrypts the flow logs. */
  readonly logKey: IKey;
}

export class Network extends Construct {
  readonly vpc: IVpc;
  readonly lambdaSubnets: SubnetSelection;
  /** Attached to every Lambda; the endpoints accept HTTPS from it only, and it sends HTTPS only to them. */
  readonly lambdaSecurityGroup: ISecurityGroup;

  private providerAcknowledged = false;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.existing) {
      const e = props.existing;
      this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: e.vpcId,
        availabilityZones: e.availabilityZones,
        privateSubnetIds: e.privateSubnetIds,
        privateSubnetRouteTableIds: e.privateSubnetRouteTableIds.length > 0 ? e.privateSubnetRouteTableIds : undefined,
      });
      this.lambdaSubnets = { subnets: this.vpc.privateSubnets };
    } else {
      const subnetType = props.egress ? SubnetType.PRIVATE_WITH_EGRESS : SubnetType.PRIVATE_ISOLATED;
      const vpc = new Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: props.egress ? 1 : 0,
        subnetConfiguration: [
          ...(props.egress ? [{ name: 'Public', subnetType: SubnetType.PUBLIC, cidrMask: 24 }] : []),
          { name: 'Private', subnetType, cidrMask: 22 },
        ],
      });
      // ALL, not only REJECT: what the Lambdas did reach is what an investigation needs first.
      vpc.addFlowLog('FlowLog', {
        trafficType: FlowLogTrafficType.ALL,
        destination: FlowLogDestination.toCloudWatchLogs(
          new LogGroup(this, 'FlowLogs', { retention: props.logRetention, removalPolicy: props.logRemovalPolicy, encryptionKey: props.logKey }),
        ),
      });
      this.vpc = vpc;
      this.lambdaSubnets = { subnetType };
    }

    // Egress is HTTPS only, and only to what the Lambdas call: the interface endpoints' security group and
    // the S3 and DynamoDB gateway endpoints' prefix lists; anywhere on 443 only where it cannot be narrower
    // (Slack's webhook through NAT, or an existing VPC whose own endpoints this stack does not know).
    const lambdaSecurityGroup = new SecurityGroup(this, 'LambdaSecurityGroup', {
      vpc: this.vpc,
      description: 'Sluice Lambdas',
      allowAllOutbound: false,
    });
    this.lambdaSecurityGroup = lambdaSecurityGroup;
    const https = { IpProtocol: 'tcp', FromPort: 443, ToPort: 443 };
    const inlineEgress: Record<string, unknown>[] = [];

    if (props.createEndpoints) {
      const gateways = { S3: GatewayVpcEndpointAwsService.S3, DynamoDb: GatewayVpcEndpointAwsService.DYNAMODB };
      for (const [name, service] of Object.entries(gateways)) {
        // DynamoDB: the per-tenant rate limits (one conditional write per API request).
        this.vpc.addGatewayEndpoint(name, { service, subnets: [this.lambdaSubnets] });
        inlineEgress.push({
          ...https,
          DestinationPrefixListId: this.managedPrefixList(name, service.name),
          Description: `HTTPS to ${name} (gateway endpoint)`,
        });
      }
      const endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Sluice interface endpoints: HTTPS from the Sluice Lambdas',
        allowAllOutbound: false,
      });
      lambdaSecurityGroup.connections.allowTo(endpointSecurityGroup, Port.tcp(443), 'HTTPS to the interface endpoints');
      for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
        this.vpc.addInterfaceEndpoint(name, {
          service,
          subnets: this.lambdaSubnets,
          securityGroups: [endpointSecurityGroup],
          open: false,
          privateDnsEnabled: true,
        });
      }
    }
    if (!props.createEndpoints || props.egress) {
      inlineEgress.push({
        ...https,
        CidrIp: '0.0.0.0/0',
        Description: props.egress ? 'HTTPS to the Slack webhook (through NAT) and AWS' : "HTTPS to AWS through the VPC's own endpoints",
      });
    }
    // Written inline, whatever CDK would do with a prefix list known only at deploy time (a separate rule
    // resource): a security group created without inline egress keeps EC2's default allow-all rule.
    (lambdaSecurityGroup.node.defaultChild as CfnSecurityGroup).addPropertyOverride('SecurityGroupEgress', inlineEgress);
  }

  /**
   * The id of an AWS-managed prefix list (com.amazonaws.<region>.s3, …), found at deploy time: CloudFormation
   * has no intrinsic for it, and a synth-time lookup would need credentials. One SDK call by CDK's
   * AwsCustomResource (a Lambda outside the VPC that runs only when the stack is deployed).
   */
  private managedPrefixList(id: string, serviceName: string): string {
    const call = {
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [serviceName] }] },
      physicalResourceId: PhysicalResourceId.of(serviceName),
      outputPaths: ['PrefixLists.0.PrefixListId'],
    };
    const lookup = new AwsCustomResource(this, `${id}PrefixList`, {
      onCreate: call,
      onUpdate: call,
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });
    acknowledge(
      lookup,
      'AwsSolutions-IAM5[Resource::*]',
      'ec2:DescribeManagedPrefixLists only, which EC2 does not scope to resources; it finds the id of the AWS-managed prefix list the Lambda security group allows HTTPS to.',
    );
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
    if (provider && !this.providerAcknowledged) {
      this.providerAcknowledged = true;
      acknowledge(
        provider,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        "CDK's AwsCustomResource provider (runs only during deployment, to look up the S3 and DynamoDB prefix list ids): the managed policy lets it write its own logs.",
      );
    }
    return lookup.getResponseField('PrefixLists.0.PrefixListId');
  }
}

/** The id CDK gives AwsCustomResource's singleton provider function in the stack. */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';
