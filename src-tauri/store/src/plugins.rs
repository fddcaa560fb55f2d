//! Installed plugins: which component file (pinned by its SHA-256), whether it is enabled,
//! and its tools. Installing, updating and removing also change the tools' grants, in the
//! same transaction, so a plugin is never recorded without the permissions the user gave it
//! (or the other way round).

use sqlx::Row;

use crate::{Result, Store};

/// An installed plugin, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRecord {
    pub id: String,
    pub name: String,
    pub version: String,
    pub api_version: String,
    pub source: String,
    pub sha256: String,
    pub enabled: bool,
    pub installed_at: String,
    pub updated_at: String,
    /// Sorted by name.
    pub tools: Vec<String>,
}

/// A plugin being installed or updated, with what the user granted its tools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPlugin {
    pub id: String,
    pub name: String,
    pub version: String,
    pub api_version: String,
    pub source: String,
    pub sha256: String,
    pub tools: Vec<String>,
    /// `(tool, capability key)`: every capability each tool declares, as approved.
    pub capabilities: Vec<(String, String)>,
    /// `(tool, canonical folder, write)`: folders given at install.
    pub folders: Vec<(String, String, bool)>,
}

impl Store {
    /// Records `plugin` (new, or replacing the installed one with the same id) and its tools'
    /// grants in one transaction. On a replacement, tools the plugin no longer has lose
    /// everything stored about them, and capabilities its tools no longer declare are revoked;
    /// folders the user granted stay. Fails (changing nothing) if a tool name belongs to
    /// another plugin.
    pub async fn save_plugin(&self, plugin: &NewPlugin) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let old_tools: Vec<String> =
            sqlx::query_scalar("SELECT tool FROM plugin_tools WHERE plugin = ?")
                .bind(&plugin.id)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO plugins (id, name, version, api_version, source, sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET name = ?2, version = ?3, api_version = ?4,
                 source = ?5, sha256 = ?6,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        )
        .bind(&plugin.id)
        .bind(&plugin.name)
        .bind(&plugin.version)
        .bind(&plugin.api_version)
        .bind(&plugin.source)
        .bind(&plugin.sha256)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM plugin_tools WHERE plugin = ?")
            .bind(&plugin.id)
            .execute(&mut *tx)
            .await?;
        for tool in &plugin.tools {
            sqlx::query("INSERT INTO plugin_tools (tool, plugin) VALUES (?, ?)")
                .bind(tool)
                .bind(&plugin.id)
                .execute(&mut *tx)
                .await?;
        }
        for gone in old_tools.iter().filter(|t| !plugin.tools.contains(t)) {
            for table in ["tool_grants", "tool_settings"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE tool = ?"))
                    .bind(gone)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for tool in &plugin.tools {
            let declared: Vec<&str> = plugin
                .capabilities
                .iter()
                .filter(|(t, _)| t == tool)
                .map(|(_, key)| key.as_str())
                .collect();
            let granted: Vec<String> = sqlx::query_scalar(
                "SELECT value FROM tool_grants WHERE tool = ? AND kind = 'capability'",
            )
            .bind(tool)
            .fetch_all(&mut *tx)
            .await?;
            for stale in granted.iter().filter(|k| !declared.contains(&k.as_str())) {
                sqlx::query(
                    "DELETE FROM tool_grants WHERE tool = ? AND kind = 'capability' AND value = ?",
                )
                .bind(tool)
                .bind(stale)
                .execute(&mut *tx)
                .await?;
            }
            for key in declared {
                sqlx::query(
                    "INSERT INTO tool_grants (tool, kind, value) VALUES (?, 'capability', ?)
                     ON CONFLICT (tool, kind, value) DO NOTHING",
                )
                .bind(tool)
                .bind(key)
                .execute(&mut *tx)
                .await?;
            }
        }
        for (tool, path, write) in &plugin.folders {
            sqlx::query(
                "INSERT INTO tool_grants (tool, kind, value, write) VALUES (?, 'folder', ?, ?)
                 ON CONFLICT (tool, kind, value) DO UPDATE SET write = excluded.write",
            )
            .bind(tool)
            .bind(path)
            .bind(*write as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every installed plugin, by id.
    pub async fn plugins(&self) -> Result<Vec<PluginRecord>> {
        self.load_plugins(None).await
    }

    pub async fn plugin(&self, id: &str) -> Result<Option<PluginRecord>> {
        Ok(self.load_plugins(Some(id)).await?.pop())
    }

    async fn load_plugins(&self, only: Option<&str>) -> Result<Vec<PluginRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, version, api_version, source, sha256, enabled, installed_at,
                    updated_at
             FROM plugins WHERE ?1 IS NULL OR id = ?1 ORDER BY id",
        )
        .bind(only)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.get("id");
            let tools =
                sqlx::query_scalar("SELECT tool FROM plugin_tools WHERE plugin = ? ORDER BY tool")
                    .bind(&id)
                    .fetch_all(self.pool())
                    .await?;
            out.push(PluginRecord {
                id,
                name: row.get("name"),
                version: row.get("version"),
                api_version: row.get("api_version"),
                source: row.get("source"),
                sha256: row.get("sha256"),
                enabled: row.get::<i64, _>("enabled") == 1,
                installed_at: row.get("installed_at"),
                updated_at: row.get("updated_at"),
                tools,
            });
        }
        Ok(out)
    }

    /// Enables or disables a plugin; returns whether it is installed.
    pub async fn set_plugin_enabled(&self, id: &str, enabled: bool) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE plugins SET enabled = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?",
        )
        .bind(enabled as i64)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Forgets a plugin and everything stored about its tools (settings, grants) in one
    /// transaction; returns whether it was installed. The history of its calls stays.
    pub async fn remove_plugin(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let tools: Vec<String> =
            sqlx::query_scalar("SELECT tool FROM plugin_tools WHERE plugin = ?")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        for tool in &tools {
            for table in ["tool_grants", "tool_settings"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE tool = ?"))
                    .bind(tool)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let done = sqlx::query("DELETE FROM plugins WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
