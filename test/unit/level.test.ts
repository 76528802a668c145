import { describe, expect, it } from 'vitest';
import { LEVEL_SEVERITY, levelFromSeverityNumber, parseLevel } from '../../shared/domain/normalize/level.js';

describe('LEVEL_SEVERITY', () => {
  it('starts each level at its OpenTelemetry severity number', () => {
    expect(LEVEL_SEVERITY).toEqual({ trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 });
  });
});

describe('parseLevel: words', () => {
  it.each([
    ['trace', 'trace', 1],
    ['trc', 'trace', 1],
    ['finest', 'trace', 1],
    ['finer', 'trace', 1],
    ['verbose', 'trace', 1],
    ['t', 'trace', 1],
    ['debug', 'debug', 5],
    ['dbg', 'debug', 5],
    ['fine', 'debug', 5],
    ['d', 'debug', 5],
    ['info', 'info', 9],
    ['information', 'info', 9],
    ['informational', 'info', 9],
    ['inf', 'info', 9],
    ['i', 'info', 9],
    ['notice', 'info', 9],
    ['log', 'info', 9],
    ['warn', 'warn', 13],
    ['warning', 'warn', 13],
    ['wrn', 'warn', 13],
    ['w', 'warn', 13],
    ['error', 'error', 17],
    ['err', 'error', 17],
    ['e', 'error', 17],
    ['severe', 'error', 17],
    ['eror', 'error', 17],
    ['fatal', 'fatal', 21],
    ['crit', 'fatal', 21],
    ['critical', 'fatal', 21],
    ['alert', 'fatal', 21],
    ['emerg', 'fatal', 21],
    ['emergency', 'fatal', 21],
    ['panic', 'fatal', 21],
    ['f', 'fatal', 21],
  ])('%s -> %s (%i)', (word, level, severity) => {
    expect(parseLevel(word)).toEqual({ level, severity });
  });

  it('ignores case and surrounding whitespace', () => {
    expect(parseLevel('WARN')).toEqual({ level: 'warn', severity: 13 });
    expect(parseLevel('  Error\t')).toEqual({ level: 'error', severity: 17 });
    expect(parseLevel('CRITICAL')).toEqual({ level: 'fatal', severity: 21 });
  });

  it.each(['', '   ', 'chatty', 'warnings', 'info!', 'in fo', '-1', '1.5', 'x'])('rejects %j', (word) => {
    expect(parseLevel(word)).toBeUndefined();
  });
});

describe('parseLevel: numbers', () => {
  it.each([
    [0, 'fatal', 24],
    [1, 'fatal', 23],
    [2, 'fatal', 21],
    [3, 'error', 17],
    [4, 'warn', 13],
    [5, 'info', 10],
    [6, 'info', 9],
    [7, 'debug', 5],
  ])('syslog severity %i -> %s (%i)', (n, level, severity) => {
    expect(parseLevel(n)).toEqual({ level, severity });
  });

  it.each([
    [10, 'trace', 1],
    [20, 'debug', 5],
    [30, 'info', 9],
    [40, 'warn', 13],
    [50, 'error', 17],
    [60, 'fatal', 21],
  ])('pino/bunyan level %i -> %s (%i)', (n, level, severity) => {
    expect(parseLevel(n)).toEqual({ level, severity });
  });

  it('reads digit strings the same way as numbers', () => {
    expect(parseLevel('3')).toEqual({ level: 'error', severity: 17 });
    expect(parseLevel('30')).toEqual({ level: 'info', severity: 9 });
    expect(parseLevel(' 50 ')).toEqual({ level: 'error', severity: 17 });
    expect(parseLevel('0')).toEqual({ level: 'fatal', severity: 24 });
  });

  it.each([8, 9, 15, 25, 65, 70, 100, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects %d', (n) => {
    expect(parseLevel(n)).toBeUndefined();
  });

  it.each(['8', '70', '15'])('rejects digit string %j', (s) => {
    expect(parseLevel(s)).toBeUndefined();
  });
});

describe('parseLevel: other types', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['true', true],
    ['an object', { level: 'info' }],
    ['an array', ['info']],
  ])('rejects %s', (_label, value) => {
    expect(parseLevel(value)).toBeUndefined();
  });
});

describe('levelFromSeverityNumber', () => {
  it.each([
    [1, 'trace'],
    [4, 'trace'],
    [5, 'debug'],
    [8, 'debug'],
    [9, 'info'],
    [12, 'info'],
    [13, 'warn'],
    [16, 'warn'],
    [17, 'error'],
    [20, 'error'],
    [21, 'fatal'],
    [24, 'fatal'],
  ])('%i -> %s, keeping the number as the severity', (n, level) => {
    expect(levelFromSeverityNumber(n)).toEqual({ level, severity: n });
  });

  it.each([0, 25, -3, 1.5, Number.NaN])('rejects %d', (n) => {
    expect(levelFromSeverityNumber(n)).toBeUndefined();
  });
});

describe('parseLevel and inherited object properties', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'Constructor'])('does not resolve %s through the prototype', (word) => {
    expect(parseLevel(word)).toBeUndefined();
  });
});
