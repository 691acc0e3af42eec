// SPDX-License-Identifier: MIT
// runstate/langgraph, ES module: RunstateSaver over the ES module build of
// @langchain/langgraph-checkpoint (saver.js has the implementation).
import * as lg from '@langchain/langgraph-checkpoint';
import saver from './saver.js';

export const { RunstateSaver, threadRunId } = saver.define(lg);
export const { FORMAT, FORMAT_RUN, FORMAT_KEY } = saver;
