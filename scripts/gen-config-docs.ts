// Rewrites the README's configuration reference from the config schema: `node scripts/gen-config-docs.ts`.
// test/config/reference.test.ts fails when the README is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { configReferenceMarkdown } from '../src/config/reference.ts';

export const START = '<!-- config-reference -->';
export const END = '<!-- /config-reference -->';

export function withReference(readme: string): string {
  const start = readme.indexOf(START);
  if (start < 0) throw new Error(`README.md has no ${START} marker`);
  const end = readme.indexOf(END, start);
  const tail = end < 0 ? readme.slice(start + START.length) : readme.slice(end + END.length);
  return `${readme.slice(0, start)}${START}\n${configReferenceMarkdown()}\n${END}${tail}`;
}

if (import.meta.main) {
  const file = new URL('../README.md', import.meta.url);
  writeFileSync(file, withReference(readFileSync(file, 'utf8')));
  console.log('README.md configuration reference updated');
}
