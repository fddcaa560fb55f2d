//! Sotto's memory: one SQLite file holding what the user said, what Sotto planned, what each
//! tool call did (and who approved it), what the user allowed each tool (`grants.rs`), and
//! the model manager's log.
//!
//! Design choices, and why:
//! - **WAL journal, `synchronous = FULL`.** WAL lets the window read history while the pipeline
//!   writes; FULL makes a committed row survive power loss too, because "never lose a history
//!   row" matters more than the fraction of a millisecond a commit costs at our write rate.
//! - **Multi-row facts are written in one transaction** (a plan and all its tool calls), so a
//!   crash leaves either all of it or none. `tests/crash.rs` kills a writer to check this.
//! - **Migrations are embedded** (`sqlx::migrate!`) and applied on open: an older database is
//!   upgraded before anything reads it, and a newer one (from a later Sotto) is refused rather
//!   than misread.
//! - Queries are checked at run time, not with `query!` macros, so building Sotto never
//!   needs a database.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

mod grants;
mod history;
mod plugins;
pub use grants::{
    CallAudit, CallAuditRecord, FolderGrantRecord, ToolGrantRecord, ToolSettingValue,
};
pub use history::{HistoryEntry, PlanDetail, ToolCallDetail, UtteranceDetail};
pub use plugins::{NewPlugin, PluginRecord};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the directory for the database {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the history database {path}: {source}\n(if the file is damaged, move it aside and Sotto will start a new one)")]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot upgrade the history database {path}: {source}")]
    Migrate {
        path: PathBuf,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("history database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("no utterance with id {0}")]
    NoSuchUtterance(i64),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How an utterance reached Sotto.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Voice,
    Typed,
}

impl Input {
    fn as_str(self) -> &'static str {
        match self {
            Input::Voice => "voice",
            Input::Typed => "typed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtteranceId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlanId(pub i64);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewUtterance {
    pub input: Option<Input>,
    /// Relative to the recordings directory.
    pub audio_path: Option<String>,
    pub audio_ms: Option<i64>,
    pub transcript: Option<String>,
    pub language: Option<String>,
    pub asr_model: Option<String>,
}

/// One step of a plan as the planner produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewToolCall {
    pub step: i64,
    pub tool: String,
    pub arguments: serde_json::Value,
    pub depends_on: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewPlan {
    pub utterance: UtteranceId,
    pub planner: String,
    pub text: String,
    pub calls: Vec<NewToolCall>,
    pub prompt_tokens: Option<i64>,
    pub generated_tokens: Option<i64>,
    pub duration_ms: Option<i64>,
}

/// What the policy decided about a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Pending,
    Allowed,
    Confirmed,
    Denied,
    Invalid,
}

impl Decision {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Decision::Pending => "pending",
            Decision::Allowed => "allowed",
            Decision::Confirmed => "confirmed",
            Decision::Denied => "denied",
            Decision::Invalid => "invalid",
        }
    }
}

/// The outcome of a finished tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    pub decision: Decision,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelEventKind {
    Installed,
    Verified,
    Corrupt,
    Removed,
    Failed,
}

impl ModelEventKind {
    fn as_str(self) -> &'static str {
        match self {
            ModelEventKind::Installed => "installed",
            ModelEventKind::Verified => "verified",
            ModelEventKind::Corrupt => "corrupt",
            ModelEventKind::Removed => "removed",
            ModelEventKind::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelEvent {
    pub model_id: String,
    pub event: ModelEventKind,
    pub source: Option<String>,
    pub sha256: Option<String>,
    pub bytes: Option<i64>,
    pub duration_ms: Option<i64>,
    pub detail: Option<String>,
}

/// A handle to the database; cheap to clone (it is a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Store {
            pool,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for pending writes and closes every connection (checkpointing the WAL).
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// Runs SQLite's own consistency check; an empty list means the file is sound.
    pub async fn integrity_problems(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?;
        let mut problems: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
        problems.retain(|p| p != "ok");
        let fk = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&self.pool)
            .await?;
        problems.extend(
            fk.iter()
                .map(|r| format!("foreign key broken in {}", r.get::<String, _>(0))),
        );
        Ok(problems)
    }

    pub async fn journal_mode(&self) -> Result<String> {
        Ok(sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn record_utterance(&self, new: &NewUtterance) -> Result<UtteranceId> {
        let input = new.input.unwrap_or(Input::Typed);
        let status = if new.transcript.is_some() {
            "transcribed"
        } else {
            "recorded"
        };
        let id = sqlx::query(
            "INSERT INTO utterances (input, audio_path, audio_ms, transcript, language, asr_model, status)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(input.as_str())
        .bind(&new.audio_path)
        .bind(new.audio_ms)
        .bind(&new.transcript)
        .bind(&new.language)
        .bind(&new.asr_model)
        .bind(status)
        .execute(&self.pool)
        .await?
        .last_insert_rowid();
        Ok(UtteranceId(id))
    }

    pub async fn set_transcript(
        &self,
        id: UtteranceId,
        transcript: &str,
        model: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE utterances SET transcript = ?, asr_model = ?, status = 'transcribed' WHERE id = ?",
        )
        .bind(transcript)
        .bind(model)
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        expect_one(done.rows_affected(), id)
    }

    /// Records one stage's time (milliseconds since end of speech) in the utterance's timings.
    pub async fn record_timing(&self, id: UtteranceId, stage: &str, ms: f64) -> Result<()> {
        let done = sqlx::query("UPDATE utterances SET timings = json_set(timings, '$.' || json_quote(?), ?) WHERE id = ?")
            .bind(stage)
            .bind(ms)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        expect_one(done.rows_affected(), id)
    }

    pub async fn set_status(
        &self,
        id: UtteranceId,
        status: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let done = sqlx::query("UPDATE utterances SET status = ?, error = ? WHERE id = ?")
            .bind(status)
            .bind(error)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        expect_one(done.rows_affected(), id)
    }

    /// Stores a plan and all its steps atomically.
    pub async fn record_plan(&self, plan: &NewPlan) -> Result<PlanId> {
        let mut tx = self.pool.begin().await?;
        let plan_id = sqlx::query(
            "INSERT INTO plans (utterance_id, planner, text, step_count, prompt_tokens, generated_tokens, duration_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(plan.utterance.0)
        .bind(&plan.planner)
        .bind(&plan.text)
        .bind(plan.calls.len() as i64)
        .bind(plan.prompt_tokens)
        .bind(plan.generated_tokens)
        .bind(plan.duration_ms)
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
        for call in &plan.calls {
            sqlx::query(
                "INSERT INTO tool_calls (plan_id, step, tool, arguments, depends_on) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(plan_id)
            .bind(call.step)
            .bind(&call.tool)
            .bind(call.arguments.to_string())
            .bind(serde_json::Value::from(call.depends_on.clone()).to_string())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE utterances SET status = 'planned' WHERE id = ?")
            .bind(plan.utterance.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(PlanId(plan_id))
    }

    pub async fn start_tool_call(&self, plan: PlanId, step: i64, decision: Decision) -> Result<()> {
        sqlx::query(
            "UPDATE tool_calls SET decision = ?, started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE plan_id = ? AND step = ?",
        )
        .bind(decision.as_str())
        .bind(plan.0)
        .bind(step)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn finish_tool_call(
        &self,
        plan: PlanId,
        step: i64,
        outcome: &CallOutcome,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE tool_calls SET decision = ?, result = ?, error = ?, duration_ms = ?,
                    finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE plan_id = ? AND step = ?",
        )
        .bind(outcome.decision.as_str())
        .bind(outcome.result.as_ref().map(|r| r.to_string()))
        .bind(&outcome.error)
        .bind(outcome.duration_ms)
        .bind(plan.0)
        .bind(step)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn record_model_event(&self, event: &ModelEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO model_events (model_id, event, source, sha256, bytes, duration_ms, detail)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&event.model_id)
        .bind(event.event.as_str())
        .bind(&event.source)
        .bind(&event.sha256)
        .bind(event.bytes)
        .bind(event.duration_ms)
        .bind(&event.detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The most recent model events, newest first, as `(at, model_id, event, detail)`.
    pub async fn model_events(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, String, String, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT at, model_id, event, detail FROM model_events ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get("at"),
                    r.get("model_id"),
                    r.get("event"),
                    r.get("detail"),
                )
            })
            .collect())
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn expect_one(rows: u64, id: UtteranceId) -> Result<()> {
    if rows == 0 {
        return Err(StoreError::NoSuchUtterance(id.0));
    }
    Ok(())
}
