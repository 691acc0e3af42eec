// SPDX-License-Identifier: MIT
// A real LangGraph StateGraph run (a subgraph, an interrupt, resume, the
// state history, a fork from a past checkpoint and its own resume) with
// RunstateSaver, in memory and on disk, gives what it gives with
// LangGraph's MemorySaver: the same values, next nodes, interrupts,
// metadata and history, step by step (checkpoint ids and timestamps
// aside, which differ between any two runs). A second RunstateSaver on the
// reopened directory sees the same history.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	Annotation, Command, END, MemorySaver, START, StateGraph, interrupt,
} from '@langchain/langgraph';
import { RunstateSaver } from '../langgraph/index.mjs';

const State = Annotation.Root({
	log: Annotation({ reducer: (a, b) => a.concat(b), default: () => [] }),
	count: Annotation({ reducer: (a, b) => a + b, default: () => 0 }),
});

function build(checkpointer) {
	const inner = new StateGraph(State)
		.addNode('think', (s) => ({ log: [`think:${s.count}`], count: 1 }))
		.addEdge(START, 'think')
		.addEdge('think', END)
		.compile();
	return new StateGraph(State)
		.addNode('plan', () => ({ log: ['plan'], count: 1 }))
		.addNode('sub', inner)
		.addNode('ask', () => {
			const answer = interrupt({ question: 'go on?' });
			return { log: [`answer:${answer}`] };
		})
		.addNode('act', (s) => ({ log: [`act:${s.count}`], count: 10 }))
		.addEdge(START, 'plan')
		.addEdge('plan', 'sub')
		.addEdge('sub', 'ask')
		.addEdge('ask', 'act')
		.addEdge('act', END)
		.compile({ checkpointer });
}

// An invoke result without the interrupts' ids (derived from task ids,
// which differ between any two runs).
function plain(r) {
	const { __interrupt__: i, ...rest } = r;
	return i === undefined ? rest : { ...rest, __interrupt__: i.map((x) => x.value) };
}

function snap(s) {
	return {
		values: s.values,
		next: s.next,
		step: s.metadata?.step,
		source: s.metadata?.source,
		interrupts: s.tasks.flatMap((t) => t.interrupts.map((i) => i.value)),
		hasParent: s.parentConfig !== undefined,
	};
}

async function history(graph, config) {
	const out = [];
	for await (const s of graph.getStateHistory(config)) out.push(snap(s));
	return out;
}

// The whole scenario; returns what it saw, free of ids and timestamps.
async function scenario(checkpointer) {
	const graph = build(checkpointer);
	const config = { configurable: { thread_id: 'conversation-1' } };
	const seen = {};
	seen.first = plain(await graph.invoke({ log: ['hi'] }, config));
	seen.atInterrupt = snap(await graph.getState(config));
	seen.resumed = await graph.invoke(new Command({ resume: 'yes' }), config);
	seen.final = snap(await graph.getState(config));
	seen.history = await history(graph, config);
	// Fork: back to the checkpoint before 'ask' ran, with an extra update.
	let beforeAsk;
	for await (const s of graph.getStateHistory(config))
		if (s.next.length === 1 && s.next[0] === 'ask') {
			beforeAsk = s;
			break;
		}
	assert.ok(beforeAsk, 'no checkpoint before ask');
	const forkConfig = await graph.updateState(beforeAsk.config, { log: ['forked'], count: 100 });
	seen.forkState = snap(await graph.getState(forkConfig));
	seen.forkFirst = plain(await graph.invoke(null, forkConfig));
	seen.forkResumed = await graph.invoke(new Command({ resume: 'no' }), config);
	seen.afterFork = snap(await graph.getState(config));
	seen.historyAfterFork = await history(graph, config);
	seen.limited = (await (async () => {
		const out = [];
		for await (const s of graph.getStateHistory(config, { limit: 3 })) out.push(snap(s));
		return out;
	})());
	return seen;
}

test('StateGraph: RunstateSaver gives what MemorySaver gives', async (t) => {
	const expected = await scenario(new MemorySaver());
	// The scenario exercises what it claims to.
	assert.deepEqual(expected.atInterrupt.interrupts, [{ question: 'go on?' }]);
	assert.ok(expected.resumed.log.includes('answer:yes'));
	assert.match(expected.resumed.log.at(-1), /^act:/);
	assert.ok(expected.history.length >= 5);
	assert.deepEqual(expected.forkResumed.log.slice(-3, -1), ['forked', 'answer:no']);
	assert.ok(!expected.forkResumed.log.includes('answer:yes'));

	const mem = await RunstateSaver.open();
	assert.deepEqual(await scenario(mem), expected);
	await mem.close();

	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-graph-'));
	t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
	const disk = await RunstateSaver.open({ path: path.join(dir, 'db') });
	assert.deepEqual(await scenario(disk), expected);
	await disk.close();
	// After a reopen the thread's history is all there.
	const again = await RunstateSaver.open({ path: path.join(dir, 'db') });
	const graph = build(again);
	assert.deepEqual(await history(graph, { configurable: { thread_id: 'conversation-1' } }),
		expected.historyAfterFork);
	await again.close();
});
