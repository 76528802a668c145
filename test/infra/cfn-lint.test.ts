/**
 * cfn-lint (AWS's CloudFormation linter, installed with pip on the project's machines and in CI) over the
 * synthesized template of each kind of deployment: a new VPC; alert rules with Slack and email (the NAT
 * gateway, the alert Lambda, the writer's channels); an existing VPC with removalPolicy=destroy (the
 * custom resources that empty the buckets). No errors, and no warnings either: every rule is on, and a
 * warning fails the test like an error does, unless ACCEPTED describes that exact finding with a reason.
 * Informational findings are printed, not failed on.
 */
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { synthSluice } from '../helpers/infra.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);

const hasCfnLint = spawnSync('cfn-lint', ['--version'], { stdio: 'ignore', timeout: 60_000 }).status === 0;

/** Warnings accepted, each matched narrowly (rule and message) and with why it is left as it is. */
const ACCEPTED: { rule: string; message: RegExp; reason: string }[] = [
  {
    rule: 'W3005',
    // Only a function's DependsOn on its own role (…Function → …FunctionRole…, CDK's providers → their …ServiceRole…).
    message: /^'(\w+?)(?:Function|Provider)?(?:Service)?Role[0-9A-F]{8}' dependency already enforced by a 'GetAtt' at 'Resources\/\1\w*\/Properties\/Role'$/,
    reason:
      'aws-cdk-lib writes a DependsOn on the role into every Lambda function it generates (so the role exists before the function), which the GetAtt of the role already implies: redundant, harmless to CloudFormation, and written by CDK rather than by Sluice.',
  },
];

const VARIANTS: Record<string, Record<string, unknown>> = {
  'a new VPC (defaults)': {},
  'alert rules, Slack and email': { alertsFile: 'test/fixtures/alerts/rules.yaml', slackWebhookSecretName: 'sluice/slack', alertEmails: 'oncall@example.com' },
  'an existing VPC, removalPolicy=destroy': {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: 'eu-west-1a,eu-west-1b',
    privateSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2',
    privateSubnetRouteTableIds: 'rtb-0aaaaaaaaaaaaaaa1,rtb-0bbbbbbbbbbbbbbb2',
    removalPolicy: 'destroy',
  },
};

interface Finding {
  Level: 'Error' | 'Warning' | 'Informational';
  Rule: { Id: string; Description: string };
  Message: string;
  Location: { Path: (string | number)[] };
}

/** cfn-lint's findings for a template file; it exits non-zero when it finds something, so its JSON is read either way. */
async function cfnLint(template: string): Promise<Finding[]> {
  const out = await run('cfn-lint', ['--format', 'json', '--', template], { maxBuffer: 64 * 1024 * 1024 }).catch(
    (err: { stdout?: string; stderr?: string; code?: number }) => {
      if (typeof err.stdout === 'string' && err.stdout.trim().startsWith('[')) return { stdout: err.stdout };
      throw new Error(`cfn-lint failed (${err.code}): ${err.stderr ?? ''}`);
    },
  );
  return JSON.parse(out.stdout || '[]') as Finding[];
}

describe.skipIf(!hasCfnLint)('cfn-lint on the synthesized templates', () => {
  it('reports an error in a bad template (the check itself works)', async () => {
    const { dir, cleanup } = await tempDir('sluice-cfn-lint-');
    try {
      const template = join(dir, 'bad.template.json');
      writeFileSync(
        template,
        JSON.stringify({
          Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: { Runtime: 'nodejs99.x', Handler: 'index.handler', Code: { ZipFile: 'x' } } } },
        }),
      );
      const findings = await cfnLint(template);
      expect(findings.some((f) => f.Level === 'Error')).toBe(true);
    } finally {
      await cleanup();
    }
  }, 120_000);

  for (const [name, context] of Object.entries(VARIANTS)) {
    it(`${name}: no errors, no warnings`, async () => {
      const { dir, cleanup } = await tempDir('sluice-cfn-lint-');
      try {
        const { config } = synthSluice({ context, outdir: dir });
        const template = join(dir, `${config.stackName}.template.json`);
        const all = await cfnLint(template);
        const show = (f: Finding) => `${f.Level} ${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`;
        const accepted = all.filter((f) => f.Level === 'Warning' && ACCEPTED.some((a) => a.rule === f.Rule.Id && a.message.test(f.Message)));
        const info = all.filter((f) => f.Level === 'Informational');
        console.info(
          `cfn-lint ${name}: ${all.filter((f) => f.Level === 'Error').length} errors, ${all.filter((f) => f.Level === 'Warning').length} warnings ` +
            `(${accepted.length} accepted: ${[...new Set(accepted.map((f) => f.Rule.Id))].join(', ') || 'none'}), ${info.length} informational` +
            info.map((f) => `\n  ${show(f)}`).join(''),
        );
        expect(all.filter((f) => f.Level !== 'Informational' && !accepted.includes(f)).map(show)).toEqual([]);
      } finally {
        await cleanup();
      }
    }, 180_000);
  }
});
