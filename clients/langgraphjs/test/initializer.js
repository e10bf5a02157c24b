// The conformance suite's initializer for AgentstoreSaver.  The database is
// the one the PG* environment variables name (PGHOST, PGPORT, PGDATABASE,
// PGUSER), with the agentstore extension installed; every checkpointer the
// suite destroys leaves the checkpoint tables empty, as LangGraph's own
// initializers do by dropping their database.
import pg from "pg";
import { AgentstoreSaver } from "../src/index.js";

let admin;

export const initializer = {
  checkpointerName: "agentstore",

  async beforeAll() {
    admin = new pg.Pool({ max: 1 });
    await admin.query("SELECT 1 FROM pg_extension WHERE extname = 'agentstore'");
  },

  async afterAll() {
    await admin.end();
  },

  async createCheckpointer() {
    return new AgentstoreSaver(new pg.Pool({ max: 4 }));
  },

  async destroyCheckpointer(checkpointer) {
    await checkpointer.end();
    await admin.query(
      "TRUNCATE agentstore.checkpoints, agentstore.checkpoint_blobs," +
        " agentstore.checkpoint_writes, agentstore.checkpoint_threads"
    );
  },
};
