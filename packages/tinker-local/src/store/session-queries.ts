// Session reads and writes the REST side needs beyond the session store: listings that include
// sessions visible through public checkpoints, and moving a session into a project.
import type { Statement } from "better-sqlite3";
import type { Clock } from "../clock.js";
import type { SqliteDatabase } from "./db.js";
import { PUBLIC_CHECKPOINT_OF_RUN } from "./runs.js";

export class SessionQueries {
  private readonly listStmt: Statement;
  private readonly publicRunsStmt: Statement;
  private readonly setProjectStmt: Statement;

  constructor(
    db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    // Newest first by creation; rowid (insertion order) breaks ties so paging is stable.
    this.listStmt = db.prepare(
      `SELECT s.id FROM sessions s
       WHERE s.owner = @owner OR (@accessible = 1 AND EXISTS (
         SELECT 1 FROM training_runs r WHERE r.session_id = s.id AND ${PUBLIC_CHECKPOINT_OF_RUN}))
       ORDER BY s.created_at DESC, s.rowid DESC LIMIT @limit OFFSET @offset`,
    );
    this.publicRunsStmt = db.prepare(
      `SELECT r.id FROM training_runs r WHERE r.session_id = @sessionId AND ${PUBLIC_CHECKPOINT_OF_RUN}
       ORDER BY r.created_at, r.rowid`,
    );
    this.setProjectStmt = db.prepare("UPDATE sessions SET project_id = ? WHERE id = ?");
  }

  listIds(owner: string, accessible: boolean, limit: number, offset: number): string[] {
    const rows = this.listStmt.all({
      owner,
      accessible: accessible ? 1 : 0,
      limit,
      offset,
      now: this.clock.now(),
    }) as { id: string }[];
    return rows.map((row) => row.id);
  }

  /** Runs of a session that other users may see (they have a public checkpoint). */
  publicRunIds(sessionId: string): string[] {
    const rows = this.publicRunsStmt.all({ sessionId, now: this.clock.now() }) as { id: string }[];
    return rows.map((row) => row.id);
  }

  setProject(sessionId: string, projectId: string): void {
    this.setProjectStmt.run(projectId, sessionId);
  }
}
