/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // hyparquet is ESM-only. Compiled code (dist/) loads it with Node's
    // require(esm), but jest 29's module system cannot, so its .js files are transpiled to CJS
    // here (ts-jest as a plain JS transpiler; inline compiler options, no type checking).
    '^.+/node_modules/hyparquet/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', isolatedModules: true, sourceMap: false }, diagnostics: false },
    ],
    // The dashboard's pure ES modules (web/js: miniSEED decoding, span arithmetic) are unit
    // tested the same way.
    '^.+/web/js/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', isolatedModules: true, sourceMap: false }, diagnostics: false },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!hyparquet/)'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 60000,
};
