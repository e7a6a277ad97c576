/**
 * The V8 flags the operator runs with are set in two places a user starts it from: the image's ENTRYPOINT and
 * `make run`. They must agree, so `make run` behaves (and measures) like the image.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from '@jest/globals';
import { imageNodeFlags } from '../../../bench/lib/runtime-flags.ts';

const makefile = readFileSync(new URL('../../../Makefile', import.meta.url), 'utf8');

test('the image sizes the V8 heap, with no hard cap', () => {
  const flags = imageNodeFlags();
  expect(flags).toContain('--max-semi-space-size=1');
  expect(flags.filter((flag) => /^--max-(old-space|heap)-size/.test(flag))).toEqual([]);
});

test('make run passes the same flags as the image', () => {
  const fromMake = /^NODE_RUNTIME_FLAGS := (.*)$/m.exec(makefile)?.[1]?.split(' ');
  expect(fromMake).toEqual(imageNodeFlags());
  expect(makefile).toMatch(/node \$\(NODE_RUNTIME_FLAGS\) operator\/main\.ts/);
});
