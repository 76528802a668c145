/**
 * The Logger port over Powertools for AWS Lambda's Logger: one JSON line per entry in CloudWatch Logs,
 * with the level, the service, the cold-start flag and X-Ray trace id, and our fields as top-level keys.
 */
import { Logger as PowertoolsLoggerImpl } from '@aws-lambda-powertools/logger';
import type { Logger } from '../../ports/logger.js';

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

export class PowertoolsLogger implements Logger {
  readonly powertools: PowertoolsLoggerImpl;

  constructor(opts: { serviceName: string; level: LogLevelName }) {
    this.powertools = new PowertoolsLoggerImpl({ serviceName: opts.serviceName, logLevel: opts.level.toUpperCase() as 'INFO' });
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.powertools.debug(message, fields ?? {});
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.powertools.info(message, fields ?? {});
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.powertools.warn(message, fields ?? {});
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.powertools.error(message, fields ?? {});
  }
}
