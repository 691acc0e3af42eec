#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// npm pack's prepack step: copies the C library's sources (this
// repository's own CMakeLists.txt, cmake/, include/, src/ and LICENSE)
// into vendor/runstate/, so that the packed tarball builds on install
// without the repository (scripts/build.js). `--clean` (postpack) removes
// the copy again.
'use strict';
const fs = require('fs');
const path = require('path');

const pkg = path.resolve(__dirname, '..');
const repo = path.resolve(pkg, '..', '..');
const dest = path.join(pkg, 'vendor', 'runstate');

fs.rmSync(path.join(pkg, 'vendor'), { recursive: true, force: true });
if (process.argv.includes('--clean')) process.exit(0);
for (const item of ['CMakeLists.txt', 'cmake', 'include', 'src', 'LICENSE', 'README.md', 'CHANGELOG.md'])
	fs.cpSync(path.join(repo, item), path.join(dest, item), { recursive: true });
// install() rules name these directories; the addon build installs nothing.
for (const d of ['docs', 'examples'])
	fs.mkdirSync(path.join(dest, d), { recursive: true });
