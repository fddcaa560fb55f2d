//! Reading what this user has, for the personal model: the tools' phrasings, the contacts'
//! names, the installed applications, the note titles, the recent transcripts and the custom
//! words. Each source that cannot be read is a warning and an empty list: a damaged contact
//! card or a locked database makes the model a little less personal, never absent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sotto_sandbox::HostEnv;
use sotto_tools::{Registry, ToolManifest};

use super::{Sources, ToolPhrases};
use crate::app::App;

/// How many of the newest history transcripts go into the model.
pub const HISTORY_TRANSCRIPTS: i64 = 500;

/// Gathers every source for `app`'s user. Applications come from the process's XDG
/// environment.
pub async fn gather(app: &App) -> Sources {
    let data = &app.settings.dirs.data;
    Sources {
        tools: tools(app)
            .await
            .iter()
            .map(ToolPhrases::from_manifest)
            .collect(),
        contacts: contacts(&data.join("contacts")),
        apps: applications(&HostEnv::from_process()),
        note_titles: note_titles(&data.join("notes")),
        history: history(app).await,
        custom: app.settings.config.speech.vocabulary.clone(),
    }
}

/// Every tool Sotto can call now; the built-ins alone when the plugins cannot be listed.
async fn tools(app: &App) -> Vec<ToolManifest> {
    match crate::plugins::toolbox(app).await {
        Ok(toolbox) => toolbox.manifests(),
        Err(e) => {
            tracing::warn!("personal vocabulary: plugins left out ({e:#}); built-in tools only");
            let mut registry = Registry::new();
            if let Err(e) = sotto_builtins::register_all(&mut registry) {
                tracing::warn!("personal vocabulary: no tool phrasings ({e})");
            }
            registry.manifests().cloned().collect()
        }
    }
}

async fn history(app: &App) -> Vec<String> {
    let entries = match app.store().await {
        Ok(store) => store.history(HISTORY_TRANSCRIPTS, None).await,
        Err(e) => {
            tracing::warn!("personal vocabulary: history left out ({e:#})");
            return Vec::new();
        }
    };
    match entries {
        Ok(entries) => entries
            .into_iter()
            .filter_map(|e| e.transcript)
            .filter(|t| !t.trim().is_empty())
            .collect(),
        Err(e) => {
            tracing::warn!("personal vocabulary: history left out ({e})");
            Vec::new()
        }
    }
}

/// The files in `dir` whose names end in `extension`, sorted. A folder that does not exist
/// yet is simply empty (the user has none of these); any other failure is a warning.
fn files_in(dir: &Path, extension: &str, what: &str) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::debug!("personal vocabulary: no {what} folder at {}", dir.display());
            return Vec::new();
        }
        Err(e) => {
            tracing::warn!(
                "personal vocabulary: {what} left out: cannot read {}: {e}",
                dir.display()
            );
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|e| e == extension)
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

fn read_text(path: &Path, what: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .map_err(|e| {
            tracing::warn!(
                "personal vocabulary: skipping {what} {}: {e}",
                path.display()
            )
        })
        .ok()
}

/// Names and nicknames from the vCards in Sotto's contacts folder (one file per person, as
/// `contacts_import` stores them), sorted, each once.
pub fn contacts(dir: &Path) -> Vec<String> {
    let mut names = Names::default();
    for file in files_in(dir, "vcf", "contacts") {
        let Some(text) = read_text(&file, "contact card") else {
            continue;
        };
        for card in sotto_builtins::parse_vcards(&text) {
            names.add(&card.contact.name);
            card.contact.nicknames.iter().for_each(|n| names.add(n));
        }
    }
    names.into_sorted()
}

/// Titles of the notes in Sotto's notes folder: a note's `# Title` first line, else its
/// file name with dashes as spaces (as the notes tools read them).
pub fn note_titles(dir: &Path) -> Vec<String> {
    let mut titles = Names::default();
    for file in files_in(dir, "md", "notes") {
        let Some(text) = read_text(&file, "note") else {
            continue;
        };
        let first = text.lines().next().unwrap_or_default();
        match first.strip_prefix("# ") {
            Some(title) => titles.add(title),
            None => {
                let slug = file.file_stem().unwrap_or_default().to_string_lossy();
                titles.add(&slug.replace('-', " "));
            }
        }
    }
    titles.into_sorted()
}

/// Names of the applications in the XDG data folders' `applications` directories, as the
/// desktop spec orders them (the user's folder first; for one desktop file id the first
/// folder wins, and `Hidden=true` there hides it everywhere). Entries that are not
/// applications or are `NoDisplay=true` are left out.
pub fn applications(env: &HostEnv) -> Vec<String> {
    let mut roots: Vec<PathBuf> = env.data_home().into_iter().collect();
    roots.extend(env.data_dirs());
    let mut seen = BTreeSet::new();
    let mut names = Names::default();
    for root in roots {
        let dir = root.join("applications");
        let mut files = Vec::new();
        desktop_files(&dir, &dir, 0, &mut files);
        for (id, path) in files {
            if !seen.insert(id.clone()) {
                continue;
            }
            let Some(text) = read_text(&path, "application entry") else {
                continue;
            };
            let Some(entry) = sotto_builtins::desktop::parse_entry(&id, &text) else {
                continue;
            };
            if entry.is_application && !entry.hidden && !entry.no_display {
                names.add(&entry.name);
            }
        }
    }
    names.into_sorted()
}

/// `.desktop` files under `dir` (three levels at most), with their desktop file ids (the
/// path under `applications/` with `/` as `-`), sorted by id.
fn desktop_files(root: &Path, dir: &Path, depth: usize, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut found: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    found.sort();
    for path in found {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            if depth < 2 {
                desktop_files(root, &path, depth + 1, out);
            }
        } else if path.extension().is_some_and(|e| e == "desktop") {
            if let Ok(relative) = path.strip_prefix(root) {
                let id = relative.to_string_lossy().replace('/', "-");
                out.push((id, path));
            }
        }
    }
}

/// Names with surrounding space trimmed, each once (case-insensitively), sorted.
#[derive(Debug, Default)]
struct Names(std::collections::BTreeMap<String, String>);

impl Names {
    fn add(&mut self, name: &str) {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if !name.is_empty() {
            self.0.entry(name.to_lowercase()).or_insert(name);
        }
    }

    fn into_sorted(self) -> Vec<String> {
        self.0.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn contacts_names_and_nicknames_from_vcards() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("siobhan-murphy.vcf"),
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Siobhan Murphy\r\nNICKNAME:Shiv\r\nEND:VCARD\r\n",
        );
        write(
            &dir.path().join("team.vcf"),
            "BEGIN:VCARD\nN:Okafor;Ngozi;;;\nEND:VCARD\nBEGIN:VCARD\nFN:siobhan murphy\nEND:VCARD\n",
        );
        write(&dir.path().join("notes.txt"), "FN:Not A Card");
        assert_eq!(
            contacts(dir.path()),
            ["Ngozi Okafor", "Shiv", "Siobhan Murphy"]
        );
        assert!(contacts(&dir.path().join("absent")).is_empty());
    }

    #[test]
    fn note_titles_from_first_lines_or_file_names() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("roadmap.md"),
            "# Quarterly roadmap\n\nQ3 goals\n",
        );
        write(&dir.path().join("kitchen-renovation.md"), "tiles, paint\n");
        write(&dir.path().join(".hidden.md"), "# Secret\n");
        assert_eq!(
            note_titles(dir.path()),
            ["kitchen renovation", "Quarterly roadmap"]
        );
    }

    #[test]
    fn applications_in_xdg_order_without_hidden_or_helpers() {
        let home = tempfile::tempdir().unwrap();
        let system = tempfile::tempdir().unwrap();
        let entry = |name: &str, extra: &str| {
            format!("[Desktop Entry]\nType=Application\nName={name}\nExec=x\n{extra}")
        };
        let user_apps = home.path().join("applications");
        let system_apps = system.path().join("applications");
        write(
            &user_apps.join("org.inkscape.Inkscape.desktop"),
            &entry("Inkscape", ""),
        );
        // The user's Hidden entry hides the system one with the same id.
        write(
            &user_apps.join("gimp.desktop"),
            &entry("GIMP", "Hidden=true\n"),
        );
        write(&system_apps.join("gimp.desktop"), &entry("GIMP", ""));
        write(
            &system_apps.join("helper.desktop"),
            &entry("Helper", "NoDisplay=true\n"),
        );
        write(
            &system_apps.join("kde/org.kde.krita.desktop"),
            &entry("Krita", ""),
        );
        write(
            &system_apps.join("link.desktop"),
            "[Desktop Entry]\nType=Link\nName=A Link\nURL=https://example.org\n",
        );
        write(&system_apps.join("readme.txt"), &entry("Not An App", ""));
        let env = HostEnv::from_lookup(|key| match key {
            "XDG_DATA_HOME" => Some(home.path().into()),
            "XDG_DATA_DIRS" => Some(system.path().into()),
            _ => None,
        });
        assert_eq!(applications(&env), ["Inkscape", "Krita"]);
    }
}
