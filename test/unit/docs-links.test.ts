/**
 * Every relative link in README.md and docs/**\/*.md resolves: the file (or folder) exists, and a
 * `#anchor` names a heading of its target, slugged as GitHub does. External links (a scheme such as
 * https: or mailto:) are not followed. Links inside code (fenced blocks and `inline code`) are not links.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** The text outside fenced code blocks and inline code, line by line (line numbers kept). */
function prose(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence !== undefined) {
      if (open && open[1]!.startsWith(fence)) fence = undefined;
      return '';
    }
    if (open) {
      fence = open[1]!;
      return '';
    }
    return line.replace(/(`+)[\s\S]*?\1/g, '');
  });
}

/** GitHub's heading anchors: lower case, punctuation other than `-` and `_` removed, spaces → `-`, repeats numbered. */
function headingSlugs(text: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence !== undefined) {
      if (open && open[1]!.startsWith(fence)) fence = undefined;
      continue;
    }
    if (open) {
      fence = open[1]!;
      continue;
    }
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text only
      .replace(/<[^>]+>/g, '') // HTML tags
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

function relativeLinks(file: string): Link[] {
  const links: Link[] = [];
  prose(readFileSync(file, 'utf8')).forEach((text, i) => {
    // [text](target) and ![alt](target), with an optional "title" after the target.
    for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
      links.push({ file, line: i + 1, target });
    }
  });
  return links;
}

/** What is wrong with a link, or undefined when it resolves. */
function brokenReason(link: Link): string | undefined {
  const [pathPart, anchor] = link.target.split('#', 2) as [string, string | undefined];
  const target = pathPart === '' ? link.file : resolve(dirname(link.file), decodeURIComponent(pathPart));
  if (!existsSync(target)) return `no such file: ${relative(ROOT, target)}`;
  if (anchor === undefined || anchor === '') return undefined;
  if (statSync(target).isDirectory() || !target.endsWith('.md')) return `#${anchor} on a file that is not markdown`;
  if (!headingSlugs(readFileSync(target, 'utf8')).has(decodeURIComponent(anchor))) return `no heading #${anchor} in ${relative(ROOT, target)}`;
  return undefined;
}

const FILES = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];

describe('documentation links', () => {
  it('finds the pages and their links (the checker itself works)', () => {
    expect(FILES.length).toBeGreaterThan(10);
    expect(relativeLinks(join(ROOT, 'README.md')).length).toBeGreaterThan(10);
  });

  it('slugs headings as GitHub does', () => {
    const slugs = headingSlugs(
      [
        '# Durability: nothing acknowledged is lost, nothing is stored twice',
        '## `POST /v1/logs`',
        '## Syslog (local mode)',
        '## Notes',
        '## Notes',
        '```',
        '# not a heading',
        '```',
      ].join('\n'),
    );
    expect([...slugs]).toEqual(['durability-nothing-acknowledged-is-lost-nothing-is-stored-twice', 'post-v1logs', 'syslog-local-mode', 'notes', 'notes-1']);
  });

  it('reports a missing file and a missing heading', () => {
    const file = join(ROOT, 'README.md');
    expect(brokenReason({ file, line: 1, target: 'docs/no-such-page.md' })).toMatch(/no such file/);
    expect(brokenReason({ file, line: 1, target: 'docs/api.md#no-such-heading' })).toMatch(/no heading/);
    expect(brokenReason({ file, line: 1, target: 'docs/api.md#errors' })).toBeUndefined();
  });

  it.each(FILES.map((f) => [relative(ROOT, f), f] as const))('every relative link in %s resolves', (_name, file) => {
    const broken = relativeLinks(file)
      .map((link) => ({ link, reason: brokenReason(link) }))
      .filter((b) => b.reason !== undefined)
      .map(({ link, reason }) => `${relative(ROOT, link.file)}:${link.line}: (${link.target}) ${reason}`);
    expect(broken).toEqual([]);
  });
});
