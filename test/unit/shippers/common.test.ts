import { describe, expect, it } from 'vitest';
import { AttributeBag, boundedJson, epochNanosToMicros, epochSecondsToMicros, recordFromJsonValue } from '../../../shared/domain/shippers/common.js';

describe('epoch conversions', () => {
  it.each([
    [1700000000, 1700000000000000],
    [1700000000.123456, 1700000000123456],
    [1700000000.1, 1700000000100000],
    ['1700000000.123456789', 1700000000123456],
    [' 1700000000 ', 1700000000000000],
    ['1700000000.5', 1700000000500000],
  ])('seconds %j -> %d µs', (input, micros) => {
    expect(epochSecondsToMicros(input)).toBe(micros);
  });

  it.each([[0], [-1], ['abc'], ['1e9'], [Number.NaN], [null], ['99999999999'], ['1700000000000']])('seconds %j -> undefined', (input) => {
    expect(epochSecondsToMicros(input)).toBeUndefined();
  });

  it('keeps every microsecond of nanosecond strings and truncates the rest', () => {
    expect(epochNanosToMicros('1700000000123456789')).toBe(1700000000123456);
    expect(epochNanosToMicros('1700000000123456999')).toBe(1700000000123456);
    expect(epochNanosToMicros(1700000000123456000)).toBe(1700000000123456);
    for (const bad of ['0', '', '-5', '1.5e18', 'x', '99999999999999999999', {}]) expect(epochNanosToMicros(bad)).toBeUndefined();
  });
});

describe('AttributeBag', () => {
  it('flattens objects to dotted keys, stringifies arrays and scalars', () => {
    const bag = new AttributeBag();
    bag.setAll({ a: { b: { c: 1 } }, list: [1, 'x'], t: true, n: null, u: undefined });
    expect(bag.done()).toEqual({ 'a.b.c': '1', list: '[1,"x"]', t: 'true', n: 'null' });
    expect(new AttributeBag().done()).toBeUndefined();
  });

  it('applies the event limits and flags what it cut', () => {
    const bag = new AttributeBag();
    for (let i = 0; i < 600; i++) bag.set(`k${i}`, i);
    bag.set('k0', 'replaced'); // an existing key is not a new attribute
    bag.set('k599', 'x');
    bag.set('k1', 'v'.repeat(10_000));
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const deepBag = new AttributeBag();
    deepBag.set('root', deep);
    const out = bag.done()!;
    expect(Object.keys(out)).toHaveLength(501);
    expect(out['k0']).toBe('replaced');
    expect(out['k1']).toHaveLength(8192);
    expect(out['sluice.truncated']).toBe('attribute_value,attributes');
    expect(deepBag.done()!['sluice.truncated']).toBe('depth');
  });

  it('treats __proto__ as an ordinary key', () => {
    const bag = new AttributeBag();
    bag.setAll(JSON.parse('{"__proto__":{"polluted":"yes"}}') as Record<string, unknown>);
    expect(bag.done()).toEqual({ '__proto__.polluted': 'yes' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('recordFromJsonValue', () => {
  it('makes objects events, strings lines, and rejects the rest', () => {
    expect(recordFromJsonValue({ a: 1 }, 0, 'x')).toEqual({ index: 0, kind: 'json', value: { a: 1 } });
    expect(recordFromJsonValue('line', 1, 'x')).toEqual({ index: 1, kind: 'text', line: 'line' });
    expect(recordFromJsonValue(' ', 2, 'logs[2]')).toEqual({ index: 2, kind: 'error', reason: 'logs[2] is an empty string' });
    expect(recordFromJsonValue([1], 3, 'logs[3]')).toEqual({ index: 3, kind: 'error', reason: 'logs[3] must be a JSON object or a string, got an array' });
  });
});

describe('boundedJson', () => {
  it('cuts nesting that would overflow JSON.stringify and says so', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const out = boundedJson(deep, 4);
    expect(out).toEqual({ text: '[[[["…"]]]]', cut: true });
    expect(boundedJson({ a: [1, { b: 2 }] })).toEqual({ text: '{"a":[1,{"b":2}]}', cut: false });
    const bag = new AttributeBag();
    bag.set('deep', deep);
    expect(bag.done()!['sluice.truncated']).toBe('depth');
  });
});
