// A LangGraph.js checkpointer on agentstore: every method is one call of
// agentstore's SQL API (see docs/checkpoints.md).  This file
// only converts between LangGraph's objects and the functions' arguments and
// results; tables, queries and their semantics live in the database.
import { randomInt } from "node:crypto";
import { importDependency } from "./dependencies.js";

const { default: pg } = await importDependency("pg");
const { BaseCheckpointSaver, TASKS, maxChannelVersion } = await importDependency(
  "@langchain/langgraph-checkpoint"
);

// Named statements: node-postgres prepares each once per connection.
const GET = {
  name: "agentstore_get_checkpoint",
  text: "SELECT * FROM agentstore.get_checkpoint($1, $2, $3)",
};
const LIST = {
  name: "agentstore_list_checkpoints",
  text: "SELECT * FROM agentstore.list_checkpoints($1, $2, $3, $4, $5, $6)",
};
const PUT = {
  name: "agentstore_put_checkpoint",
  text: "SELECT agentstore.put_checkpoint($1, $2, $3, $4, $5, $6, $7, $8)",
};
const PUT_WRITES = {
  name: "agentstore_put_writes",
  text: "SELECT agentstore.put_writes($1, $2, $3, $4, $5, $6)",
};
const DELETE_THREAD = {
  name: "agentstore_delete_thread",
  text: "SELECT agentstore.delete_thread($1)",
};

const textDecoder = new TextDecoder();

/** Base64 of a serialized value (a Uint8Array or a string). */
function toBase64(data) {
  if (typeof data === "string") return Buffer.from(data, "utf8").toString("base64");
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
}

/**
 * LangGraph checkpointer backed by the agentstore PostgreSQL extension.
 *
 * @example
 * const saver = AgentstoreSaver.fromConnString("postgresql://app@db/app", { ttl: "30 days" });
 * const graph = builder.compile({ checkpointer: saver });
 */
export class AgentstoreSaver extends BaseCheckpointSaver {
  /**
   * @param {pg.Pool} pool a node-postgres pool on a database where
   *   `CREATE EXTENSION agentstore` has been run
   * @param {import("@langchain/langgraph-checkpoint").SerializerProtocol} [serde]
   * @param {{ ttl?: string }} [options] ttl: a PostgreSQL interval ("7 days")
   *   that every put gives the thread; by default agentstore.checkpoint_ttl
   */
  constructor(pool, serde, options = {}) {
    super(serde);
    this.pool = pool;
    this.ttl = options.ttl ?? null;
  }

  /** A saver with its own pool. */
  static fromConnString(connectionString, options) {
    return new AgentstoreSaver(new pg.Pool({ connectionString }), undefined, options);
  }

  /**
   * The next version of a channel, after `current` (the highest version of
   * the checkpoint).  LangGraph.js counts 1, 2, 3...: a fork made by
   * updateState on an older checkpoint then writes version 4 of a channel
   * whose version 4 already exists in the original timeline, and agentstore
   * stores a blob once per (channel, version), so the fork's value would be
   * lost.  As LangGraph Python does, a version is a zero-padded counter and a
   * random suffix ("00000000000000000000000000000004.0123456789012345"):
   * unique per write, and ordered by LangGraph's comparisons (string `>`,
   * maxChannelVersion's localeCompare) since every such string has the same
   * length.  A thread whose versions are numbers (written before this
   * change) keeps numbers, so its versions still compare with each other:
   * the counter plus a random fraction (4.123456789).
   */
  getNextVersion(current) {
    if (typeof current === "number") {
      return Math.floor(current) + 1 + randomInt(1, 1_000_000_000) / 1_000_000_000;
    }
    const counter = current === undefined || current === "" ? 0 : Number.parseInt(String(current).split(".")[0], 10);
    if (!Number.isSafeInteger(counter)) {
      throw new Error(`agentstore: cannot read channel version ${JSON.stringify(current)}`);
    }
    const suffix =
      String(randomInt(0, 100_000_000)).padStart(8, "0") + String(randomInt(0, 100_000_000)).padStart(8, "0");
    return `${String(counter + 1).padStart(32, "0")}.${suffix}`;
  }

  async getTuple(config) {
    const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable ?? {};
    const { rows } = await this.pool.query({
      ...GET,
      values: [thread_id ?? null, checkpoint_ns, checkpoint_id || null],
    });
    return rows.length > 0 ? this._toTuple(rows[0]) : undefined;
  }

  async *list(config, options) {
    const { filter, before, limit } = options ?? {};
    const c = config?.configurable ?? {};
    const { rows } = await this.pool.query({
      ...LIST,
      values: [
        c.thread_id || null,
        c.checkpoint_ns ?? null,
        filter && Object.keys(filter).length > 0 ? JSON.stringify(filter) : null,
        before?.configurable?.checkpoint_id ?? null,
        limit === undefined ? null : Number.parseInt(limit.toString(), 10),
        c.checkpoint_id || null,
      ],
    });
    for (const row of rows) yield await this._toTuple(row);
  }

  async put(config, checkpoint, metadata, newVersions) {
    if (config.configurable === undefined) {
      throw new Error(`Missing "configurable" field in "config" param`);
    }
    const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable;
    // The values of the channels with a new version travel as serialized
    // blobs; the checkpoint itself without its values.
    const { channel_values: values = {}, ...stored } = checkpoint;
    const blobs = {};
    await Promise.all(
      Object.keys(newVersions).map(async (channel) => {
        if (channel in values) {
          const [type, data] = await this.serde.dumpsTyped(values[channel]);
          blobs[channel] = [type, toBase64(data)];
        }
      })
    );
    await this.pool.query({
      ...PUT,
      values: [
        thread_id ?? null,
        checkpoint_ns,
        JSON.stringify(stored),
        await this._dumpMetadata(metadata),
        JSON.stringify(newVersions),
        Object.keys(blobs).length > 0 ? JSON.stringify(blobs) : null,
        checkpoint_id || null,
        this.ttl,
      ],
    });
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
  }

  async putWrites(config, writes, taskId, taskPath = "") {
    const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable ?? {};
    const dumped = await Promise.all(
      writes.map(async ([channel, value]) => {
        const [type, data] = await this.serde.dumpsTyped(value);
        return [channel, type, toBase64(data)];
      })
    );
    await this.pool.query({
      ...PUT_WRITES,
      values: [
        thread_id ?? null,
        checkpoint_ns,
        checkpoint_id ?? null,
        taskId,
        JSON.stringify(dumped),
        taskPath ?? "",
      ],
    });
  }

  async deleteThread(threadId) {
    await this.pool.query({ ...DELETE_THREAD, values: [threadId] });
  }

  async end() {
    return this.pool.end();
  }

  /** Metadata as JSON text; agentstore strips \u0000 from it, as LangGraph does. */
  async _dumpMetadata(metadata) {
    const [type, data] = await this.serde.dumpsTyped(metadata);
    if (type !== "json") return JSON.stringify(metadata);
    return typeof data === "string" ? data : textDecoder.decode(data);
  }

  /** A value as agentstore returns it: JSON for type "json", base64 otherwise. */
  async _load(type, value) {
    if (type === "json") return this.serde.loadsTyped(type, JSON.stringify(value));
    const bytes = value === null ? new Uint8Array(0) : Buffer.from(value, "base64");
    return this.serde.loadsTyped(type, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** A row of agentstore.checkpoint_tuple as LangGraph's CheckpointTuple. */
  async _toTuple(row) {
    const channelValues = {};
    await Promise.all(
      Object.entries(row.channel_values).map(async ([channel, [type, value]]) => {
        channelValues[channel] = await this._load(type, value);
      })
    );
    const checkpoint = {
      ...row.checkpoint,
      channel_values: channelValues,
      channel_versions: row.checkpoint.channel_versions ?? {},
      versions_seen: row.checkpoint.versions_seen ?? {},
    };
    if (row.pending_sends !== null) {
      // Checkpoints older than format 4 kept pending sends as the parent's
      // writes to __pregel_tasks; LangGraph moves them into that channel.
      channelValues[TASKS] = await Promise.all(
        row.pending_sends.map(([type, value]) => this._load(type, value))
      );
      const versions = Object.values(checkpoint.channel_versions);
      checkpoint.channel_versions = {
        ...checkpoint.channel_versions,
        [TASKS]: versions.length > 0 ? maxChannelVersion(...versions) : this.getNextVersion(undefined),
      };
    }
    const { thread_id, checkpoint_ns } = row;
    return {
      config: { configurable: { thread_id, checkpoint_ns, checkpoint_id: row.checkpoint_id } },
      checkpoint,
      metadata: await this.serde.loadsTyped("json", JSON.stringify(row.metadata)),
      parentConfig: row.parent_checkpoint_id
        ? { configurable: { thread_id, checkpoint_ns, checkpoint_id: row.parent_checkpoint_id } }
        : undefined,
      pendingWrites: await Promise.all(
        row.pending_writes.map(async ([taskId, channel, type, value]) => [
          taskId,
          channel,
          await this._load(type, value),
        ])
      ),
    };
  }
}

export default AgentstoreSaver;
