const unit = require('./jest.config.cjs');

/**
 * e2e tests against the real ML Service, started once by globalSetup on a free loopback port.
 * Serial (--runInBand in the npm script): the suites share the ML Service and its per-tenant quota.
 */
module.exports = {
  ...unit,
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/test/ml-service.global-setup.cjs',
  globalTeardown: '<rootDir>/test/ml-service.global-teardown.cjs',
  testTimeout: 300000,
};
