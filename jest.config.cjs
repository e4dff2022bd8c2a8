/**
 * NestJS 12 ships as ES modules. Jest loads them natively only in its ESM mode
 * (NODE_OPTIONS=--experimental-vm-modules, set by the npm scripts), so the TypeScript sources are
 * compiled to ESM for tests while the build (tsconfig.build.json) emits CommonJS, which Node 20.19+
 * loads through require(esm).
 */
const tsJestEsm = [
  'ts-jest',
  {
    useESM: true,
    tsconfig: {
      module: 'esnext',
      moduleResolution: 'bundler',
      target: 'ES2023',
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
      isolatedModules: false,
    },
    // `tsc --noEmit` and `npm run build` type-check; here it would only slow every run down.
    diagnostics: false,
  },
];

/** Unit tests (`npm test`): fast, no ML Service; HTTP client tests start loopback servers of their own. */
module.exports = {
  displayName: 'unit',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // A dynamic import() needs the .js suffix under NodeNext type-checking; the sources are .ts.
  moduleNameMapper: { '^@app/(.*?)(\\.js)?$': '<rootDir>/src/$1', '^@test/(.*?)(\\.js)?$': '<rootDir>/test/$1' },
  transform: { '^.+\\.ts$': tsJestEsm },
};
