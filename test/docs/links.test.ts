import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

/** The Markdown pages a reader browses: the README and every page under docs/. */
function pages(): string[] {
  const docs = readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => path.join(ROOT, 'docs', name));
  return [path.join(ROOT, 'README.md'), ...docs];
}

/** Markdown without fenced code blocks and inline code, whose brackets are not links. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Link and image targets: [text](target), ![alt](target) and <img src="target">. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  const targets: string[] = [];
  for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) targets.push(match[1]);
  for (const match of text.matchAll(/<img\s[^>]*src="([^"]+)"/g)) targets.push(match[1]);
  return targets;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = match[1]
      .toLowerCase()
      .replace(/`/g, '')
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** What is wrong with one relative target of `page`, or null when it resolves. */
function brokenTarget(page: string, target: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // http:, https:, mailto: are not checked offline
  const [file, anchor] = target.split('#', 2);
  const resolved = file === '' ? page : path.resolve(path.dirname(page), decodeURIComponent(file));
  if (!existsSync(resolved)) return `${target}: no file ${path.relative(ROOT, resolved)}`;
  if (anchor === undefined || anchor === '') return null;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) return `${target}: an anchor into a file that has no headings`;
  return headingAnchors(readFileSync(resolved, 'utf8')).has(anchor) ? null : `${target}: no heading #${anchor} in ${path.relative(ROOT, resolved)}`;
}

describe('links in README.md and docs/', () => {
  it('finds links, images and headings the way GitHub renders them', () => {
    expect(linkTargets('see [a](docs/api.md#errors), ![p](x.png "t") and <img src="y.png" alt="">; `[no](z.md)`')).toEqual([
      'docs/api.md#errors',
      'x.png',
      'y.png',
    ]);
    expect([...headingAnchors('## Salimans et al. 2016: improved techniques\n## Le et al.\n## Le et al.\n```\n## not a heading\n```')]).toEqual([
      'salimans-et-al-2016-improved-techniques',
      'le-et-al',
      'le-et-al-1',
    ]);
  });

  it('every relative link and image resolves to an existing file and heading', () => {
    const broken: string[] = [];
    for (const page of pages()) {
      for (const target of linkTargets(readFileSync(page, 'utf8'))) {
        const problem = brokenTarget(page, target);
        if (problem) broken.push(`${path.relative(ROOT, page)}: ${problem}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('keeps the README a front page', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    // CI runs the README's test command (.ci/run): it must stay in the README, literally.
    expect(readme).toContain('npm ci && npm test');
    expect(readme).toContain('npm ci && npm start');
  });
});
