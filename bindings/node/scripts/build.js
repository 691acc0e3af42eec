#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// Builds the addon (the package's install step, and `npm run build`):
//  1. the C library as a static, position-independent librunstate.a (the
//     library alone: no tests, tools, examples, nor the JetStream backend,
//     whose sources a packed tarball does not carry):
//     RUNSTATE_LIB_DIR if set (a directory holding librunstate.a, with
//     RUNSTATE_INCLUDE_DIR holding runstate.h), else a CMake Release build
//     of the sources next to this package: the repository (../../) in a
//     checkout, or vendor/runstate/ in a packed tarball (npm pack copies
//     them there, see scripts/vendor.js);
//  2. the addon with node-gyp, pointed at the running Node's own headers
//     (<prefix>/include/node) so that nothing is downloaded.
// Needs cmake, a C11 compiler, pkg-config and the library's dependencies
// (liburcu, xxhash, libsodium development packages).
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const pkg = path.resolve(__dirname, '..');
const env = { ...process.env };

function run(cmd, args, opts) {
	execFileSync(cmd, args, { stdio: 'inherit', env, ...opts });
}

function sourceDir() {
	for (const d of [path.join(pkg, 'vendor', 'runstate'), path.resolve(pkg, '..', '..')])
		if (fs.existsSync(path.join(d, 'CMakeLists.txt')) &&
		    fs.existsSync(path.join(d, 'include', 'runstate.h')))
			return d;
	return null;
}

if (!env.RUNSTATE_LIB_DIR) {
	const src = sourceDir();
	if (src === null) {
		console.error('runstate: no C sources found (vendor/runstate or ../../) and RUNSTATE_LIB_DIR is not set');
		process.exit(1);
	}
	const build = src === path.resolve(pkg, '..', '..')
		? path.join(src, 'build', 'node') : path.join(pkg, 'build-lib'); // node-gyp rebuild empties build/
	const jobs = String(Math.max(1, Math.min(2, require('os').cpus().length)));
	run('cmake', ['-S', src, '-B', build, '-DCMAKE_BUILD_TYPE=Release',
		'-DRS_BUILD_TESTS=OFF', '-DRS_BUILD_BENCHMARKS=OFF', '-DRS_BUILD_TOOLS=OFF',
		'-DRS_BUILD_EXAMPLES=OFF', '-DRS_BUILD_SHARED=OFF', '-DRS_WITH_NATS=OFF',
		'-DCMAKE_POSITION_INDEPENDENT_CODE=ON'], { stdio: ['ignore', 'ignore', 'inherit'] });
	run('cmake', ['--build', build, '-j', jobs]);
	env.RUNSTATE_LIB_DIR = build;
	env.RUNSTATE_INCLUDE_DIR = path.join(src, 'include');
}

const args = ['rebuild', '-j', '2'];
if (!env.npm_config_nodedir) {
	const prefix = path.resolve(path.dirname(process.execPath), '..');
	if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')))
		args.push(`--nodedir=${prefix}`);
}
let gyp;
try {
	gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
	// npm ships node-gyp: use that one when the package has none of its own.
	gyp = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm',
		'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}
run(process.execPath, [gyp, ...args], { cwd: pkg });
