/**
 * The HTTPS API: an API Gateway HTTP API with a route for every entry of ROUTES (shared/domain/routes.ts, the
 * same table the local server uses), each behind a Lambda authorizer that resolves `Bearer`/`Splunk`/…
 * keys against SHA-256 hashes kept in a Secrets Manager secret. The default stage throttles and writes
 * JSON access logs.
 */
import { Duration, SecretValue, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { AWS_ENV } from '../../shared/config/env.js';
import { ROUTES, type RouteTarget } from '../../shared/domain/routes.js';
import type { LambdaDefaults } from './lambda-defaults.js';
import { acknowledge } from './nag.js';

export const AUTHORIZER_ENTRY = 'lambdas/api/authorizer.handler.ts';

/** The keys secret as created: no keys yet (README: "Create an API key"). CloudFormation sets it only once. */
export const EMPTY_KEYS_SECRET = JSON.stringify({ keys: [] });

/** API Gateway reads the credential from here (and answers 401 without calling the authorizer if it is absent). */
export const AUTHORIZER_IDENTITY_SOURCE = '$request.header.Authorization';

export interface ApiProps {
  readonly lambdas: LambdaDefaults;
  readonly key: IKey;
  readonly targets: Record<RouteTarget, IFunction>;
  readonly throttleRate: number;
  readonly throttleBurst: number;
  readonly authorizerCacheSeconds: number;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** Encrypts the access logs. */
  readonly logKey: IKey;
}

export class Api extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly authorizerFunction: NodejsFunction;
  readonly keysSecret: Secret;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);

    this.keysSecret = new Secret(this, 'ApiKeys', {
      description: 'Sluice API keys: SHA-256 hashes with tenant and scopes (npx sluice keys create, or npx tsx cli/create-api-key.ts)',
      encryptionKey: props.key,
      // Not secret: an empty list. Keys are added outside CloudFormation and never pass through the template.
      secretStringValue: SecretValue.unsafePlainText(EMPTY_KEYS_SECRET),
    });
    acknowledge(
      this.keysSecret,
      'AwsSolutions-SMG4',
      'Holds SHA-256 hashes of API keys that shippers are configured with; keys are rotated per tenant by issuing a new key and removing the old hash (README: Create an API key), which a scheduled rotation Lambda cannot do without breaking every shipper.',
    );

    this.authorizerFunction = props.lambdas.createFunction(this, 'AuthorizerFunction', {
      entry: AUTHORIZER_ENTRY,
      description: 'Sluice API key authorizer (simple responses)',
      memorySize: 256,
      timeout: Duration.seconds(10),
    });
    this.keysSecret.grantRead(this.authorizerFunction);
    this.authorizerFunction.addEnvironment(AWS_ENV.keysSecretArn, this.keysSecret.secretArn);

    const authorizer = new HttpLambdaAuthorizer('ApiKeyAuthorizer', this.authorizerFunction, {
      authorizerName: 'sluice-api-key',
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: [AUTHORIZER_IDENTITY_SOURCE],
      resultsCacheTtl: Duration.seconds(props.authorizerCacheSeconds),
    });

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Sluice log ingest and query API',
      createDefaultStage: false,
    });

    const integrations: Record<RouteTarget, HttpLambdaIntegration> = {
      ingest: new HttpLambdaIntegration('IngestIntegration', props.targets.ingest),
      query: new HttpLambdaIntegration('QueryIntegration', props.targets.query),
    };
    for (const route of ROUTES) {
      this.httpApi.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration: integrations[route.target], authorizer });
    }

    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: props.logRemovalPolicy, encryptionKey: props.logKey });
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRate, burstLimit: props.throttleBurst },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            tenant: '$context.authorizer.tenant',
            keyId: '$context.authorizer.keyId',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
    });
  }

  /** https://…/ (the $default stage serves at the root). */
  get url(): string {
    return this.stage.url;
  }
}
