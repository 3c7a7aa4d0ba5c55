// expectFixture: compares test output with a committed text fixture (regenerated on purpose with KSEMU_UPDATE_FIXTURES=1).
import { expect } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Expects `actual` to equal the fixture file `name` in `dir` (a directory URL, e.g.
 * `new URL('../src/__fixtures__/', import.meta.url)` from a compiled test). With
 * `KSEMU_UPDATE_FIXTURES=1` the file is (re)written first, so the change shows up in review as a
 * diff; without it a missing fixture fails the test.
 */
export function expectFixture(dir: URL, name: string, actual: string): void {
  const file = new URL(name, dir);
  if (process.env.KSEMU_UPDATE_FIXTURES === '1') {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, actual);
  } else if (!existsSync(file)) {
    throw new Error(
      `fixture ${file.pathname} is missing; run the test with KSEMU_UPDATE_FIXTURES=1 and commit it`,
    );
  }
  expect(actual).toEqual(readFileSync(file, 'utf8'));
}
