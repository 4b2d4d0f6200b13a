#!/usr/bin/env node
// A native-solc front for solc-js, so py-solc-x and ape-solidity can compile offline.
// It answers the two invocations they make:
//   solc --version        -> "Version: <solc.version()>"
//   solc --standard-json  -> standard JSON in on stdin, standard JSON out on stdout
// Imports that are not in the input are read from node_modules (and the working directory).
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const ROOT = path.resolve(__dirname, '..');
const SEARCH = [process.cwd(), ROOT, path.join(ROOT, 'node_modules')];

function findImports(importPath) {
  for (const base of SEARCH) {
    const candidate = path.resolve(base, importPath);
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    }
  }
  return { error: `File not found: ${importPath}` };
}

function main(argv) {
  if (argv.includes('--version')) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return 0;
  }
  if (argv.includes('--standard-json')) {
    const input = fs.readFileSync(0, 'utf8');
    process.stdout.write(solc.compile(input, { import: findImports }));
    return 0;
  }
  process.stderr.write('solc.js supports only --version and --standard-json\n');
  return 2;
}

process.exitCode = main(process.argv.slice(2));
