import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_LIMITS, normalizeJsonObject, normalizeTextLine, type RecordContext } from '../../shared/domain/normalize/record.js';
import { microsToIso } from '../../shared/domain/normalize/timestamp.js';
import { findTimestamp } from '../../shared/domain/normalize/text/timestamps.js';
import { keyValues, startsEvent } from '../../shared/domain/normalize/text/parse-line.js';
import { decodeLogsBody } from '../../shared/domain/shippers/logs.js';

const NOW = Date.UTC(2024, 4, 20, 12, 0, 0) * 1000; // 2024-05-20T12:00:00Z
const ctx: RecordContext = { receipt: 'R', ingestedAtMicros: NOW, defaults: {}, limits: DEFAULT_EVENT_LIMITS };
const norm = (line: string) => normalizeTextLine(line, 0, ctx);
const iso = (line: string) => {
  const e = norm(line);
  return e.ts_inferred ? undefined : microsToIso(e.ts);
};

describe('timestamps at the head of a line', () => {
  it.each([
    ['2024-05-01T12:00:00Z rest', '2024-05-01T12:00:00.000000Z'],
    ['2024-05-01T12:00:00.123456789+02:00 rest', '2024-05-01T10:00:00.123456Z'],
    ['2024-05-01 12:00:00,123 INFO x', '2024-05-01T12:00:00.123000Z'],
    ['2024/05/01 12:00:00 [error] x', '2024-05-01T12:00:00.000000Z'],
    ['2005-06-03-15.42.50.675872 R02 x', '2005-06-03T15:42:50.675872Z'],
    ['20171223-22:15:29:606|Step|x', '2017-12-23T22:15:29.606000Z'],
    ['081109 203615 148 INFO x', '2008-11-09T20:36:15.000000Z'],
    ['17/06/09 20:10:40 INFO x', '2017-06-09T20:10:40.000000Z'],
    ['[Sun Dec 04 04:47:44 2005] [notice] x', '2005-12-04T04:47:44.000000Z'],
    ['01-May-2024 10:00:00.5 INFO x', '2024-05-01T10:00:00.500000Z'],
    ['Mon, 01 May 2023 10:00:00 GMT x', '2023-05-01T10:00:00.000000Z'],
    ['05/01/2024 01:02:03 PM x', '2024-05-01T13:02:03.000000Z'],
    ['25/12/2023 01:02:03 x', '2023-12-25T01:02:03.000000Z'],
    ['1714564800 something happened', '2024-05-01T12:00:00.000000Z'],
    ['1714564800123 something happened', '2024-05-01T12:00:00.123000Z'],
  ])('%s', (line, expected) => {
    expect(iso(line)).toBe(expected);
  });

  it('infers the year of year-less timestamps so they are not in the future', () => {
    expect(iso('Jan 14 15:16:01 host app: x')).toBe('2024-01-14T15:16:01.000000Z');
    expect(iso('Dec 14 15:16:01 host app: x')).toBe('2023-12-14T15:16:01.000000Z');
    expect(iso('03-17 16:13:38.811  1702  2395 D Tag: x')).toBe('2024-03-17T16:13:38.811000Z');
  });

  it('finds a timestamp after a leading token', () => {
    const found = findTimestamp('nova-api.log.1 2017-05-16 00:00:00.008 25746 INFO x', NOW);
    expect(found && microsToIso(found.micros)).toBe('2017-05-16T00:00:00.008000Z');
  });

  it('refuses impossible dates rather than rolling them over', () => {
    expect(iso('2024-02-31 12:00:00 x')).toBeUndefined();
    expect(iso('2024-13-01 12:00:00 x')).toBeUndefined();
  });
});

describe('formats', () => {
  it('RFC 5424 syslog with structured data', () => {
    const e = norm(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event',
    );
    expect(e).toMatchObject({
      format: 'syslog5424',
      level: 'info',
      severity: 10,
      host: 'mymachine.example.com',
      service: 'evntslog',
      message: 'An application event',
    });
    expect(microsToIso(e.ts)).toBe('2003-10-11T22:14:15.003000Z');
    expect(e.attributes).toMatchObject({
      'syslog.facility': 'local4',
      'syslog.msgid': 'ID47',
      'exampleSDID@32473.iut': '3',
      'exampleSDID@32473.eventSource': 'Application',
    });
  });

  it('RFC 3164 syslog with and without PRI', () => {
    const withPri = norm('<11>May 19 08:00:01 web-1 nginx[123]: upstream timed out');
    expect(withPri).toMatchObject({ format: 'syslog3164', level: 'error', host: 'web-1', service: 'nginx', message: 'upstream timed out' });
    expect(withPri.attributes['pid']).toBe('123');
    const bare = norm('Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186');
    expect(bare).toMatchObject({ format: 'syslog3164', host: 'LabSZ', service: 'sshd', message: 'Invalid user webmaster from 173.234.31.186', level: null });
  });

  it('combined access log with level from the status', () => {
    const e = norm('10.0.0.1 - - [01/May/2024:12:00:00 +0000] "POST /api/pay HTTP/1.1" 502 157 "-" "curl/8.0"');
    expect(e).toMatchObject({ format: 'combined', level: 'error' });
    expect(e.attributes).toMatchObject({
      'client.ip': '10.0.0.1',
      'http.method': 'POST',
      'http.path': '/api/pay',
      'http.status': '502',
      'http.bytes': '157',
      'http.user_agent': 'curl/8.0',
    });
    expect(microsToIso(e.ts)).toBe('2024-05-01T12:00:00.000000Z');
    expect(norm('1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 404 0').format).toBe('clf');
    expect(norm('1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 404 0').level).toBe('warn');
  });

  it('Apache error log (2.2 and 2.4)', () => {
    expect(norm('[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6')).toMatchObject({
      level: 'error',
      message: 'mod_jk child workerEnv in error state 6',
    });
    const e = norm('[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist');
    expect(e.level).toBe('error');
    expect(e.attributes['module']).toBe('core');
  });

  it('logfmt lines become fields like JSON', () => {
    const e = norm('time=2024-05-01T12:00:00Z level=warn msg="disk low on /var" free_pct=7 host=db-1');
    expect(e).toMatchObject({ format: 'logfmt', level: 'warn', message: 'disk low on /var', host: 'db-1' });
    expect(e.attributes).toEqual({ free_pct: '7' });
    expect(microsToIso(e.ts)).toBe('2024-05-01T12:00:00.000000Z');
  });

  it('key=value pairs inside a larger line become attributes', () => {
    const e = norm('2024-05-01 12:00:00 INFO request done method=GET path="/a b" status=200');
    expect(e.attributes).toMatchObject({ method: 'GET', path: '/a b', status: '200' });
    expect(keyValues('a=1, b="x y" c=')).toEqual({ a: '1', b: 'x y', c: '' });
  });

  it('glog/klog lines', () => {
    const e = norm('E0520 11:59:00.123456    7 controller.go:114] sync failed err="timeout"');
    expect(e).toMatchObject({ format: 'glog', level: 'error', message: 'sync failed err="timeout"' });
    expect(e.attributes).toMatchObject({ pid: '7', caller: 'controller.go:114', err: 'timeout' });
  });

  it('the timestamp-level-component family', () => {
    expect(norm('2015-10-18 18:01:47,978 INFO [main] org.apache.App: Created app')).toMatchObject({
      level: 'info',
      message: 'Created app',
      attributes: { thread: 'main', logger: 'org.apache.App' },
    });
    expect(
      norm('2015-07-29 17:41:44,747 - WARN  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200'),
    ).toMatchObject({ level: 'warn', message: 'Notification time out: 3200' });
    expect(norm('2016-09-28 04:30:30, Warning               CBS    Failed to load')).toMatchObject({ level: 'warn' });
    expect(norm('03-17 16:13:38.811  1702  2395 E WindowManager: boom')).toMatchObject({
      level: 'error',
      message: 'boom',
      attributes: { pid: '1702', tid: '2395', tag: 'WindowManager' },
    });
    expect(norm('[INFO] 2024-05-01 12:00:00 started')).toMatchObject({ level: 'info' });
    expect(norm('2024-05-01 12:00:00 [warning] low disk').level).toBe('warn');
  });

  it('does not take an ordinary word for a level', () => {
    const e = norm('2024-05-01 12:00:00 Error connecting to db');
    expect(e.level).toBeNull();
    expect(e.message).toBe('Error connecting to db');
    expect(norm('just some words about an error').level).toBeNull();
  });

  it('a level without a timestamp', () => {
    expect(norm('ERROR: disk full')).toMatchObject({ level: 'error', ts_inferred: true, message: 'ERROR: disk full' });
  });

  it('JSON lines inside a text body are read as JSON', () => {
    expect(norm('{"level":"error","msg":"x","service":"api"}')).toMatchObject({ format: 'json', level: 'error', message: 'x', service: 'api' });
  });
});

describe('multi-line events', () => {
  const javaTrace = [
    '2024-05-01 12:00:00,001 ERROR [http-1] com.acme.Api: request failed',
    'java.lang.IllegalStateException: boom',
    '\tat com.acme.Api.handle(Api.java:42)',
    '\tat com.acme.Server.run(Server.java:7)',
    'Caused by: java.io.IOException: closed',
    '\t... 2 more',
    '2024-05-01 12:00:01,000 INFO [http-1] com.acme.Api: next request',
  ].join('\n');

  it('joins a Java stack trace to the line that started it', () => {
    const records = decodeLogsBody(javaTrace, 'text', { refMicros: NOW });
    expect(records.length).toBe(2);
    const first = normalizeTextLine((records[0] as { line: string }).line, 0, ctx);
    expect(first.level).toBe('error');
    expect(first.message.split('\n')[0]).toBe('request failed');
    expect(first.message).toContain('Caused by: java.io.IOException: closed');
    expect(first.attributes['logger']).toBe('com.acme.Api');
    expect(records[1]).toMatchObject({ index: 6 });
  });

  it('joins a Python traceback', () => {
    const body = [
      '2024-05-01 12:00:00 ERROR worker: task failed',
      'Traceback (most recent call last):',
      '  File "app.py", line 3, in <module>',
      'ValueError: bad',
      '2024-05-01 12:00:05 INFO worker: retrying',
    ].join('\n');
    const records = decodeLogsBody(body, 'text', { refMicros: NOW });
    expect(records.map((r) => r.index)).toEqual([0, 4]);
    expect((records[0] as { line: string }).line.split('\n')).toHaveLength(4);
  });

  it('keeps one event per line when no line looks like the start of an event', () => {
    expect(decodeLogsBody('hello\nworld\n', 'text', { refMicros: NOW }).length).toBe(2);
  });

  it('takes a start-of-event pattern per source, and can be turned off', () => {
    const body = '>> one\ncontinued\n>> two';
    expect(decodeLogsBody(body, 'text', { multiline: /^>>/ }).map((r) => (r as { line: string }).line)).toEqual(['>> one\ncontinued', '>> two']);
    expect(decodeLogsBody(javaTrace, 'text', { multiline: 'off' }).length).toBe(7);
  });

  it('knows which lines start events', () => {
    expect(startsEvent('2024-05-01 12:00:00 x', NOW)).toBe(true);
    expect(startsEvent('<13>May 19 08:00:01 h a: x', NOW)).toBe(true);
    expect(startsEvent('\tat com.acme.X(X.java:1)', NOW)).toBe(false);
    expect(startsEvent('Caused by: x', NOW)).toBe(false);
  });
});

describe('more real-world line families', () => {
  it.each([
    // [line, expected ts, expected level]
    [
      '- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected',
      '2005-06-03T15:42:50.675872Z',
      'info',
    ],
    [
      'APPREAD 1117869872 2005.06.04 R04-M1-N4-I:J18-U11 2005-06-04-00.24.32.432192 R04-M1-N4-I:J18-U11 RAS APP FATAL ciod: failed to read message prefix',
      '2005-06-04T00:24:32.432192Z',
      'fatal',
    ],
    [
      '134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: Component "alt0" is in the unavailable state',
      '2004-02-26T14:12:22.000000Z',
      null,
    ],
    [
      '- 1131566461 2005.11.09 tbird-admin1 Nov 10 00:01:01 local@tbird-admin1 postfix/postdrop[10896]: warning: unable to look up public/pickup',
      '2005-11-10T00:01:01.000000Z',
      null,
    ],
    ['17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi', '2017-06-09T20:10:40.000000Z', 'info'],
    ['Jul  1 09:00:55 calvisitor-10-105-160-95 kernel[0]: IOThunderboltSwitch<0>(0x0)::listenerCallback', '2023-07-01T09:00:55.000000Z', null],
    ['20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579', '2017-12-23T22:15:29.606000Z', null],
    ['[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 close, 0 bytes sent, 0 bytes received', '2023-10-30T16:49:06.000000Z', null],
    [
      'nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096] 10.11.10.1 "GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1" status: 200',
      '2017-05-16T00:00:00.008000Z',
      'info',
    ],
    [
      '2024/05/01 12:00:00 [error] 1234#1234: *5 connect() failed (111: Connection refused) while connecting to upstream',
      '2024-05-01T12:00:00.000000Z',
      'error',
    ],
    ['time="2024-05-01T12:00:00Z" level=error msg="pull failed" image=nginx', '2024-05-01T12:00:00.000000Z', 'error'],
    [
      'May 01 12:00:00.123456 ip-10-0-0-1 kubelet[123]: E0501 12:00:00.123456 123 pod_workers.go:1298] "Error syncing pod"',
      '2024-05-01T12:00:00.123456Z',
      null,
    ],
  ])('%s', (line, ts, level) => {
    const e = norm(line);
    expect(e.ts_inferred ? undefined : microsToIso(e.ts)).toBe(ts);
    expect(e.level).toBe(level);
  });
});

describe('configured time zone for times written without one', () => {
  const inZone = (line: string, tz: string) => microsToIso(normalizeTextLine(line, 0, { ...ctx, defaults: { tz } }).ts);
  it('applies a fixed offset or an IANA zone, with daylight saving', () => {
    expect(inZone('2024-05-01 12:00:00 INFO x', '+02:00')).toBe('2024-05-01T10:00:00.000000Z');
    expect(inZone('2024-01-15 12:00:00 INFO x', 'Europe/Berlin')).toBe('2024-01-15T11:00:00.000000Z');
    expect(inZone('2024-07-15 12:00:00 INFO x', 'Europe/Berlin')).toBe('2024-07-15T10:00:00.000000Z');
    expect(inZone('May 19 08:00:01 host app: x', 'America/New_York')).toBe('2024-05-19T12:00:01.000000Z');
  });

  it('reads the hours next to a daylight-saving change right (they were read an hour early)', () => {
    expect(inZone('2024-03-31 01:30:00 INFO x', 'Europe/Berlin')).toBe('2024-03-31T00:30:00.000000Z');
    expect(inZone('2024-11-03 02:30:00 INFO x', 'America/New_York')).toBe('2024-11-03T07:30:00.000000Z');
    // a time that happens twice is its first occurrence; one the clocks skip moves forward by the gap
    expect(inZone('2024-10-27 02:30:00 INFO x', 'Europe/Berlin')).toBe('2024-10-27T00:30:00.000000Z');
    expect(inZone('2024-03-10 02:30:00 INFO x', 'America/New_York')).toBe('2024-03-10T07:30:00.000000Z');
  });

  it('never overrides a zone written in the line', () => {
    expect(inZone('2024-05-01T12:00:00Z INFO x', 'Europe/Berlin')).toBe('2024-05-01T12:00:00.000000Z');
    expect(inZone('2024-05-01T12:00:00+01:00 INFO x', 'America/New_York')).toBe('2024-05-01T11:00:00.000000Z');
  });

  it('applies to JSON timestamp fields too', () => {
    const e = normalizeJsonObject({ time: '2024-05-01 12:00:00', msg: 'x' }, 0, { ...ctx, defaults: { tz: 'Asia/Tokyo' } });
    expect(microsToIso(e.ts)).toBe('2024-05-01T03:00:00.000000Z');
  });
});
