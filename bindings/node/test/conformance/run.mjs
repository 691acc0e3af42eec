#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Runs the conformance suite (conformance.spec.mjs) with vitest's JSON
// reporter and prints one plain line per checkpointer and in all:
//   conformance: <name>: N passed, N failed, N skipped
// Exits non-zero when a test failed or was skipped, or none ran.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rs-vitest-')), 'report.json');
const vitest = path.resolve(here, '..', '..', 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', '--config', path.join(here, 'vitest.config.mjs'),
	'--root', here, '--reporter=json', `--outputFile=${out}`],
{ stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
if (!fs.existsSync(out)) {
	console.error(`conformance: vitest wrote no report (exit ${r.status})`);
	process.exit(1);
}
const report = JSON.parse(fs.readFileSync(out, 'utf8'));
fs.rmSync(path.dirname(out), { recursive: true, force: true });
const by = new Map();
const total = { passed: 0, failed: 0, skipped: 0 };
for (const file of report.testResults)
	for (const t of file.assertionResults) {
		const name = t.ancestorTitles[0] ?? '?';
		const c = by.get(name) ?? { passed: 0, failed: 0, skipped: 0 };
		const k = t.status === 'passed' ? 'passed' : t.status === 'failed' ? 'failed' : 'skipped';
		c[k]++;
		total[k]++;
		by.set(name, c);
		if (k === 'failed')
			console.log(`FAILED: ${t.fullName}\n  ${(t.failureMessages ?? []).join('\n  ').slice(0, 2000)}`);
		if (k === 'skipped') console.log(`SKIPPED: ${t.fullName}`);
	}
const line = (c) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
for (const [name, c] of by) console.log(`conformance: ${name}: ${line(c)}`);
console.log(`conformance: total: ${line(total)}`);
process.exit(total.failed === 0 && total.skipped === 0 && total.passed > 0 && r.status === 0 ? 0 : 1);
