//! `sotto tools`: the tools Sotto can use, and what the user allows each of them (its
//! setting, granted capabilities and folders, kept in the store's `grants.rs` tables).
//!
//! Which tools always ask is the policy's decision, not this module's (see
//! [`crate::tool_settings`]).
//!
//! `grant` and `revoke` check every argument (tool, setting, capability keys, folders) before
//! they write anything, so a bad argument changes nothing.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use sotto_store::{Store, ToolGrantRecord, ToolSettingValue};
use sotto_tools::policy::{self, AskReason, ToolGrants, ToolSetting};
use sotto_tools::{Capability, DirScope, ToolManifest, ToolSource};

use crate::app::App;
use crate::tool_settings::{always_asks, check_setting};

#[derive(Debug, Subcommand)]
pub enum ToolsCommand {
    /// Every tool: risk, your setting, capabilities, what it does.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Everything about one tool: arguments, result, examples, capabilities, permissions.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Allow a tool more: change its setting, grant capabilities or folders.
    Grant(GrantArgs),
    /// Take back what a tool was allowed. Without options: its setting returns to the default.
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
pub struct GrantArgs {
    pub name: String,
    /// When Sotto asks before running the tool. Sending, deleting and running commands
    /// always ask, whatever this says.
    #[arg(long, value_enum)]
    pub setting: Option<SettingArg>,
    /// A capability the tool declares, by key (`sotto tools show NAME` lists them).
    #[arg(long = "capability", value_name = "KEY")]
    pub capabilities: Vec<String>,
    /// A folder of yours the tool may see (for tools that use folders you choose).
    #[arg(long = "folder", value_name = "PATH")]
    pub folders: Vec<PathBuf>,
    /// The tool may also change files in the folders given with --folder.
    #[arg(long, requires = "folders")]
    pub write: bool,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    pub name: String,
    /// A granted capability, by key.
    #[arg(long = "capability", value_name = "KEY")]
    pub capabilities: Vec<String>,
    /// A granted folder.
    #[arg(long = "folder", value_name = "PATH")]
    pub folders: Vec<PathBuf>,
    /// Forget everything about the tool: setting, first confirmation, capabilities, folders.
    #[arg(long, conflicts_with_all = ["capabilities", "folders"])]
    pub all: bool,
}

/// The settings as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SettingArg {
    /// Run without asking.
    Allow,
    /// Ask the first time, then run without asking.
    #[value(alias = "ask-first-time")]
    AskFirst,
    /// Ask every time.
    AlwaysAsk,
    /// Never run the tool.
    Never,
}

impl SettingArg {
    fn setting(self) -> ToolSetting {
        match self {
            SettingArg::Allow => ToolSetting::Allow,
            SettingArg::AskFirst => ToolSetting::AskFirstTime,
            SettingArg::AlwaysAsk => ToolSetting::AlwaysAsk,
            SettingArg::Never => ToolSetting::Never,
        }
    }
}

pub async fn run(app: &App, command: ToolsCommand) -> Result<ExitCode> {
    // Built-ins and the enabled plugins' tools.
    let tools = crate::plugins::toolbox(app).await?.manifests();
    let store = || app.store();
    match command {
        ToolsCommand::List { json } => list(store().await?, &tools, json).await?,
        ToolsCommand::Show { name, json } => {
            let manifest = find(&tools, &name)?;
            show(store().await?, manifest, json).await?
        }
        ToolsCommand::Grant(args) => {
            let manifest = find(&tools, &args.name)?;
            grant(store().await?, manifest, &args).await?
        }
        ToolsCommand::Revoke(args) => {
            let manifest = find(&tools, &args.name)?;
            revoke(store().await?, manifest, &args).await?
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn find<'a>(tools: &'a [ToolManifest], name: &str) -> Result<&'a ToolManifest> {
    if let Some(manifest) = tools.iter().find(|m| m.name == name) {
        return Ok(manifest);
    }
    let close = close_matches(tools.iter().map(|m| m.name.as_str()), name);
    if close.is_empty() {
        bail!("no tool named `{name}` (`sotto tools list` shows them all)");
    }
    bail!(
        "no tool named `{name}`; did you mean {}? (`sotto tools list` shows them all)",
        close
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Names within a few typos of `wanted`, or containing it (`email` -> `compose_email`),
/// closest first, at most five.
fn close_matches<'a>(names: impl IntoIterator<Item = &'a str>, wanted: &str) -> Vec<&'a str> {
    let wanted = wanted.to_lowercase().replace('-', "_");
    let limit = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, bool, &str)> = names
        .into_iter()
        .filter_map(|name| {
            let distance = edit_distance(name, &wanted);
            let contains = wanted.len() >= 3 && (name.contains(&wanted) || wanted.contains(name));
            (distance <= limit || contains).then_some((distance, contains, name))
        })
        .collect();
    scored.sort();
    // A near-exact match ("note-read" for note_read) is the answer; others only compete
    // when they are about as close.
    let best = scored.first().map_or(0, |(distance, _, _)| *distance);
    scored
        .into_iter()
        .filter(|(distance, contains, _)| *distance <= best + 1 || (*contains && best > 1))
        .take(5)
        .map(|(_, _, name)| name)
        .collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// The stored record in the policy's terms. Unknown stored values grant nothing.
pub(crate) fn stored_grants(record: &ToolGrantRecord) -> ToolGrants {
    ToolGrants::from_stored(
        record.setting.map(ToolSettingValue::as_str),
        record.first_confirmed_at.is_some(),
        record.capabilities.iter().map(String::as_str),
        record
            .folders
            .iter()
            .map(|f| (PathBuf::from(&f.path), f.write)),
    )
}

/// One tool's permissions as shown: the effective setting and what is granted.
struct Permissions {
    record: ToolGrantRecord,
    grants: ToolGrants,
    setting: ToolSetting,
    is_default: bool,
    always_asks: Option<AskReason>,
}

impl Permissions {
    fn new(manifest: &ToolManifest, record: ToolGrantRecord) -> Permissions {
        let grants = stored_grants(&record);
        let default = ToolSetting::default_for(manifest.risk);
        Permissions {
            setting: grants.setting.unwrap_or(default),
            is_default: grants.setting.is_none(),
            always_asks: always_asks(manifest),
            record,
            grants,
        }
    }

    fn setting_text(&self) -> String {
        if self.is_default {
            format!("{} (default)", self.setting.as_str())
        } else {
            self.setting.as_str().to_string()
        }
    }

    fn granted(&self, manifest: &ToolManifest, capability: &Capability) -> bool {
        policy::capability_granted(&manifest.source, &self.grants, capability)
    }

    fn to_json(&self, manifest: &ToolManifest) -> Value {
        json!({
            "setting": self.setting.as_str(),
            "setting_is_default": self.is_default,
            "default_setting": ToolSetting::default_for(manifest.risk).as_str(),
            "always_asks": self.always_asks.map(AskReason::as_str),
            "first_confirmed_at": self.record.first_confirmed_at,
            "capabilities": manifest.capabilities.iter().map(|c| json!({
                "key": c.key(),
                "description": c.to_string(),
                "granted": self.granted(manifest, c),
            })).collect::<Vec<_>>(),
            "folders": self.record.folders.iter().map(|f| json!({
                "path": f.path,
                "write": f.write,
                "granted_at": f.granted_at,
            })).collect::<Vec<_>>(),
        })
    }
}

async fn permissions(store: &Store, manifest: &ToolManifest) -> Result<Permissions> {
    Ok(Permissions::new(
        manifest,
        store.tool_grants(&manifest.name).await?,
    ))
}

async fn list(store: &Store, tools: &[ToolManifest], json: bool) -> Result<()> {
    let mut text = String::new();
    let mut stored = store.all_tool_grants().await?.into_iter().peekable();
    let mut rows = Vec::with_capacity(tools.len());
    for manifest in tools {
        // Both are sorted by name; records of tools that no longer exist are skipped.
        while stored.peek().is_some_and(|r| r.tool < manifest.name) {
            stored.next();
        }
        let record = stored
            .next_if(|r| r.tool == manifest.name)
            .unwrap_or_else(|| ToolGrantRecord {
                tool: manifest.name.clone(),
                ..Default::default()
            });
        rows.push((manifest, Permissions::new(manifest, record)));
    }
    if json {
        let out: Vec<Value> = rows
            .iter()
            .map(|(m, p)| {
                let mut entry = p.to_json(m);
                entry["name"] = json!(m.name);
                entry["risk"] = json!(m.risk.as_str());
                entry["description"] = json!(m.description);
                entry
            })
            .collect();
        writeln!(text, "{}", serde_json::to_string_pretty(&out)?)?;
        return emit(&text);
    }
    let table: Vec<[String; 5]> = rows
        .iter()
        .map(|(m, p)| {
            let capabilities = m
                .capabilities
                .iter()
                .map(|c| format!("{}{}", if p.granted(m, c) { '+' } else { '-' }, c.key()))
                .collect::<Vec<_>>()
                .join(" ");
            [
                m.name.clone(),
                m.risk.as_str().to_string(),
                p.setting_text(),
                if capabilities.is_empty() {
                    "-".into()
                } else {
                    capabilities
                },
                first_sentence(&m.description),
            ]
        })
        .collect();
    let header = ["TOOL", "RISK", "SETTING", "CAPABILITIES", "DESCRIPTION"].map(String::from);
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(&table) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&table) {
        let mut line = String::new();
        for (&width, cell) in widths.iter().zip(row) {
            line.push_str(&format!("{cell:<width$}  "));
        }
        line.push_str(&row[4]);
        writeln!(text, "{line}")?;
    }
    writeln!(
        text,
        "\ncapabilities: + granted, - not granted (`sotto tools grant TOOL --folder DIR` or \
         `--capability KEY`); `(default)`: the setting follows the tool's risk"
    )?;
    emit(&text)
}

/// Writes a command's output to stdout at once. A reader that stops early
/// (`sotto tools list | head`) is not an error.
fn emit(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(result?),
    }
}

/// The description's first sentence, for one line of a table.
fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    match line.find(". ") {
        Some(end) => line[..=end].to_string(),
        None => line.to_string(),
    }
}

async fn show(store: &Store, manifest: &ToolManifest, json: bool) -> Result<()> {
    let mut text = String::new();
    let p = permissions(store, manifest).await?;
    if json {
        let out = json!({
            "manifest": manifest.to_json(),
            "permissions": p.to_json(manifest),
        });
        writeln!(text, "{}", serde_json::to_string_pretty(&out)?)?;
        return emit(&text);
    }
    writeln!(text, "{}", manifest.name)?;
    writeln!(text, "  {}", manifest.description)?;
    writeln!(
        text,
        "  source: {}",
        match &manifest.source {
            ToolSource::BuiltIn => "built in".to_string(),
            ToolSource::Plugin { id } => format!("plugin {id}"),
        }
    )?;
    writeln!(text, "\narguments:")?;
    let arguments = fields(&manifest.args_schema);
    if arguments.is_empty() {
        writeln!(text, "  (none)")?;
    }
    for field in arguments {
        writeln!(
            text,
            "  {} ({}, {}){}",
            field.name,
            field.type_text,
            if field.required {
                "required"
            } else {
                "optional"
            },
            field
                .description
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )?;
    }
    writeln!(text, "\nresult: {}", type_text(&manifest.result_schema))?;
    for field in fields(&manifest.result_schema) {
        writeln!(
            text,
            "  {} ({}){}",
            field.name,
            field.type_text,
            field
                .description
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )?;
    }
    if !manifest.examples.is_empty() {
        writeln!(text, "\nexamples:")?;
        for example in &manifest.examples {
            writeln!(text, "  \"{}\" -> {}", example.utterance, example.args)?;
        }
    }
    writeln!(
        text,
        "\nrisk: {} ({})",
        manifest.risk.as_str(),
        manifest.risk.describe()
    )?;
    writeln!(text, "setting: {}", p.setting_text())?;
    if let Some(reason) = p.always_asks {
        writeln!(text, "  always asks: {}", reason.describe())?;
    }
    if let Some(at) = &p.record.first_confirmed_at {
        writeln!(text, "  first confirmed: {at}")?;
    }
    writeln!(text, "\ncapabilities:")?;
    if manifest.capabilities.is_empty() {
        writeln!(text, "  (none)")?;
    }
    for capability in &manifest.capabilities {
        let granted = if p.granted(manifest, capability) {
            "granted"
        } else {
            "not granted"
        };
        writeln!(text, "  {} ({capability}): {granted}", capability.key())?;
    }
    if uses_folders(manifest) || !p.record.folders.is_empty() {
        writeln!(text, "\nfolders:")?;
        if p.record.folders.is_empty() {
            writeln!(
                text,
                "  (none: `sotto tools grant {} --folder DIR` grants one)",
                manifest.name
            )?;
        }
        for folder in &p.record.folders {
            writeln!(
                text,
                "  {} ({}, since {})",
                folder.path,
                if folder.write {
                    "read and write"
                } else {
                    "read"
                },
                folder.granted_at
            )?;
        }
    }
    emit(&text)
}

/// One property of an object schema, as shown.
struct Field {
    name: String,
    type_text: String,
    required: bool,
    description: Option<String>,
}

/// The properties of an object schema, in the schema's order.
fn fields(schema: &Value) -> Vec<Field> {
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| Field {
            name: name.clone(),
            type_text: type_text(property),
            required: required.contains(name.as_str()),
            description: property["description"].as_str().map(str::to_string),
        })
        .collect()
}

/// A schema's type in a few words: `string`, `array of string`, `one of start|stop`.
/// `null` is left out (whether a field may be left out is the `required` column's job).
fn type_text(schema: &Value) -> String {
    if let Some(values) = schema["enum"].as_array() {
        return format!("one of {}", join_values(values));
    }
    if let Some(value) = schema.get("const") {
        return join_values(std::slice::from_ref(value));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            if !options.is_empty() && options.iter().all(|o| o.get("const").is_some()) {
                let values: Vec<Value> = options.iter().map(|o| o["const"].clone()).collect();
                return format!("one of {}", join_values(&values));
            }
            let mut parts: Vec<String> = Vec::new();
            for option in options {
                let text = type_text(option);
                if text != "null" && !parts.contains(&text) {
                    parts.push(text);
                }
            }
            if !parts.is_empty() {
                return parts.join(" or ");
            }
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let non_null: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
    let parts: Vec<String> = match non_null.as_slice() {
        [] if types.is_empty() => return "any".into(),
        [] => return "null".into(),
        some => some
            .iter()
            .map(|t| match *t {
                "array" if schema.get("items").is_some() => {
                    format!("array of {}", type_text(&schema["items"]))
                }
                other => other.to_string(),
            })
            .collect(),
    };
    parts.join(" or ")
}

fn join_values(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("|")
}

fn uses_folders(manifest: &ToolManifest) -> bool {
    manifest.capabilities.iter().any(is_folder_capability)
}

fn is_folder_capability(capability: &Capability) -> bool {
    matches!(
        capability,
        Capability::ReadDir(DirScope::UserFolders) | Capability::WriteDir(DirScope::UserFolders)
    )
}

/// The capability with this key among those `manifest` declares.
fn declared_capability<'a>(manifest: &'a ToolManifest, key: &str) -> Result<&'a Capability> {
    if let Some(capability) = manifest.capabilities.iter().find(|c| c.key() == key) {
        return Ok(capability);
    }
    if manifest.capabilities.is_empty() {
        bail!(
            "unknown capability `{key}`: {} declares no capabilities",
            manifest.name
        );
    }
    bail!(
        "unknown capability `{key}` for {}; its capability keys are: {}",
        manifest.name,
        manifest
            .capabilities
            .iter()
            .map(Capability::key)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A folder as the store keeps it: absolute, canonical, UTF-8, and a directory that exists.
fn canonical_folder(path: &Path) -> Result<String> {
    let canonical = std::fs::canonicalize(path)
        .with_context(|| format!("the folder {} does not exist", path.display()))?;
    if !canonical.is_dir() {
        bail!("{} is not a folder", path.display());
    }
    canonical
        .to_str()
        .map(str::to_string)
        .with_context(|| format!("{} is not valid UTF-8", canonical.display()))
}

async fn grant(store: &Store, manifest: &ToolManifest, args: &GrantArgs) -> Result<()> {
    let name = &manifest.name;
    // Check everything first: a bad argument must change nothing.
    if let Some(setting) = args.setting {
        check_setting(manifest, setting.setting())?;
    }
    let mut capabilities = Vec::new();
    let mut already = Vec::new();
    for key in &args.capabilities {
        let capability = declared_capability(manifest, key)?;
        if is_folder_capability(capability) {
            bail!(
                "`{key}` is granted folder by folder: use `sotto tools grant {name} --folder DIR`"
            );
        }
        if manifest.source == ToolSource::BuiltIn && !capability.user_chooses_for_builtins() {
            already.push(key.as_str());
        } else {
            capabilities.push(key.as_str());
        }
    }
    if !args.folders.is_empty() && !uses_folders(manifest) {
        bail!("{name} does not use folders you choose, so it cannot be granted one");
    }
    let writes = manifest
        .capabilities
        .contains(&Capability::WriteDir(DirScope::UserFolders));
    if args.write && !writes {
        bail!("{name} only reads the folders you grant it; --write does not apply");
    }
    let folders = args
        .folders
        .iter()
        .map(|p| canonical_folder(p))
        .collect::<Result<Vec<_>>>()?;
    let before = store.tool_grants(name).await?;
    let reenable = args.setting.is_none()
        && args.capabilities.is_empty()
        && folders.is_empty()
        && before.setting == Some(ToolSettingValue::Never);
    if args.setting.is_none() && args.capabilities.is_empty() && folders.is_empty() && !reenable {
        bail!(
            "nothing to grant: give --setting, --capability or --folder \
             (`sotto tools grant --help`)"
        );
    }

    for key in &already {
        println!("{name} already has `{key}`: built-in tools come with it");
    }
    if reenable {
        store.set_tool_setting(name, None).await?;
        println!("{name} is turned back on");
    }
    if let Some(setting) = args.setting {
        let value = ToolSettingValue::parse(setting.setting().as_str())
            .context("the store does not know this setting")?;
        store.set_tool_setting(name, Some(value)).await?;
        println!("{name}: setting {}", value.as_str());
    }
    for key in &capabilities {
        store.grant_capability(name, key).await?;
        println!("{name}: granted `{key}`");
    }
    for folder in &folders {
        store.grant_folder(name, folder, args.write).await?;
        println!(
            "{name}: granted the folder {folder}{}",
            if args.write { " (read and write)" } else { "" }
        );
    }
    Ok(())
}

async fn revoke(store: &Store, manifest: &ToolManifest, args: &RevokeArgs) -> Result<()> {
    let name = &manifest.name;
    if args.all {
        store.revoke_tool(name).await?;
        println!(
            "{name}: everything forgotten; setting back to the default ({})",
            ToolSetting::default_for(manifest.risk).as_str()
        );
        return Ok(());
    }
    let before = store.tool_grants(name).await?;
    // Check everything first: a bad argument must change nothing.
    for key in &args.capabilities {
        let capability = declared_capability(manifest, key)?;
        if is_folder_capability(capability) {
            bail!(
                "`{key}` is granted folder by folder: use `sotto tools revoke {name} --folder DIR`"
            );
        }
        if manifest.source == ToolSource::BuiltIn && !capability.user_chooses_for_builtins() {
            bail!(
                "{name} is built in and always has `{key}`; to stop it running, use \
                 `sotto tools grant {name} --setting never`"
            );
        }
        if !before.capabilities.contains(key) {
            bail!("`{key}` was not granted to {name}, so there is nothing to revoke");
        }
    }
    let mut folders = Vec::new();
    for path in &args.folders {
        // A granted folder may have been deleted since; it can still be revoked by the path
        // it was granted under.
        let folder = canonical_folder(path).unwrap_or_else(|_| {
            std::path::absolute(path)
                .unwrap_or_else(|_| path.to_path_buf())
                .display()
                .to_string()
        });
        if !before.folders.iter().any(|f| f.path == folder) {
            let granted: Vec<&str> = before.folders.iter().map(|f| f.path.as_str()).collect();
            if granted.is_empty() {
                bail!("{folder} was not granted to {name}; no folder is");
            }
            bail!(
                "{folder} was not granted to {name}; its folders are: {}",
                granted.join(", ")
            );
        }
        folders.push(folder);
    }

    if args.capabilities.is_empty() && folders.is_empty() {
        let default = ToolSetting::default_for(manifest.risk).as_str();
        if before.setting.is_none() {
            println!("{name} already has the default setting ({default})");
        } else {
            store.set_tool_setting(name, None).await?;
            println!("{name}: setting back to the default ({default})");
        }
        return Ok(());
    }
    for key in &args.capabilities {
        store.revoke_capability(name, key).await?;
        println!("{name}: revoked `{key}`");
    }
    for folder in &folders {
        store.revoke_folder(name, folder).await?;
        println!("{name}: revoked the folder {folder}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sotto_tools::{Risk, SpawnScope};

    fn manifest(risk: Risk, capabilities: Vec<Capability>) -> ToolManifest {
        ToolManifest {
            name: "t".into(),
            description: String::new(),
            args_schema: json!({}),
            result_schema: json!({}),
            examples: vec![],
            templates: vec![],
            capabilities,
            risk,
            source: ToolSource::BuiltIn,
        }
    }

    #[test]
    fn the_policy_says_which_tools_always_ask() {
        let cases = [
            (Risk::ReadOnly, vec![], None),
            (Risk::ChangesLocalData, vec![], None),
            (
                Risk::ReachesOutside,
                vec![Capability::ReadDir(DirScope::UserFolders)],
                None,
            ),
            (Risk::Sends, vec![], Some("always-asks")),
            (Risk::Destructive, vec![], Some("always-asks")),
            (
                Risk::ChangesLocalData,
                vec![Capability::Spawn(SpawnScope::AnyCommand)],
                Some("runs-commands"),
            ),
        ];
        for (risk, capabilities, expected) in cases {
            let m = manifest(risk, capabilities);
            assert_eq!(always_asks(&m).map(AskReason::as_str), expected, "{risk:?}");
        }
    }

    #[test]
    fn relaxing_a_tool_that_always_asks_is_refused() {
        let sends = manifest(Risk::Sends, vec![]);
        for setting in [ToolSetting::Allow, ToolSetting::AskFirstTime] {
            let error = check_setting(&sends, setting).unwrap_err().to_string();
            assert!(error.contains("always asks"), "{error}");
            assert!(error.contains(setting.as_str()), "{error}");
        }
        for setting in [ToolSetting::AlwaysAsk, ToolSetting::Never] {
            check_setting(&sends, setting).unwrap();
        }
        check_setting(
            &manifest(Risk::ChangesLocalData, vec![]),
            ToolSetting::Allow,
        )
        .unwrap();
    }

    #[test]
    fn close_matches_cover_typos_and_parts() {
        let names = ["compose_email", "note_create", "note_read", "timer_start"];
        let check = |wanted: &str, expected: &[&str]| {
            assert_eq!(close_matches(names, wanted), expected, "{wanted}");
        };
        check("note_craete", &["note_create"]);
        check("email", &["compose_email"]);
        // A near-exact name is the only suggestion.
        check("note-read", &["note_read"]);
        check("xyzzy", &[]);
    }

    #[test]
    fn schema_types_in_words() {
        let cases = [
            (json!({"type": "string"}), "string"),
            (json!({"type": ["string", "null"]}), "string"),
            (
                json!({"type": "array", "items": {"type": "string"}}),
                "array of string",
            ),
            (json!({"enum": ["up", "down"]}), "one of up|down"),
            (
                json!({"oneOf": [{"const": "play"}, {"const": "pause"}]}),
                "one of play|pause",
            ),
            (
                json!({"anyOf": [{"type": "integer"}, {"type": "null"}]}),
                "integer",
            ),
            (json!({}), "any"),
        ];
        for (schema, expected) in cases {
            assert_eq!(type_text(&schema), expected, "{schema}");
        }
    }

    #[test]
    fn first_sentences() {
        assert_eq!(first_sentence("Opens it. Never sends."), "Opens it.");
        assert_eq!(first_sentence("One only."), "One only.");
    }
}
