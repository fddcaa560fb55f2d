//! `find_files` and `open_path`: the user's files, only inside the folders they granted.
//!
//! Both see the granted folders as `cap-std` handles: a name, a pattern or a path from the
//! request can never reach outside them, and symlinks are listed but never followed.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_sandbox::{Arg, SafePath, ScopedDir, WalkLimits};
use sotto_tools::{
    Capability, DirScope, Example, Reply, Risk, ToolContext, ToolError, ToolInfo, TypedTool,
};

use crate::web::{open_with_desktop, opener};

/// Files larger than this are not searched for content.
const MAX_CONTENT_BYTES: u64 = 2 * 1024 * 1024;

#[derive(Debug)]
pub struct FindFiles;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindFilesArgs {
    /// Part of the file name, or a pattern with `*` and `?` (case-insensitive).
    #[serde(default)]
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    /// Text the file must contain (case-insensitive; text files up to 2 MB).
    #[serde(default)]
    #[schemars(length(min = 1, max = 200))]
    pub content: Option<String>,
    /// At most this many results (default 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FoundFile {
    /// The full path.
    pub path: String,
    /// The granted folder it is in.
    pub folder: String,
    pub bytes: u64,
    /// For content searches: the first matching line.
    pub line: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FindFilesResult {
    pub files: Vec<FoundFile>,
    /// The search stopped early (result limit, or a very large folder).
    pub truncated: bool,
}

/// Matches a file name against a pattern: with `*`/`?` a glob over the whole name,
/// otherwise a substring; both case-insensitive.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let name: Vec<char> = name.to_lowercase().chars().collect();
    if !pattern.iter().any(|c| matches!(c, '*' | '?')) {
        return name
            .windows(pattern.len().max(1))
            .any(|w| w == pattern.as_slice())
            || pattern.is_empty();
    }
    // Iterative glob with backtracking to the last `*`: linear in practice, no recursion.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

fn search_folder(
    dir: &ScopedDir,
    name: Option<&str>,
    content: Option<&str>,
    limit: usize,
    found: &mut Vec<FoundFile>,
) -> bool {
    let (entries, mut truncated) = dir.walk(WalkLimits::default());
    let content = content.map(str::to_lowercase);
    for entry in entries {
        if !entry.is_file {
            continue;
        }
        let file_name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
        if name.is_some_and(|pattern| !name_matches(pattern, file_name)) {
            continue;
        }
        let mut line = None;
        if let Some(needle) = &content {
            if entry.len > MAX_CONTENT_BYTES {
                continue;
            }
            let Ok((bytes, _)) = dir.read_prefix(&entry.path, MAX_CONTENT_BYTES) else {
                continue;
            };
            if bytes.contains(&0) {
                continue; // binary
            }
            let text = String::from_utf8_lossy(&bytes);
            match text.lines().find(|l| l.to_lowercase().contains(needle)) {
                Some(l) => line = Some(l.trim().chars().take(160).collect()),
                None => continue,
            }
        }
        if found.len() >= limit {
            truncated = true;
            break;
        }
        found.push(FoundFile {
            path: dir.display_path(&entry.path).display().to_string(),
            folder: dir.root().display().to_string(),
            bytes: entry.len,
            line,
        });
    }
    truncated
}

impl TypedTool for FindFiles {
    type Args = FindFilesArgs;
    type Output = FindFilesResult;

    fn templates(&self) -> &'static [&'static str] {
        &["find the file (named|called) {name}"]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "find_files",
            description: "Finds files by name or by content in the folders the user allowed.",
            examples: vec![
                Example::new("find my tax return pdf", json!({"name": "tax*.pdf"})),
                Example::new("where is the file called budget", json!({"name": "budget"})),
                Example::new(
                    "which files mention the invoice number 4411",
                    json!({"content": "4411"}),
                ),
                Example::new(
                    "find markdown files that talk about kubernetes",
                    json!({"name": "*.md", "content": "kubernetes"}),
                ),
            ],
            capabilities: vec![Capability::ReadDir(DirScope::UserFolders)],
            risk: Risk::ReadOnly,
        }
    }

    async fn run(
        &self,
        args: FindFilesArgs,
        context: &ToolContext,
    ) -> Result<Reply<FindFilesResult>, ToolError> {
        if args.name.is_none() && args.content.is_none() {
            return Err(ToolError::Refused(
                "say what to look for: part of the name, or some text in the file".into(),
            ));
        }
        let limit = args.limit.unwrap_or(20) as usize;
        let folders = context
            .user_folders()?
            .iter()
            .map(ScopedDir::try_clone)
            .collect::<Result<Vec<_>, _>>()?;
        // Walking a large folder takes a while; keep it off the async workers.
        let (files, truncated) = tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            let mut truncated = false;
            for dir in &folders {
                truncated |= search_folder(
                    dir,
                    args.name.as_deref(),
                    args.content.as_deref(),
                    limit,
                    &mut found,
                );
                if found.len() >= limit {
                    break;
                }
            }
            (found, truncated)
        })
        .await
        .map_err(|e| ToolError::Failed(format!("the search stopped: {e}")))?;
        let summary = match files.len() {
            0 => "I found no matching files.".to_string(),
            1 => format!("I found {}.", files[0].path),
            n => format!(
                "I found {n} files{}.",
                if truncated {
                    " (and stopped there)"
                } else {
                    ""
                }
            ),
        };
        Ok(Reply::new(FindFilesResult { files, truncated }, summary))
    }
}

#[derive(Debug)]
pub struct OpenPath;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenPathArgs {
    /// A file or folder: a full path inside an allowed folder, or a path relative to one.
    #[schemars(length(min = 1, max = 4000))]
    pub path: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OpenedPath {
    pub path: String,
    pub is_folder: bool,
}

/// File types that a desktop opener may run rather than show; opening them is refused.
const RUNNABLE_EXTENSIONS: &[&str] = &[
    "desktop",
    "sh",
    "bash",
    "run",
    "bin",
    "appimage",
    "exe",
    "msi",
    "bat",
    "cmd",
    "jar",
    "py",
    "pl",
    "rb",
    "deb",
    "rpm",
    "flatpakref",
];

/// Finds which granted folder `path` is in and the path relative to it.
pub(crate) fn locate<'d>(
    folders: &'d [ScopedDir],
    path: &str,
) -> Result<(&'d ScopedDir, String), ToolError> {
    let given = Path::new(path.trim());
    if given.is_absolute() {
        // Canonicalise the parent lexically through the granted roots: the roots are already
        // canonical, so a plain prefix test is exact; cap-std checks the rest.
        for dir in folders {
            if let Ok(rest) = given.strip_prefix(dir.root()) {
                let rest = rest.to_string_lossy().into_owned();
                return Ok((dir, if rest.is_empty() { ".".into() } else { rest }));
            }
        }
        return Err(ToolError::Refused(format!(
            "{path} is not inside a folder you allowed ({})",
            folders
                .iter()
                .map(|d| d.root().display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for dir in folders {
        if dir.exists(path)? {
            return Ok((dir, path.to_string()));
        }
    }
    Err(ToolError::Refused(format!(
        "there is no {path} in the folders you allowed"
    )))
}

impl TypedTool for OpenPath {
    type Args = OpenPathArgs;
    type Output = OpenedPath;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "open_path",
            description:
                "Opens a file or folder from the allowed folders in its usual application.",
            examples: vec![
                Example::new(
                    "open the report.pdf in my documents",
                    json!({"path": "report.pdf"}),
                ),
                Example::new("show the photos folder", json!({"path": "photos"})),
                Example::new(
                    "open /home/me/Documents/budget.ods",
                    json!({"path": "/home/me/Documents/budget.ods"}),
                ),
            ],
            capabilities: vec![Capability::ReadDir(DirScope::UserFolders), opener()],
            risk: Risk::ReachesOutside,
        }
    }

    async fn run(
        &self,
        args: OpenPathArgs,
        context: &ToolContext,
    ) -> Result<Reply<OpenedPath>, ToolError> {
        let folders = context.user_folders()?;
        let (dir, relative) = locate(folders, &args.path)?;
        // The cap-std lookup refuses `..`, absolute paths and symlinks that leave the folder.
        let info = if relative == "." {
            None
        } else {
            let parent = Path::new(&relative)
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| ".".into());
            let name = Path::new(&relative)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !dir.exists(&relative)? {
                return Err(ToolError::Refused(format!("there is no {}", args.path)));
            }
            dir.list(&parent)?
                .into_iter()
                .find(|e| e.path.rsplit('/').next() == Some(name.as_str()))
        };
        let is_folder = info.as_ref().is_none_or(|e| e.is_dir);
        if let Some(entry) = &info {
            let extension = Path::new(&entry.path)
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if entry.is_symlink {
                return Err(ToolError::Refused(format!(
                    "{} is a link; open the file it points to instead",
                    args.path
                )));
            }
            if RUNNABLE_EXTENSIONS.contains(&extension.as_str()) {
                return Err(ToolError::Refused(format!(
                    "{} is a program or launcher; Sotto opens documents and folders, not programs",
                    args.path
                )));
            }
        }
        let full = dir.display_path(&relative);
        let full = if relative == "." {
            dir.root().to_path_buf()
        } else {
            full
        };
        open_with_desktop(context, Arg::Path(SafePath::new(&full)?)).await?;
        Ok(Reply::new(
            OpenedPath {
                path: full.display().to_string(),
                is_folder,
            },
            format!("Opened {}.", full.display()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::name_matches;

    #[test]
    fn patterns() {
        for (pattern, name, expected) in [
            ("budget", "Budget-2026.ods", true),
            ("tax*.pdf", "Tax return 2025.PDF", true),
            ("tax*.pdf", "my tax.pdf", false),
            ("*.md", "notes.md", true),
            ("*.md", "notes.mdx", false),
            ("?.txt", "a.txt", true),
            ("?.txt", "ab.txt", false),
            ("*a*b*c*", "xxaxxbxxcxx", true),
            ("*", "anything", true),
            ("report", "rep", false),
        ] {
            assert_eq!(name_matches(pattern, name), expected, "{pattern} {name}");
        }
        // No blow-up on pathological patterns.
        let long = "a".repeat(5000);
        assert!(!name_matches(&format!("{}b", "*a".repeat(50)), &long));
    }
}
