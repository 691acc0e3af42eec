// SPDX-License-Identifier: MIT
// The ES module entry point: the CommonJS module's exports, by name.
import cjs from './index.js';

export const {
	open, Db, RunstateError, errors, DURABILITY, runId, parseRunId,
	isNilRunId, transitionAllowed, version, describeError,
} = cjs;
export default cjs;
