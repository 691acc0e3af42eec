// SPDX-License-Identifier: MIT
import type { BaseCheckpointSaver, Checkpoint, CheckpointListOptions, CheckpointMetadata,
  CheckpointTuple, ChannelVersions, PendingWrite, SerializerProtocol } from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import type { Db, Durability, OpenOptions, RunId } from '../index.js';

export interface RunstateSaverOptions {
  /** The commits' durability; default: the database's own. */
  durability?: Durability;
  serde?: SerializerProtocol;
}

/** A LangGraph checkpoint saver over runstate: one thread is one run. */
export class RunstateSaver extends BaseCheckpointSaver {
  /** Throws a RunstateError RS_EVERSION for a database of another storage layout. */
  constructor(db: Db, options?: RunstateSaverOptions);
  /** Opens a database of its own (Buffered with a path, InMemory without). */
  static open(options?: OpenOptions & { serde?: SerializerProtocol }): Promise<RunstateSaver>;
  readonly db: Db;
  /** Closes the database if the saver opened it. */
  close(): Promise<void>;
  getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined>;
  list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple>;
  put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
      newVersions: ChannelVersions): Promise<RunnableConfig>;
  putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void>;
  deleteThread(threadId: string): Promise<void>;
}

/** The run id of a LangGraph thread (a UUIDv5 of its thread_id). */
export function threadRunId(threadId: string): RunId;

/** The saver's storage layout version; a database records it (key FORMAT_KEY of
 *  run FORMAT_RUN) and a saver refuses another one with RS_EVERSION. */
export const FORMAT: number;
export const FORMAT_RUN: RunId;
export const FORMAT_KEY: string;
