/**
 * Locate the real public sample files in ../shared/data (never copied into the project).
 * Tests that need them use `describeShared`, which skips with a clear message when absent.
 */
import fs from 'node:fs';
import path from 'node:path';

export const SHARED_DATA = path.resolve(process.env.GEONODE_SHARED_DATA ?? path.join(__dirname, '..', '..', '..', 'shared', 'data'));

export const hasSharedData = fs.existsSync(path.join(SHARED_DATA, 'mseed'));

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DATA, ...parts);
}

/** All files of one category (e.g. 'mseed'), sorted by name. */
export function sharedFiles(category: string): string[] {
  const dir = sharedPath(category);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort()
    .map((f) => path.join(dir, f));
}

/** `describe` that skips (with a message) when ../shared/data is not beside the project. */
export const describeShared: jest.Describe = hasSharedData
  ? describe
  : (((name: string, fn: () => void) => {
      describe.skip(`${name} [SKIPPED: ../shared/data not found at ${SHARED_DATA}]`, fn);
    }) as unknown as jest.Describe);

if (!hasSharedData) {
  // One visible line in the test output, not silence.
  console.warn(`shared sample data not found at ${SHARED_DATA}: tests on real files are skipped`);
}
