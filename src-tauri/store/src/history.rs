//! Reading history back: the list the window and `sotto history` show, one utterance in
//! full, and deletion.

use sqlx::Row;

use crate::{PlanId, Result, Store, StoreError, UtteranceId};

/// One line of the history list.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub id: UtteranceId,
    pub created_at: String,
    pub input: String,
    pub transcript: Option<String>,
    pub status: String,
    pub plan_count: i64,
    pub call_count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UtteranceDetail {
    pub entry: HistoryEntry,
    pub audio_path: Option<String>,
    pub audio_ms: Option<i64>,
    pub language: Option<String>,
    pub asr_model: Option<String>,
    pub timings: serde_json::Value,
    pub error: Option<String>,
    pub plans: Vec<PlanDetail>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanDetail {
    pub id: PlanId,
    pub planner: String,
    pub text: String,
    pub step_count: i64,
    pub duration_ms: Option<i64>,
    pub calls: Vec<ToolCallDetail>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolCallDetail {
    pub step: i64,
    pub tool: String,
    pub arguments: serde_json::Value,
    pub decision: String,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
}

const ENTRY_COLUMNS: &str = "u.id, u.created_at, u.input, u.transcript, u.status,
    (SELECT count(*) FROM plans p WHERE p.utterance_id = u.id) AS plan_count,
    (SELECT count(*) FROM tool_calls c JOIN plans p ON c.plan_id = p.id WHERE p.utterance_id = u.id) AS call_count";

fn entry_from(row: &sqlx::sqlite::SqliteRow) -> HistoryEntry {
    HistoryEntry {
        id: UtteranceId(row.get("id")),
        created_at: row.get("created_at"),
        input: row.get("input"),
        transcript: row.get("transcript"),
        status: row.get("status"),
        plan_count: row.get("plan_count"),
        call_count: row.get("call_count"),
    }
}

fn json_column(row: &sqlx::sqlite::SqliteRow, name: &str) -> Option<serde_json::Value> {
    // The schema's json_valid checks make a parse failure impossible short of manual edits;
    // if one happens the raw text is still shown rather than dropped.
    row.get::<Option<String>, _>(name)
        .map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

impl Store {
    /// The newest `limit` utterances, optionally only those whose transcript contains `search`
    /// (case-insensitive).
    pub async fn history(&self, limit: i64, search: Option<&str>) -> Result<Vec<HistoryEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM utterances u
             WHERE ?1 IS NULL OR instr(lower(coalesce(u.transcript, '')), lower(?1)) > 0
             ORDER BY u.id DESC LIMIT ?2"
        );
        let rows = sqlx::query(&sql)
            .bind(search)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(entry_from).collect())
    }

    pub async fn utterance(&self, id: UtteranceId) -> Result<UtteranceDetail> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS}, u.audio_path, u.audio_ms, u.language, u.asr_model, u.timings, u.error
             FROM utterances u WHERE u.id = ?"
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NoSuchUtterance(id.0))?;
        let plan_rows = sqlx::query(
            "SELECT id, planner, text, step_count, duration_ms FROM plans WHERE utterance_id = ? ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await?;
        let mut plans = Vec::with_capacity(plan_rows.len());
        for plan in &plan_rows {
            let plan_id: i64 = plan.get("id");
            let calls = sqlx::query(
                "SELECT step, tool, arguments, decision, result, error, duration_ms
                 FROM tool_calls WHERE plan_id = ? ORDER BY step",
            )
            .bind(plan_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|c| ToolCallDetail {
                step: c.get("step"),
                tool: c.get("tool"),
                arguments: json_column(c, "arguments").unwrap_or_default(),
                decision: c.get("decision"),
                result: json_column(c, "result"),
                error: c.get("error"),
                duration_ms: c.get("duration_ms"),
            })
            .collect();
            plans.push(PlanDetail {
                id: PlanId(plan_id),
                planner: plan.get("planner"),
                text: plan.get("text"),
                step_count: plan.get("step_count"),
                duration_ms: plan.get("duration_ms"),
                calls,
            });
        }
        Ok(UtteranceDetail {
            entry: entry_from(&row),
            audio_path: row.get("audio_path"),
            audio_ms: row.get("audio_ms"),
            language: row.get("language"),
            asr_model: row.get("asr_model"),
            timings: json_column(&row, "timings").unwrap_or_default(),
            error: row.get("error"),
            plans,
        })
    }

    /// Deletes an utterance with its plans and calls; returns its audio file (relative to the
    /// recordings directory) so the caller can remove it too.
    pub async fn delete_utterance(&self, id: UtteranceId) -> Result<Option<String>> {
        let mut tx = self.pool().begin().await?;
        let audio: Option<Option<String>> =
            sqlx::query_scalar("SELECT audio_path FROM utterances WHERE id = ?")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
        let audio = audio.ok_or(StoreError::NoSuchUtterance(id.0))?;
        sqlx::query("DELETE FROM utterances WHERE id = ?")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(audio)
    }

    /// Utterances whose recording is older than `days` days: their ids and audio paths
    /// (relative to the recordings folder).
    pub async fn recordings_older_than(&self, days: u32) -> Result<Vec<(UtteranceId, String)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, audio_path FROM utterances
             WHERE audio_path IS NOT NULL
               AND created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)
             ORDER BY id",
        )
        .bind(format!("-{days} days"))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, path)| (UtteranceId(id), path))
            .collect())
    }

    /// The utterance keeps its transcript, plans and calls but no longer has a recording.
    pub async fn forget_recording(&self, id: UtteranceId) -> Result<()> {
        sqlx::query("UPDATE utterances SET audio_path = NULL WHERE id = ?")
            .bind(id.0)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Moves an utterance's time back by `days` (tests of retention).
    #[doc(hidden)]
    pub async fn backdate(&self, id: UtteranceId, days: u32) -> Result<()> {
        sqlx::query(
            "UPDATE utterances SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, ?)
             WHERE id = ?",
        )
        .bind(format!("-{days} days"))
        .bind(id.0)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
