/**
 * Format detection for one text line: syslog (RFC 5424, RFC 3164), Apache/nginx access logs (common and
 * combined), Apache error logs, glog/klog, logfmt, and the large family of application lines that start
 * with a timestamp, then maybe a process id, a level, a thread and a component ("2015-10-18 18:01:47,978
 * INFO [main] org.example.App: started"). What the header says goes to the schema's fields; key=value
 * pairs in the message become attributes.
 */
import type { Level } from '../../schema.js';
import { LEVEL_SEVERITY } from '../level.js';
import { findTimestamp, timestampAt } from './timestamps.js';

export interface ParsedLine {
  format: string;
  ts?: number;
  level?: Level;
  severity?: number;
  service?: string;
  host?: string;
  message: string;
  attributes: Record<string, string>;
  /** logfmt lines are turned into an object and normalized like JSON */
  fields?: Record<string, string>;
}

// Level words accepted in a header. Single letters only where a format puts them (logcat, glog).
const HEADER_LEVELS: Record<string, Level> = {
  trace: 'trace',
  finest: 'trace',
  finer: 'trace',
  verbose: 'trace',
  debug: 'debug',
  fine: 'debug',
  dbg: 'debug',
  info: 'info',
  information: 'info',
  informational: 'info',
  notice: 'info',
  inf: 'info',
  warn: 'warn',
  warning: 'warn',
  wrn: 'warn',
  error: 'error',
  err: 'error',
  severe: 'error',
  eror: 'error',
  failure: 'error',
  fatal: 'fatal',
  crit: 'fatal',
  critical: 'fatal',
  alert: 'fatal',
  emerg: 'fatal',
  emergency: 'fatal',
  panic: 'fatal',
};
const LOGCAT_LEVELS: Record<string, Level> = { V: 'trace', D: 'debug', I: 'info', W: 'warn', E: 'error', F: 'fatal', A: 'fatal' };

function headerLevel(word: string): Level | undefined {
  const w = word.toLowerCase();
  return Object.hasOwn(HEADER_LEVELS, w) ? HEADER_LEVELS[w] : undefined;
}

// ------------------------------------------------------------------ key=value pairs

const KV_RE = /(?:^|[\s,;(])([A-Za-z_][\w.@/-]{0,63})=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;)]*)/g;

/** key=value pairs anywhere in a text (values quoted or not). At most `max` pairs. */
export function keyValues(text: string, max = 64): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let n = 0;
  if (text.indexOf('=') < 0) return out;
  KV_RE.lastIndex = 0;
  for (let m = KV_RE.exec(text); m && n < max; m = KV_RE.exec(text)) {
    let v = m[2]!;
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) v = v.slice(1, -1).replace(/\\(["\\])/g, '$1');
    out[m[1]!] = v;
    n++;
  }
  return out;
}

/** A whole line of logfmt: it starts with key= and has at least two pairs, or one pair named like a message. */
function logfmt(line: string): Record<string, string> | undefined {
  if (!/^\s*[A-Za-z_][\w.@/-]*=/.test(line)) return undefined;
  const pairs = keyValues(line, 1000);
  const n = Object.keys(pairs).length;
  if (n >= 2 || (n === 1 && ('msg' in pairs || 'message' in pairs))) return pairs;
  return undefined;
}

// ------------------------------------------------------------------ syslog

const SYSLOG_SEVERITY: Level[] = ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'];
const SYSLOG_OTEL = [24, 23, 21, 17, 13, 10, 9, 5];
const FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
];

const RFC5424_RE = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\"]|\\.|"(?:[^"\\]|\\.)*")*\])+)(?: (.*))?$/s;

function nil(v: string | undefined): string | undefined {
  return v === undefined || v === '-' ? undefined : v;
}

function priFields(pri: number, attrs: Record<string, string>): { level: Level; severity: number } {
  const sev = pri & 7;
  attrs['syslog.facility'] = FACILITIES[pri >> 3] ?? String(pri >> 3);
  return { level: SYSLOG_SEVERITY[sev]!, severity: SYSLOG_OTEL[sev]! };
}

/** RFC 5424 STRUCTURED-DATA: [id k="v" …][id2 …] → attributes "id.k". */
function structuredData(sd: string, attrs: Record<string, string>): void {
  const elem = /\[([^\s\]]+)((?:\s+[^\s=\]]+="(?:[^"\\]|\\.)*")*)\s*\]/g;
  for (let m = elem.exec(sd); m; m = elem.exec(sd)) {
    const id = m[1]!;
    const param = /([^\s=\]]+)="((?:[^"\\]|\\.)*)"/g;
    for (let p = param.exec(m[2]!); p; p = param.exec(m[2]!)) attrs[`${id}.${p[1]}`] = p[2]!.replace(/\\(["\\\]])/g, '$1');
  }
}

function rfc5424(line: string, refMicros: number, zone?: string): ParsedLine | undefined {
  const m = RFC5424_RE.exec(line);
  if (!m) return undefined;
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  const { level, severity } = priFields(Number(m[1]), attributes);
  const ts = m[2] === '-' ? undefined : timestampAt(m[2]!, 0, refMicros, false, zone)?.micros;
  const procid = nil(m[5]);
  const msgid = nil(m[6]);
  if (procid) attributes['pid'] = procid;
  if (msgid) attributes['syslog.msgid'] = msgid;
  if (m[7] !== '-') structuredData(m[7]!, attributes);
  const message = (m[8] ?? '').replace(/^\uFEFF/, '');
  return { format: 'syslog5424', ts, level, severity, host: nil(m[3]), service: nil(m[4]), message, attributes };
}

const TAG_RE = /^([^\s:[\]]+)(?:\[(\d+)\])?:\s?/;

/** RFC 3164 with or without <PRI>: "Jun 14 15:16:01 host tag[pid]: message". */
function rfc3164(line: string, refMicros: number, zone?: string): ParsedLine | undefined {
  let pos = 0;
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  let pri: { level: Level; severity: number } | undefined;
  const priMatch = /^<(\d{1,3})>/.exec(line);
  if (priMatch) {
    pri = priFields(Number(priMatch[1]), attributes);
    pos = priMatch[0].length;
  }
  const c = line.charCodeAt(pos);
  if (!(c >= 65 && c <= 90)) return undefined; // syslog dates start with a capitalized month name
  const ts = timestampAt(line, pos, refMicros, false, zone);
  if (!ts || line.charCodeAt(ts.end) !== 32) return undefined;
  let rest = line.slice(ts.end + 1);
  let host: string | undefined;
  let tag = TAG_RE.exec(rest);
  if (!tag || /\s/.test(rest.slice(0, tag.index))) {
    // "host tag[pid]: msg"
    const sp = rest.indexOf(' ');
    if (sp > 0) {
      const after = rest.slice(sp + 1);
      const t = TAG_RE.exec(after);
      if (t) {
        host = rest.slice(0, sp);
        tag = t;
        rest = after;
      }
    }
  } else {
    // A first token followed by ':' might be a tag (no host) — unless another "tag:" follows it.
    const sp = rest.indexOf(' ');
    const after = sp > 0 ? rest.slice(sp + 1) : '';
    const t = TAG_RE.exec(after);
    if (sp > 0 && !rest.slice(0, sp).endsWith(':') && t) {
      host = rest.slice(0, sp);
      tag = t;
      rest = after;
    }
  }
  let service: string | undefined;
  let message = rest;
  if (tag) {
    service = tag[1];
    if (tag[2]) attributes['pid'] = tag[2];
    message = rest.slice(tag[0].length);
  } else if (!host) {
    const sp = rest.indexOf(' ');
    if (sp > 0) {
      host = rest.slice(0, sp);
      message = rest.slice(sp + 1);
    }
  }
  const parsed: ParsedLine = { format: 'syslog3164', ts: ts.micros, host, service, message, attributes };
  if (pri) {
    parsed.level = pri.level;
    parsed.severity = pri.severity;
  } else {
    // Without a PRI, a leading "error:" style word in the message is the only level there is.
    const lead = /^(?:<(\w+)>|\[(\w+)\]|(\w+):)\s/.exec(message);
    const lvl = lead ? headerLevel(lead[1] ?? lead[2] ?? lead[3]!) : undefined;
    if (lvl) {
      parsed.level = lvl;
      parsed.severity = LEVEL_SEVERITY[lvl];
    }
  }
  Object.assign(attributes, keyValues(message));
  return parsed;
}

// ------------------------------------------------------------------ access logs

const ACCESS_RE = /^(\S+) (\S+) (\S+) \[([^\]]+)\] "([A-Z]+) (\S+)(?: (HTTP\/[\d.]+))?" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(.*)$/;

function accessLog(line: string, refMicros: number): ParsedLine | undefined {
  const m = ACCESS_RE.exec(line);
  if (!m) return undefined;
  const ts = timestampAt(m[4]!, 0, refMicros);
  const status = Number(m[8]);
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  attributes['client.ip'] = m[1]!;
  if (m[3] !== '-') attributes['user'] = m[3]!;
  attributes['http.method'] = m[5]!;
  attributes['http.path'] = m[6]!;
  if (m[7]) attributes['http.version'] = m[7];
  attributes['http.status'] = m[8]!;
  attributes['http.bytes'] = m[9] === '-' ? '0' : m[9]!;
  const combined = m[10] !== undefined;
  if (combined) {
    if (m[10] !== '-') attributes['http.referrer'] = m[10]!;
    if (m[11] !== '-') attributes['http.user_agent'] = m[11]!;
  }
  const extra = m[12]?.trim();
  if (extra) {
    // nginx adds "$request_time" or key=value pairs after the combined fields.
    Object.assign(attributes, keyValues(extra));
    if (/^\d+(\.\d+)?$/.test(extra)) attributes['http.request_time'] = extra;
  }
  const level: Level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  return { format: combined ? 'combined' : 'clf', ts: ts?.micros, level, severity: LEVEL_SEVERITY[level], message: line, attributes };
}

// ------------------------------------------------------------------ glog / klog

const GLOG_RE = /^([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6})\s+(\d+) ([^\]]+)\] ?(.*)$/s;
const GLOG_LEVEL: Record<string, Level> = { I: 'info', W: 'warn', E: 'error', F: 'fatal' };

function glog(line: string, refMicros: number, zone?: string): ParsedLine | undefined {
  const m = GLOG_RE.exec(line);
  if (!m) return undefined;
  const ts = timestampAt(`${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}.${m[7]}`, 0, refMicros, false, zone);
  const level = GLOG_LEVEL[m[1]!]!;
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  attributes['pid'] = m[8]!;
  attributes['caller'] = m[9]!;
  Object.assign(attributes, keyValues(m[10]!));
  return { format: 'glog', ts: ts?.micros, level, severity: LEVEL_SEVERITY[level], message: m[10]!, attributes };
}

// ------------------------------------------------------------------ the timestamp-level-component family

// [thread], allowing one level of nested brackets: [QuorumPeer[myid=1]/0:2181]
const BRACKETED = /^\[([^\][]*(?:\[[^\]]*\][^\][]*)*)\]/;

/**
 * After the timestamp: optional process/thread ids, a level (bare, bracketed, or module:level), an
 * optional [thread] and a "component:" or "component -" before the message.
 */
function applicationLine(line: string, refMicros: number, zone?: string): ParsedLine | undefined {
  const found = findTimestamp(line, refMicros, zone);
  // A level before the timestamp: "[INFO] 2024-…", "INFO 2024-…", "WARN  [main] 2024-…".
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  let level: Level | undefined;
  let severity: number | undefined;
  if (found && found.start > 0) {
    const before = line
      .slice(0, found.start)
      .trim()
      .replace(/^\[|\]$/g, '');
    const lvl = headerLevel(before);
    if (lvl) level = lvl;
  }
  const pos = found ? found.end : 0;
  if (!found) {
    // No timestamp: only a leading level word ("ERROR: disk full", "[warn] …") is read.
    const lead = /^\s*(?:\[([A-Za-z]+)\]|([A-Z]{3,9})\b:?|([a-z]{3,9}):)\s+/.exec(line);
    const lvl = lead ? headerLevel(lead[1] ?? lead[2] ?? lead[3]!) : undefined;
    if (!lvl) return undefined;
    return { format: 'text', level: lvl, severity: LEVEL_SEVERITY[lvl], message: line, attributes: keyValues(line) };
  }

  const rest = line.slice(pos);
  // Walk the header tokens: separators, numbers (pid, tid), the level, [thread], component.
  const tokenRe = /\s*(?:[-|,:]\s*)*/y;
  let i = pos;
  const skipSeparators = () => {
    tokenRe.lastIndex = i;
    tokenRe.exec(line);
    i = tokenRe.lastIndex;
  };
  const numbers: string[] = [];
  let logcat = false;
  let levelInside = false;
  for (let step = 0; step < 8 && i < line.length; step++) {
    skipSeparators();
    const tail = line.slice(i, i + 200);
    const num = /^(\d{1,10})(?=[\s\]:])/.exec(tail);
    if (num && !level) {
      numbers.push(num[1]!);
      i += num[0].length;
      continue;
    }
    if (!level) {
      const br = /^\[([A-Za-z]+)(?::([A-Za-z]+))?\]/.exec(tail);
      if (br) {
        const lvl = headerLevel(br[2] ?? br[1]!);
        if (lvl) {
          level = lvl;
          if (br[2]) attributes['module'] = br[1]!;
          i += br[0].length;
          continue;
        }
      }
      const word = /^([A-Za-z]+)(?=$|[\s:,\]|])/.exec(tail);
      if (word) {
        const w = word[1]!;
        const after = tail.slice(w.length);
        const lvl = headerLevel(w);
        // Accept a level word that is written like one: uppercase, or followed by ':', ',', '|', ']' or padding.
        if (lvl && (w === w.toUpperCase() || /^(?::|,|\||\]|\s{2,}|\s*$)/.test(after))) {
          level = lvl;
          i += w.length;
          continue;
        }
        if (w.length === 1 && Object.hasOwn(LOGCAT_LEVELS, w) && numbers.length > 0 && /^\s+\S/.test(after)) {
          level = LOGCAT_LEVELS[w];
          logcat = true;
          i += 1;
          continue;
        }
      }
      // The first token is not a level: look a few tokens further for an uppercase level word
      // ("2005-06-03-15.42.50 R02-M1-N0 RAS KERNEL INFO …"); the message then stays whole.
      if (!num) {
        const tokens = tail.split(/\s+/, 6).slice(1);
        for (const t of tokens) {
          const lvl = /^[A-Z]{4,9}:?$/.test(t) ? headerLevel(t.replace(/:$/, '')) : undefined;
          if (lvl) {
            level = lvl;
            levelInside = true;
            break;
          }
        }
        break;
      }
    }
    if (level) break;
  }
  if (level) severity = LEVEL_SEVERITY[level];
  if (numbers.length > 0) attributes['pid'] = numbers[0]!;
  if (numbers.length > 1) attributes['tid'] = numbers[1]!;

  let message = level && !levelInside ? line.slice(i) : rest;
  if (level && !levelInside) {
    message = message.replace(/^\s*(?:[-|:]\s+)?/, '');
    // [thread] after the level.
    const thread = BRACKETED.exec(message);
    if (thread && thread[0].length < 120) {
      attributes['thread'] = thread[1]!;
      message = message.slice(thread[0].length).replace(/^\s*(?:-\s+)?/, '');
    }
    // component: or component - before the message
    const comp = /^([A-Za-z_$][\w.$@/#-]*(?:\([^)]*\))?(?:\[[^\]]*\])?):\s+/.exec(message) ?? /^([A-Za-z_$][\w.$@-]*\.[\w.$@-]+)\s+-\s+/.exec(message);
    if (comp && comp[1]!.length < 100) {
      attributes[logcat ? 'tag' : 'logger'] = comp[1]!;
      message = message.slice(comp[0].length);
    }
  } else {
    message = message.replace(/^\s*[-|,:]?\s*/, '');
  }
  Object.assign(attributes, keyValues(message));
  return { format: 'text', ts: found.micros, level, severity, message: message === '' ? line : message, attributes };
}

/** Reads what can be read from a text line; `zone` applies to times written without one. Never throws. */
export function parseLine(line: string, refMicros: number, zone?: string): ParsedLine {
  try {
    const first = line.charCodeAt(0);
    if (first === 0x3c /* < */) {
      const r = rfc5424(line, refMicros, zone) ?? rfc3164(line, refMicros, zone);
      if (r) return r;
    }
    const fields = logfmt(line);
    if (fields) return { format: 'logfmt', message: line, attributes: {}, fields };
    const parsed = accessLog(line, refMicros) ?? glog(line, refMicros, zone) ?? rfc3164Guarded(line, refMicros, zone) ?? applicationLine(line, refMicros, zone);
    if (parsed) return parsed;
  } catch {
    // fall through: keep the line as it is
  }
  return { format: 'text', message: line, attributes: {} };
}

/** RFC 3164 without PRI only when the line really looks like it: "Mmm dd hh:mm:ss host tag…". */
function rfc3164Guarded(line: string, refMicros: number, zone?: string): ParsedLine | undefined {
  if (!/^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} /.test(line)) return undefined;
  return rfc3164(line, refMicros, zone);
}

/** Does this line begin a new event (as opposed to continuing a stack trace or a wrapped message)? */
export function startsEvent(line: string, refMicros: number): boolean {
  const c = line.charCodeAt(0);
  if (c === 32 || c === 9 || line.length === 0) return false;
  if (c === 0x3c && /^<\d{1,3}>/.test(line)) return true;
  if (c === 0x7b /* { */) return true;
  if (GLOG_RE.test(line)) return true;
  if (/^\S+ \S+ \S+ \[[^\]]+\] "/.test(line)) return true;
  const ts = timestampAt(line, 0, refMicros, true);
  if (ts) return true;
  // "[INFO] 2024-…" / "INFO 2024-…"
  const lead = /^\[?[A-Za-z]{3,9}\]?\s+/.exec(line);
  if (lead && headerLevel(lead[0].replace(/[[\]\s]/g, '')) && timestampAt(line, lead[0].length, refMicros)) return true;
  return false;
}
