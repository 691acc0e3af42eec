// SPDX-License-Identifier: MIT
// LangGraph's own conformance suite (@langchain/langgraph-checkpoint-
// validation, through its library route: its CLI is broken in 1.1.1)
// against RunstateSaver: in memory, and on disk (Buffered and Strict), each
// checkpointer on a fresh database. run.mjs runs this file with vitest and
// prints the counts. The checkpointer names match none of the suite's
// skip lists, so no test is skipped by name.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validate } from '@langchain/langgraph-checkpoint-validation';
import { RunstateSaver } from '../../langgraph/index.mjs';

const dirs = new Map();

function onDisk(durability) {
	return {
		checkpointerName: `RunstateSaver (${durability}, on disk)`,
		async createCheckpointer() {
			const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-lg-'));
			const saver = await RunstateSaver.open({ path: path.join(dir, 'db'), durability });
			dirs.set(saver, dir);
			return saver;
		},
		async destroyCheckpointer(saver) {
			await saver.close();
			fs.rmSync(dirs.get(saver), { recursive: true, force: true });
			dirs.delete(saver);
		},
	};
}

const modes = (process.env.RS_CONFORMANCE_MODES || 'inmemory,buffered,strict').split(',');
if (modes.includes('inmemory'))
	validate({
		checkpointerName: 'RunstateSaver (in memory)',
		createCheckpointer: () => RunstateSaver.open(),
		destroyCheckpointer: (saver) => saver.close(),
	});
if (modes.includes('buffered')) validate(onDisk('buffered'));
if (modes.includes('strict')) validate(onDisk('strict'));
