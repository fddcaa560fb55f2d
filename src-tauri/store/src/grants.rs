//! What the user allowed each tool: a per-tool setting, granted capabilities and folders,
//! and the audit columns of a tool call (who approved it, why, from where).
//!
//! Values are stored as the text forms the tool crate defines (`allow`, `read:user-folders`);
//! this crate checks only what the schema checks and knows nothing of tools or policy.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::{Decision, PlanId, Result, Store};

/// The user's per-tool choice, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolSettingValue {
    AlwaysAsk,
    AskFirstTime,
    Allow,
    Never,
}

impl ToolSettingValue {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolSettingValue::AlwaysAsk => "always-ask",
            ToolSettingValue::AskFirstTime => "ask-first-time",
            ToolSettingValue::Allow => "allow",
            ToolSettingValue::Never => "never",
        }
    }

    pub fn parse(text: &str) -> Option<ToolSettingValue> {
        Some(match text {
            "always-ask" => ToolSettingValue::AlwaysAsk,
            "ask-first-time" => ToolSettingValue::AskFirstTime,
            "allow" => ToolSettingValue::Allow,
            "never" => ToolSettingValue::Never,
            _ => return None,
        })
    }
}

/// A folder granted to a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderGrantRecord {
    pub path: String,
    pub write: bool,
    pub granted_at: String,
}

/// Everything stored about one tool's permissions. A tool never mentioned has the default:
/// no setting, never confirmed, nothing granted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolGrantRecord {
    pub tool: String,
    pub setting: Option<ToolSettingValue>,
    pub first_confirmed_at: Option<String>,
    /// Capability keys, sorted.
    pub capabilities: Vec<String>,
    /// Sorted by path.
    pub folders: Vec<FolderGrantRecord>,
}

/// The audit facts of one call's decision, written when the policy (or the user) decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAudit {
    pub decision: Decision,
    /// `policy:read-only`, `user:terminal`, ...; `None` when the call did not run.
    pub approved_by: Option<String>,
    /// The policy's reason or the denial's message.
    pub reason: Option<String>,
    /// `voice`, `typed` or `unattended`.
    pub origin: String,
    pub uses_tool_output: bool,
}

/// The audit columns of one recorded call, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAuditRecord {
    pub decision: String,
    pub approved_by: Option<String>,
    pub reason: Option<String>,
    pub origin: Option<String>,
    pub uses_tool_output: Option<bool>,
}

impl Store {
    /// The stored permissions of `tool` (the default when nothing is stored).
    pub async fn tool_grants(&self, tool: &str) -> Result<ToolGrantRecord> {
        let mut all = self.load_grants(Some(tool)).await?;
        Ok(all.remove(tool).unwrap_or_else(|| ToolGrantRecord {
            tool: tool.to_string(),
            ..Default::default()
        }))
    }

    /// Every tool with something stored, by name (for `sotto tools list`).
    pub async fn all_tool_grants(&self) -> Result<Vec<ToolGrantRecord>> {
        Ok(self.load_grants(None).await?.into_values().collect())
    }

    async fn load_grants(&self, only: Option<&str>) -> Result<BTreeMap<String, ToolGrantRecord>> {
        let mut out: BTreeMap<String, ToolGrantRecord> = BTreeMap::new();
        let entry = |out: &mut BTreeMap<String, ToolGrantRecord>, tool: &str| {
            out.entry(tool.to_string())
                .or_insert_with(|| ToolGrantRecord {
                    tool: tool.to_string(),
                    ..Default::default()
                })
                .tool
                .clone()
        };
        let settings = sqlx::query(
            "SELECT tool, setting, first_confirmed_at FROM tool_settings WHERE ?1 IS NULL OR tool = ?1",
        )
        .bind(only)
        .fetch_all(self.pool())
        .await?;
        for row in &settings {
            let tool: String = row.get("tool");
            let key = entry(&mut out, &tool);
            let record = out.get_mut(&key).expect("just inserted");
            record.setting = row
                .get::<Option<String>, _>("setting")
                .and_then(|s| ToolSettingValue::parse(&s));
            record.first_confirmed_at = row.get("first_confirmed_at");
        }
        let grants = sqlx::query(
            "SELECT tool, kind, value, write, granted_at FROM tool_grants
             WHERE ?1 IS NULL OR tool = ?1 ORDER BY tool, kind, value",
        )
        .bind(only)
        .fetch_all(self.pool())
        .await?;
        for row in &grants {
            let tool: String = row.get("tool");
            let key = entry(&mut out, &tool);
            let record = out.get_mut(&key).expect("just inserted");
            let value: String = row.get("value");
            match row.get::<String, _>("kind").as_str() {
                "folder" => record.folders.push(FolderGrantRecord {
                    path: value,
                    write: row.get::<i64, _>("write") == 1,
                    granted_at: row.get("granted_at"),
                }),
                _ => record.capabilities.push(value),
            }
        }
        Ok(out)
    }

    /// Sets (or, with `None`, clears back to the default) the user's setting for `tool`.
    pub async fn set_tool_setting(
        &self,
        tool: &str,
        setting: Option<ToolSettingValue>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO tool_settings (tool, setting) VALUES (?1, ?2)
             ON CONFLICT (tool) DO UPDATE SET setting = ?2,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        )
        .bind(tool)
        .bind(setting.map(ToolSettingValue::as_str))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Remembers that the user confirmed a call of `tool` (the first time only).
    pub async fn mark_tool_confirmed(&self, tool: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO tool_settings (tool, first_confirmed_at)
             VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (tool) DO UPDATE SET first_confirmed_at =
                 coalesce(first_confirmed_at, excluded.first_confirmed_at)",
        )
        .bind(tool)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Grants a capability (by its key). Granting twice is not an error.
    pub async fn grant_capability(&self, tool: &str, capability: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO tool_grants (tool, kind, value) VALUES (?, 'capability', ?)
             ON CONFLICT (tool, kind, value) DO NOTHING",
        )
        .bind(tool)
        .bind(capability)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Grants a folder (an absolute, canonical path: the caller canonicalises). Granting it
    /// again updates whether writing is allowed.
    pub async fn grant_folder(&self, tool: &str, path: &str, write: bool) -> Result<()> {
        sqlx::query(
            "INSERT INTO tool_grants (tool, kind, value, write) VALUES (?1, 'folder', ?2, ?3)
             ON CONFLICT (tool, kind, value) DO UPDATE SET write = ?3,
                 granted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        )
        .bind(tool)
        .bind(path)
        .bind(i64::from(write))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Revokes one capability; returns whether it was granted.
    pub async fn revoke_capability(&self, tool: &str, capability: &str) -> Result<bool> {
        self.revoke(tool, "capability", capability).await
    }

    /// Revokes one folder; returns whether it was granted.
    pub async fn revoke_folder(&self, tool: &str, path: &str) -> Result<bool> {
        self.revoke(tool, "folder", path).await
    }

    async fn revoke(&self, tool: &str, kind: &str, value: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM tool_grants WHERE tool = ? AND kind = ? AND value = ?")
            .bind(tool)
            .bind(kind)
            .bind(value)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Forgets everything about `tool` (setting, first confirmation, grants) in one
    /// transaction; returns how many rows went.
    pub async fn revoke_tool(&self, tool: &str) -> Result<u64> {
        let mut tx = self.pool().begin().await?;
        let grants = sqlx::query("DELETE FROM tool_grants WHERE tool = ?")
            .bind(tool)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let settings = sqlx::query("DELETE FROM tool_settings WHERE tool = ?")
            .bind(tool)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(grants + settings)
    }

    /// Records the policy's decision for one step of a plan (before it runs, or instead of
    /// running it). The result comes later through `finish_tool_call`.
    pub async fn record_call_decision(
        &self,
        plan: PlanId,
        step: i64,
        audit: &CallAudit,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE tool_calls SET decision = ?, approved_by = ?, decision_reason = ?, origin = ?,
                    uses_tool_output = ?
             WHERE plan_id = ? AND step = ?",
        )
        .bind(audit.decision.as_str())
        .bind(&audit.approved_by)
        .bind(&audit.reason)
        .bind(&audit.origin)
        .bind(i64::from(audit.uses_tool_output))
        .bind(plan.0)
        .bind(step)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The audit columns of one step.
    pub async fn call_audit(&self, plan: PlanId, step: i64) -> Result<Option<CallAuditRecord>> {
        let row = sqlx::query(
            "SELECT decision, approved_by, decision_reason, origin, uses_tool_output
             FROM tool_calls WHERE plan_id = ? AND step = ?",
        )
        .bind(plan.0)
        .bind(step)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| CallAuditRecord {
            decision: r.get("decision"),
            approved_by: r.get("approved_by"),
            reason: r.get("decision_reason"),
            origin: r.get("origin"),
            uses_tool_output: r.get::<Option<i64>, _>("uses_tool_output").map(|v| v == 1),
        }))
    }
}
