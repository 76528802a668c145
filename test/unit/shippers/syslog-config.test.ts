import { describe, expect, it } from 'vitest';
import { ConfigError, readLocalConfig } from '../../../shared/config/env.js';

describe('syslog configuration', () => {
  it('is off unless SLUICE_SYSLOG_PORT is set; 0 is allowed (free ports)', () => {
    expect(readLocalConfig({}).syslogPort).toBeUndefined();
    expect(readLocalConfig({ SLUICE_SYSLOG_PORT: '5514' }).syslogPort).toBe(5514);
    expect(readLocalConfig({ SLUICE_SYSLOG_PORT: '0' }).syslogPort).toBe(0);
    expect(readLocalConfig({ SLUICE_SYSLOG_PORT: ' ' }).syslogPort).toBeUndefined();
  });

  it.each([
    ['SLUICE_SYSLOG_PORT', '70000'],
    ['SLUICE_SYSLOG_PORT', 'syslog'],
    ['SLUICE_SYSLOG_TENANT', 'Acme Corp'],
    ['SLUICE_SYSLOG_TENANT', '../x'],
  ])('rejects %s=%j naming the variable', (name, value) => {
    expect(() => readLocalConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => readLocalConfig({ [name]: value })).toThrow(name);
  });

  it('reads the tenant syslog messages belong to when keys are configured', () => {
    expect(readLocalConfig({ SLUICE_SYSLOG_TENANT: 'acme' }).syslogTenant).toBe('acme');
  });
});
