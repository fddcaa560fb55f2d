//! Notes: `note_create`, `note_append`, `note_read`, `note_list`, `note_search`.
//!
//! Stored as Markdown files in Sotto's `notes` folder (`<data>/notes/<slug>.md`, first line
//! `# Title`), not in SQLite: notes are the user's documents, not Sotto's history. As plain
//! files they open in any editor, sync and back up with everything else, and survive a reset
//! of Sotto's database. Access goes through the `cap-std` handle of that one folder, like any
//! other tool's files. Search scans the files, which is instant for the hundreds of notes a
//! person keeps. A note's text is data: it is stored and returned verbatim, never read as an
//! instruction.

use std::time::SystemTime;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_sandbox::ScopedDir;
use sotto_tools::{
    Capability, DirScope, Example, Reply, Risk, ToolContext, ToolError, ToolInfo, TypedTool,
};

const FOLDER: &str = "notes";
const MAX_SEARCH_RESULTS: usize = 50;

fn read_notes() -> Capability {
    Capability::ReadDir(DirScope::Sotto {
        folder: FOLDER.into(),
    })
}
fn write_notes() -> Capability {
    Capability::WriteDir(DirScope::Sotto {
        folder: FOLDER.into(),
    })
}

/// The file name for a title: lowercase letters and digits (any script), words joined by
/// `-`, at most 60 characters. `None` when nothing usable is left.
pub(crate) fn slug(title: &str) -> Option<String> {
    let mut out = String::new();
    for c in title.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.chars().count() >= 60 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    (!out.is_empty()).then_some(out)
}

fn file_name(slug: &str) -> String {
    format!("{slug}.md")
}

/// A stored note, split into its title line and body.
struct Note {
    slug: String,
    title: String,
    body: String,
    modified: Option<SystemTime>,
}

fn parse(slug: &str, text: &str, modified: Option<SystemTime>) -> Note {
    let (title, body) = match text.strip_prefix("# ") {
        Some(rest) => {
            let (title, body) = rest.split_once('\n').unwrap_or((rest, ""));
            (title.trim().to_string(), body.trim_start_matches('\n'))
        }
        None => (slug.replace('-', " "), text),
    };
    Note {
        slug: slug.to_string(),
        title,
        body: body.trim_end().to_string(),
        modified,
    }
}

fn all_notes(dir: &ScopedDir) -> Result<Vec<Note>, ToolError> {
    let mut notes = Vec::new();
    for entry in dir.list(".")? {
        let Some(slug) = entry.path.strip_suffix(".md") else {
            continue;
        };
        if !entry.is_file || slug.starts_with('.') {
            continue;
        }
        let text = dir.read_to_string(&entry.path)?;
        notes.push(parse(slug, &text, entry.modified));
    }
    Ok(notes)
}

/// Finds the note a title means: the exact slug, else the only note whose slug contains it.
/// `None` when no note matches; an error when several do.
fn find(dir: &ScopedDir, title: &str) -> Result<Option<Note>, ToolError> {
    let wanted = slug(title).ok_or_else(|| no_title(title))?;
    let name = file_name(&wanted);
    if dir.exists(&name)? {
        let modified = dir
            .list(".")?
            .into_iter()
            .find(|e| e.path == name)
            .and_then(|e| e.modified);
        return Ok(Some(parse(&wanted, &dir.read_to_string(&name)?, modified)));
    }
    let mut candidates: Vec<Note> = all_notes(dir)?
        .into_iter()
        .filter(|n| n.slug.contains(&wanted))
        .collect();
    match candidates.len() {
        0 => Ok(None),
        1 => Ok(Some(candidates.remove(0))),
        _ => Err(ToolError::Refused(format!(
            "several notes match \"{title}\": {}",
            candidates
                .iter()
                .map(|n| format!("\"{}\"", n.title))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn no_title(title: &str) -> ToolError {
    ToolError::Refused(format!(
        "\"{title}\" cannot name a note: a title needs letters or digits"
    ))
}

fn timestamp(time: Option<SystemTime>) -> Option<String> {
    let time = jiff::Timestamp::try_from(time?).ok()?;
    Some(time.round(jiff::Unit::Second).ok()?.to_string())
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NoteContent {
    pub title: String,
    pub text: String,
    /// Where the note is stored.
    pub path: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteWriteArgs {
    /// The note's title, e.g. `shopping list`.
    #[schemars(length(min = 1, max = 200))]
    pub title: String,
    /// The text to store.
    #[schemars(length(min = 1, max = 100000))]
    pub text: String,
}

#[derive(Debug)]
pub struct NoteCreate;

impl TypedTool for NoteCreate {
    type Args = NoteWriteArgs;
    type Output = NoteContent;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "note_create",
            description: "Creates a new note with a title and text.",
            examples: vec![
                Example::new(
                    "make a note called packing list: passport, charger, socks",
                    json!({"title": "packing list", "text": "passport, charger, socks"}),
                ),
                Example::new(
                    "take a note: the wifi password is on the fridge",
                    json!({"title": "wifi password", "text": "the wifi password is on the fridge"}),
                ),
                Example::new(
                    "create a note named ideas with build a treehouse",
                    json!({"title": "ideas", "text": "build a treehouse"}),
                ),
            ],
            capabilities: vec![read_notes(), write_notes()],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        args: NoteWriteArgs,
        context: &ToolContext,
    ) -> Result<Reply<NoteContent>, ToolError> {
        let dir = context.sotto_dir(FOLDER)?;
        let slug = slug(&args.title).ok_or_else(|| no_title(&args.title))?;
        let name = file_name(&slug);
        let title = args.title.trim().to_string();
        let text = args.text.trim_end().to_string();
        match dir.create_new(&name, format!("# {title}\n\n{text}\n").as_bytes()) {
            Err(sotto_sandbox::SandboxError::AlreadyExists { .. }) => {
                return Err(ToolError::Refused(format!(
                    "a note called \"{title}\" already exists; add to it instead"
                )))
            }
            other => other?,
        }
        let summary = format!("Created the note \"{title}\".");
        Ok(Reply::new(
            NoteContent {
                title,
                text,
                path: dir.display_path(&name).display().to_string(),
            },
            summary,
        ))
    }
}

#[derive(Debug)]
pub struct NoteAppend;

#[derive(Debug, Serialize, JsonSchema)]
pub struct NoteAppendResult {
    pub title: String,
    /// The note did not exist and was created.
    pub created: bool,
    pub path: String,
}

impl TypedTool for NoteAppend {
    type Args = NoteWriteArgs;
    type Output = NoteAppendResult;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "note_append",
            description: "Adds text to the end of a note, creating the note if it does not exist.",
            examples: vec![
                Example::new(
                    "add milk to my shopping list",
                    json!({"title": "shopping list", "text": "milk"}),
                ),
                Example::new(
                    "append call the plumber to the todo note",
                    json!({"title": "todo", "text": "call the plumber"}),
                ),
                Example::new(
                    "put eggs and flour on the groceries note",
                    json!({"title": "groceries", "text": "eggs and flour"}),
                ),
            ],
            capabilities: vec![read_notes(), write_notes()],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        args: NoteWriteArgs,
        context: &ToolContext,
    ) -> Result<Reply<NoteAppendResult>, ToolError> {
        let dir = context.sotto_dir(FOLDER)?;
        let text = args.text.trim_end();
        let (slug, title, created) = match find(dir, &args.title)? {
            Some(note) => (note.slug, note.title, false),
            None => {
                let slug = slug(&args.title).ok_or_else(|| no_title(&args.title))?;
                let title = args.title.trim().to_string();
                match dir.create_new(&file_name(&slug), format!("# {title}\n\n").as_bytes()) {
                    Ok(()) | Err(sotto_sandbox::SandboxError::AlreadyExists { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                (slug, title, true)
            }
        };
        let name = file_name(&slug);
        dir.append(&name, format!("{text}\n").as_bytes())?;
        let summary = if created {
            format!("Started the note \"{title}\" with that.")
        } else {
            format!("Added that to \"{title}\".")
        };
        Ok(Reply::new(
            NoteAppendResult {
                title,
                created,
                path: dir.display_path(&name).display().to_string(),
            },
            summary,
        ))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteTitleArgs {
    /// The note's title, or a distinctive part of it.
    #[schemars(length(min = 1, max = 200))]
    pub title: String,
}

#[derive(Debug)]
pub struct NoteRead;

impl TypedTool for NoteRead {
    type Args = NoteTitleArgs;
    type Output = NoteContent;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "read [me] my note (called|named|titled) {title}",
            "read [me] my {title} note",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "note_read",
            description: "Reads a note by its title.",
            examples: vec![
                Example::new("read my shopping list", json!({"title": "shopping list"})),
                Example::new("what's in the packing note", json!({"title": "packing"})),
                Example::new("show me the note about ideas", json!({"title": "ideas"})),
            ],
            capabilities: vec![read_notes()],
            risk: Risk::ReadOnly,
        }
    }

    async fn run(
        &self,
        args: NoteTitleArgs,
        context: &ToolContext,
    ) -> Result<Reply<NoteContent>, ToolError> {
        let dir = context.sotto_dir(FOLDER)?;
        let note = find(dir, &args.title)?.ok_or_else(|| {
            ToolError::Refused(format!("there is no note called \"{}\"", args.title.trim()))
        })?;
        let summary = format!("The note \"{}\" says: {}", note.title, note.body);
        Ok(Reply::new(
            NoteContent {
                path: dir
                    .display_path(&file_name(&note.slug))
                    .display()
                    .to_string(),
                title: note.title,
                text: note.body,
            },
            summary,
        ))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NoteSummary {
    pub title: String,
    /// RFC 3339, UTC.
    pub modified: Option<String>,
    pub characters: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NoteListResult {
    /// Most recently changed first.
    pub notes: Vec<NoteSummary>,
}

#[derive(Debug)]
pub struct NoteList;

impl TypedTool for NoteList {
    type Args = NoArgs;
    type Output = NoteListResult;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "(list|show) [me] [all] my notes",
            "what notes do i have",
            "(list|show) [me] a list of [all] my notes",
            "which notes have i got",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "note_list",
            description: "Lists all notes, most recently changed first.",
            examples: vec![
                Example::new("what notes do I have", json!({})),
                Example::new("list my notes", json!({})),
                Example::new("show all notes", json!({})),
            ],
            capabilities: vec![read_notes()],
            risk: Risk::ReadOnly,
        }
    }

    async fn run(
        &self,
        _: NoArgs,
        context: &ToolContext,
    ) -> Result<Reply<NoteListResult>, ToolError> {
        let dir = context.sotto_dir(FOLDER)?;
        let mut notes = all_notes(dir)?;
        notes.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.title.cmp(&b.title)));
        let summary = match notes.len() {
            0 => "You have no notes.".to_string(),
            n => format!(
                "You have {n} note{}: {}.",
                if n == 1 { "" } else { "s" },
                notes
                    .iter()
                    .map(|n| n.title.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let notes = notes
            .into_iter()
            .map(|n| NoteSummary {
                characters: n.body.chars().count(),
                modified: timestamp(n.modified),
                title: n.title,
            })
            .collect();
        Ok(Reply::new(NoteListResult { notes }, summary))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteSearchArgs {
    /// Words to look for in titles and text (case-insensitive).
    #[schemars(length(min = 1, max = 200))]
    pub query: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NoteMatch {
    pub title: String,
    /// The first line that matches (or the title).
    pub line: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NoteSearchResult {
    pub matches: Vec<NoteMatch>,
}

#[derive(Debug)]
pub struct NoteSearch;

impl TypedTool for NoteSearch {
    type Args = NoteSearchArgs;
    type Output = NoteSearchResult;

    fn templates(&self) -> &'static [&'static str] {
        &["search [my|the] notes for {query}"]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "note_search",
            description: "Searches the titles and text of all notes.",
            examples: vec![
                Example::new(
                    "which note mentions the dentist",
                    json!({"query": "dentist"}),
                ),
                Example::new("search my notes for passport", json!({"query": "passport"})),
                Example::new("find notes about the garden", json!({"query": "garden"})),
            ],
            capabilities: vec![read_notes()],
            risk: Risk::ReadOnly,
        }
    }

    async fn run(
        &self,
        args: NoteSearchArgs,
        context: &ToolContext,
    ) -> Result<Reply<NoteSearchResult>, ToolError> {
        let dir = context.sotto_dir(FOLDER)?;
        let query = args.query.trim().to_lowercase();
        let mut matches = Vec::new();
        for note in all_notes(dir)? {
            let line = note
                .body
                .lines()
                .find(|l| l.to_lowercase().contains(&query))
                .map(str::trim)
                .or_else(|| note.title.to_lowercase().contains(&query).then_some(""));
            if let Some(line) = line {
                let line = if line.is_empty() {
                    note.title.clone()
                } else {
                    line.to_string()
                };
                matches.push(NoteMatch {
                    title: note.title,
                    line: line.chars().take(200).collect(),
                });
            }
            if matches.len() >= MAX_SEARCH_RESULTS {
                break;
            }
        }
        let summary = match matches.len() {
            0 => format!("No note mentions \"{}\".", args.query.trim()),
            n => format!(
                "{n} note{} mention{} \"{}\": {}.",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
                args.query.trim(),
                matches
                    .iter()
                    .map(|m| m.title.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Ok(Reply::new(NoteSearchResult { matches }, summary))
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs() {
        assert_eq!(slug("Shopping List").as_deref(), Some("shopping-list"));
        assert_eq!(slug("  ../../etc/passwd ").as_deref(), Some("etc-passwd"));
        assert_eq!(slug("Café — idées!").as_deref(), Some("café-idées"));
        assert_eq!(slug("日記").as_deref(), Some("日記"));
        assert_eq!(slug("!!!"), None);
        assert_eq!(slug(&"a".repeat(200)).map(|s| s.len()), Some(60));
    }
}
