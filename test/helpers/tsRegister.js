/**
 * `node -r ./test/helpers/tsRegister.js file.ts`: run the TypeScript sources in a plain Node
 * process, transpiled on load (TypeScript's transpileModule: no type check, CommonJS). Tests
 * use it for long pipelines (generate → ingest → analyze of the 24-day products demo): inside
 * jest's VM sandbox every global lookup (Math, typed arrays) is several times slower, which made
 * that pipeline ~3.5× slower than compiled code. Type checking still happens in ts-jest and tsc.
 */
'use strict';
const fs = require('node:fs');
const ts = require('typescript');

const options = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  isolatedModules: true,
  inlineSourceMap: true,
};

require.extensions['.ts'] = function compileTs(module, filename) {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { compilerOptions: options, fileName: filename });
  module._compile(out.outputText, filename);
};
