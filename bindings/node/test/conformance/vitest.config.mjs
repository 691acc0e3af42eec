// SPDX-License-Identifier: MIT
// The validation suite uses vitest's globals (describe, it, expect...).
import { defineConfig } from 'vitest/config';

export default defineConfig({
	test: {
		globals: true,
		include: ['conformance.spec.mjs'],
		testTimeout: 30000,
		hookTimeout: 30000,
		pool: 'forks',
		fileParallelism: false,
	},
});
