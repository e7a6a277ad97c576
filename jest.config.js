// Jest runs TypeScript through swc (no type check here: `make typecheck` does that) as native ES modules.
// Two projects: unit tests (no processes, fast) and integration tests (real kube-apiserver + etcd and the
// EC2 emulator, started once per run by test/integration/global-setup.ts).
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } }];
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
};
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
  ],
  // Jest reads testTimeout only at the top level, not per project. Integration tests start processes and wait
  // for convergence with `eventually`, each under its own smaller budget; this is the outer bound.
  testTimeout: 120000,
};
