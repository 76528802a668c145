/**
 * Where the Lambdas run: the private subnets of an existing VPC (`-c vpcId=…` with its subnets given in
 * context, so synth needs no lookup) or a small VPC of its own. AWS services are reached through a gateway
 * endpoint (S3) and interface endpoints, so no data leaves the VPC; a NAT gateway exists only when a Slack
 * channel needs the internet.
 */
import {
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
import type { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';

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
  /** Attached to every Lambda; the endpoints accept HTTPS from it only. */
  readonly lambdaSecurityGroup: ISecurityGroup;

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

    this.lambdaSecurityGroup = new SecurityGroup(this, 'LambdaSecurityGroup', {
      vpc: this.vpc,
      description: 'Sluice Lambdas',
      // Isolated subnets have no route out; what leaves is bounded by the endpoints (and NAT, with Slack).
      allowAllOutbound: true,
    });

    if (props.createEndpoints) {
      this.vpc.addGatewayEndpoint('S3', { service: GatewayVpcEndpointAwsService.S3, subnets: [this.lambdaSubnets] });
      // The per-tenant rate limits (one conditional write per API request).
      this.vpc.addGatewayEndpoint('DynamoDb', { service: GatewayVpcEndpointAwsService.DYNAMODB, subnets: [this.lambdaSubnets] });
      const endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Sluice interface endpoints: HTTPS from the Sluice Lambdas',
        allowAllOutbound: false,
      });
      endpointSecurityGroup.addIngressRule(this.lambdaSecurityGroup, Port.tcp(443), 'HTTPS from the Sluice Lambdas');
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
  }
}
