/**
 * The network variants: an existing VPC given by context (no lookup, so synth stays offline), the same
 * without endpoints (the VPC has its own), and a created VPC with egress for Slack. Each is also checked
 * by cdk-nag (synth throws on an unacknowledged finding).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { only, resourcesOf, sluiceFunctions, synthSluice } from '../helpers/infra.js';

const EXISTING = {
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: 'eu-west-1a,eu-west-1b',
  privateSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2',
  privateSubnetRouteTableIds: 'rtb-0aaaaaaaaaaaaaaa1,rtb-0bbbbbbbbbbbbbbb2',
};

let existing: ReturnType<typeof synthSluice>;
let existingNoEndpoints: ReturnType<typeof synthSluice>;
let slack: ReturnType<typeof synthSluice>;

beforeAll(() => {
  existing = synthSluice({ nag: true, context: EXISTING });
  existingNoEndpoints = synthSluice({ nag: true, context: { ...EXISTING, privateSubnetRouteTableIds: '', createVpcEndpoints: 'false' } });
  slack = synthSluice({ nag: true, context: { slackWebhookSecretName: 'sluice/slack-webhook' } });
});

describe('an existing VPC (-c vpcId=… with its private subnets in context)', () => {
  it('creates no VPC and places every Lambda in the given subnets', () => {
    existing.template.resourceCountIs('AWS::EC2::VPC', 0);
    existing.template.resourceCountIs('AWS::EC2::Subnet', 0);
    existing.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const fns = Object.values(sluiceFunctions(existing.template));
    expect(fns).toHaveLength(5);
    for (const fn of fns) expect(fn.Properties.VpcConfig.SubnetIds).toEqual(['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2']);
    existing.template.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: 'Sluice Lambdas', VpcId: EXISTING.vpcId });
  });

  it('adds the S3 gateway endpoint to the given route tables and the interface endpoints to the given subnets', () => {
    const endpoints = Object.values(resourcesOf(existing.template, 'AWS::EC2::VPCEndpoint')).map((r) => r.Properties);
    expect(endpoints).toHaveLength(10);
    for (const e of endpoints) expect(e.VpcId).toBe(EXISTING.vpcId);
    const gateways = endpoints.filter((e) => e.VpcEndpointType === 'Gateway');
    expect(gateways).toHaveLength(2);
    for (const g of gateways) expect(g.RouteTableIds).toEqual(['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2']);
    for (const e of endpoints.filter((x) => x.VpcEndpointType === 'Interface'))
      expect(e.SubnetIds).toEqual(['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2']);
  });

  it('leaves the endpoints out with createVpcEndpoints=false (the VPC already has them), and lets the Lambdas send HTTPS only, to any address', () => {
    existingNoEndpoints.template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    existingNoEndpoints.template.resourceCountIs('Custom::AWS', 0);
    expect(only(existingNoEndpoints.template, 'AWS::EC2::SecurityGroup', 'NetworkLambdaSecurityGroup').Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    existingNoEndpoints.template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    existingNoEndpoints.template.resourceCountIs('AWS::Lambda::Function', 5);
  });

  it('synthesizes without any lookup: nothing was asked of cdk.context.json', () => {
    for (const s of [existing, existingNoEndpoints]) {
      const missing = s.assembly.manifest.missing ?? [];
      expect(missing).toEqual([]);
    }
  });
});

describe('a Slack channel (slackWebhookSecretName)', () => {
  it('adds internet egress: public subnets with one NAT gateway, Lambdas in private subnets with egress', () => {
    slack.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    slack.template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    slack.template.resourceCountIs('AWS::EC2::Subnet', 4);
    const privateSubnets = Object.entries(resourcesOf(slack.template, 'AWS::EC2::Subnet'))
      .filter(([, r]) => r.Properties.MapPublicIpOnLaunch === false)
      .map(([id]) => id)
      .sort();
    expect(privateSubnets).toHaveLength(2);
    for (const fn of Object.values(sluiceFunctions(slack.template))) {
      expect(fn.Properties.VpcConfig.SubnetIds.map((r: { Ref: string }) => r.Ref).sort()).toEqual(privateSubnets);
    }
    // The endpoints stay: AWS traffic does not go through the NAT gateway.
    slack.template.resourceCountIs('AWS::EC2::VPCEndpoint', 10);
    // Slack's webhook needs the internet: HTTPS to anywhere, beside the endpoint rules; nothing but 443.
    const egress = only(slack.template, 'AWS::EC2::SecurityGroup', 'NetworkLambdaSecurityGroup').Properties.SecurityGroupEgress as Record<string, unknown>[];
    expect(egress).toHaveLength(3);
    expect(egress).toContainEqual(expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }));
    for (const r of egress) expect(r).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
  });

  it('refers to the webhook secret by name, and the URL is nowhere in the template', () => {
    expect(slack.template.toJSON().Outputs.SlackWebhookSecretName.Value).toBe('sluice/slack-webhook');
    expect(JSON.stringify(slack.template.toJSON())).not.toMatch(/https:\/\/hooks\.slack\.com/);
    // The topic is encrypted with the stack's own key (a reference to it, not an AWS-managed alias).
    expect(JSON.stringify(only(slack.template, 'AWS::SNS::Topic').Properties.KmsMasterKeyId)).toMatch(/"Fn::GetAtt":\["[A-Za-z0-9]+","Arn"\]/);
  });
});
