// SPDX-License-Identifier: MIT
// runstate/langgraph, CommonJS: RunstateSaver over the CommonJS build of
// @langchain/langgraph-checkpoint (saver.js has the implementation).
'use strict';
const { define, FORMAT, FORMAT_RUN, FORMAT_KEY } = require('./saver.js');

module.exports = { ...define(require('@langchain/langgraph-checkpoint')), FORMAT, FORMAT_RUN, FORMAT_KEY };
