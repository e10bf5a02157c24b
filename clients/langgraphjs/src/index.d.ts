// Type declarations of @agentstore/langgraph-checkpoint (src/index.js).
import type { Pool } from "pg";
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointTuple,
  type PendingWrite,
  type SerializerProtocol,
} from "@langchain/langgraph-checkpoint";

export interface AgentstoreSaverOptions {
  /**
   * A PostgreSQL interval ("30 days") that every put gives the thread;
   * by default the server's agentstore.checkpoint_ttl (0: never expires).
   */
  ttl?: string | null;
}

/**
 * LangGraph checkpointer backed by the agentstore PostgreSQL extension:
 * every method is one call of agentstore's SQL API.
 */
export declare class AgentstoreSaver extends BaseCheckpointSaver {
  /** The node-postgres pool the saver queries. */
  pool: Pool;
  ttl: string | null;
  /**
   * @param pool a node-postgres pool on a database with the agentstore extension
   * @param serde a serializer; LangGraph's default when undefined
   */
  constructor(pool: Pool, serde?: SerializerProtocol, options?: AgentstoreSaverOptions);
  /** A saver with a pool of its own. */
  static fromConnString(connectionString: string, options?: AgentstoreSaverOptions): AgentstoreSaver;
  /**
   * At run time "00000000000000000000000000000004.0123456789012345" after
   * version 3 -- a counter and a random suffix -- and a number after a
   * number (threads written by earlier versions).  Declared as LangGraph's
   * compile() expects a checkpointer's versions (number): LangGraph only
   * compares them.
   */
  getNextVersion(current: number | undefined): number;
  getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined>;
  list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple>;
  put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions
  ): Promise<RunnableConfig>;
  putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void>;
  deleteThread(threadId: string): Promise<void>;
  /** Ends the pool. */
  end(): Promise<void>;
}

export default AgentstoreSaver;
