import type { Logger } from '../../ports/logger.js';

const ORDER = { debug: 0, info: 1, warn: 2, error: 3 } as const;
export type LogLevelName = keyof typeof ORDER;

/** One line per entry on stderr: time, level, message, then the fields as JSON. */
export class ConsoleLogger implements Logger {
  constructor(private readonly min: LogLevelName = 'info') {}

  private write(level: LogLevelName, message: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.min]) return;
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${extra}\n`);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }
}
