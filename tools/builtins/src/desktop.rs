//! Reading freedesktop `.desktop` entries (Desktop Entry Specification 1.5) and turning an
//! `Exec` line into a program and arguments, without a shell.
//!
//! Written by hand rather than with `freedesktop-desktop-entry`: that crate pulls in gettext
//! through a C library by default, and the part we need, safe `Exec` expansion, is exactly
//! the part we want to own. Field codes are expanded as the spec says, but Sotto never passes
//! files or URLs through them (`%f %F %u %U` expand to nothing), so nothing from a request
//! ever reaches the command line of an application.

use std::collections::BTreeMap;

/// The `[Desktop Entry]` group of one file, as far as launching needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopEntry {
    /// The desktop file id: the path under `applications/` with `/` turned into `-`.
    pub id: String,
    pub name: String,
    pub generic_name: Option<String>,
    pub keywords: Vec<String>,
    pub exec: Option<String>,
    pub icon: Option<String>,
    pub terminal: bool,
    /// `NoDisplay=true`: a helper not meant for menus.
    pub no_display: bool,
    /// `Hidden=true`: deleted by the user; must be treated as absent.
    pub hidden: bool,
    pub is_application: bool,
}

/// Parses the text of a `.desktop` file. `None` if it has no `[Desktop Entry]` group or no
/// `Name`. Localised keys (`Name[fr]`) are ignored.
pub fn parse_entry(id: &str, text: &str) -> Option<DesktopEntry> {
    let mut in_main = false;
    let mut keys: BTreeMap<&str, String> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            in_main = line == "[Desktop Entry]";
            continue;
        }
        if !in_main {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let key = key.trim();
            if !key.contains('[') {
                keys.entry(key)
                    .or_insert_with(|| unescape_string(value.trim()));
            }
        }
    }
    let boolean = |key: &str| keys.get(key).is_some_and(|v| v == "true");
    Some(DesktopEntry {
        id: id.to_string(),
        name: keys.get("Name")?.clone(),
        generic_name: keys.get("GenericName").cloned(),
        keywords: keys
            .get("Keywords")
            .map(|k| {
                k.split(';')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        exec: keys.get("Exec").cloned(),
        icon: keys.get("Icon").cloned(),
        terminal: boolean("Terminal"),
        no_display: boolean("NoDisplay"),
        hidden: boolean("Hidden"),
        is_application: keys.get("Type").is_some_and(|t| t == "Application"),
    })
}

/// The spec's escapes for values of type string: `\s \n \t \r \\`.
fn unescape_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push(' '),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                // Not a string escape: keep it for the Exec quoting rules.
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Splits an `Exec` value into arguments by the spec's quoting rules and expands field codes.
/// Returns the program and its arguments, or why the line is unusable.
pub fn expand_exec(entry: &DesktopEntry, file_path: &str) -> Result<(String, Vec<String>), String> {
    let exec = entry.exec.as_deref().ok_or("the entry has no Exec line")?;
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = exec.chars();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' => quoted = false,
                '\\' => match chars.next() {
                    Some(e @ ('"' | '`' | '$' | '\\')) => current.push(e),
                    _ => return Err("a backslash in quotes escapes nothing".into()),
                },
                _ => current.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                in_word = true;
            }
            ' ' | '\t' => {
                if in_word {
                    words.push((std::mem::take(&mut current), false));
                    in_word = false;
                }
            }
            // Reserved characters outside quotes: the spec says such lines are invalid, and
            // accepting them would invite shell-like readings.
            '\\' | '`' | '$' | '\'' | '>' | '<' | '|' | '&' | ';' | '*' | '?' | '#' | '(' | ')' => {
                return Err(format!("`{c}` must be quoted in an Exec line"));
            }
            '%' => {
                in_word = true;
                current.push('%');
                current.push(chars.next().ok_or("a lone % ends the Exec line")?);
            }
            _ => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if quoted {
        return Err("a quote is never closed in the Exec line".into());
    }
    if in_word {
        words.push((current, false));
    }
    let mut args = Vec::new();
    for (word, _) in words {
        match word.as_str() {
            "%f" | "%F" | "%u" | "%U" | "%d" | "%D" | "%n" | "%N" | "%v" | "%m" => continue,
            "%i" => {
                if let Some(icon) = &entry.icon {
                    args.push("--icon".to_string());
                    args.push(icon.clone());
                }
                continue;
            }
            _ => {}
        }
        args.push(expand_codes(&word, entry, file_path)?);
    }
    if args.is_empty() {
        return Err("the Exec line names no program".into());
    }
    let program = args.remove(0);
    Ok((program, args))
}

/// Expands field codes inside one word (`%c`, `%k`, `%%`); file and URL codes inside a
/// longer word expand to nothing.
fn expand_codes(word: &str, entry: &DesktopEntry, file_path: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('c') => out.push_str(&entry.name),
            Some('k') => out.push_str(file_path),
            Some('f' | 'F' | 'u' | 'U' | 'd' | 'D' | 'n' | 'N' | 'v' | 'm' | 'i') => {}
            Some(other) => return Err(format!("`%{other}` is not a field code")),
            None => return Err("a lone % ends a word".into()),
        }
    }
    Ok(out)
}

/// How well `entry` matches what the user said; 0 is no match.
pub fn match_score(entry: &DesktopEntry, wanted: &str) -> u32 {
    let wanted = wanted.trim().to_lowercase();
    if wanted.is_empty() {
        return 0;
    }
    let name = entry.name.to_lowercase();
    let stem = entry
        .id
        .trim_end_matches(".desktop")
        .rsplit(['.', '-'])
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let generic = entry
        .generic_name
        .as_deref()
        .unwrap_or_default()
        .to_lowercase();
    if name == wanted {
        100
    } else if stem == wanted || entry.id.trim_end_matches(".desktop").to_lowercase() == wanted {
        90
    } else if name.starts_with(&wanted) {
        70
    } else if name.split_whitespace().any(|w| w == wanted) {
        65
    } else if generic == wanted {
        55
    } else if name.contains(&wanted) {
        50
    } else if entry.keywords.iter().any(|k| k.to_lowercase() == wanted) {
        40
    } else if generic.contains(&wanted) {
        30
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(exec: &str) -> DesktopEntry {
        parse_entry(
            "org.example.Editor.desktop",
            &format!("[Desktop Entry]\nType=Application\nName=Text Editor\nName[fr]=Éditeur\nIcon=editor\nExec={exec}\n[Desktop Action new]\nName=New\nExec=other\n"),
        )
        .unwrap()
    }

    fn check(exec: &str, expected: Result<(&str, &[&str]), &str>) {
        let got = expand_exec(&entry(exec), "/apps/editor.desktop");
        match (got, expected) {
            (Ok((program, args)), Ok((p, a))) => {
                assert_eq!(program, p, "{exec}");
                assert_eq!(args, a, "{exec}");
            }
            (Err(e), Err(fragment)) => assert!(e.contains(fragment), "{exec}: {e}"),
            (got, want) => panic!("{exec}: got {got:?}, wanted {want:?}"),
        }
    }

    #[test]
    fn exec_lines() {
        check("editor %U", Ok(("editor", &[])));
        check("editor --new-window %f", Ok(("editor", &["--new-window"])));
        check("\"/opt/My App/run\" %F", Ok(("/opt/My App/run", &[])));
        check(
            "editor %i %c",
            Ok(("editor", &["--icon", "editor", "Text Editor"])),
        );
        check(
            "editor --title=%c %k",
            Ok(("editor", &["--title=Text Editor", "/apps/editor.desktop"])),
        );
        check("editor 100%%", Ok(("editor", &["100%"])));
        check(
            r#"sh -c "echo \"hi\" \$HOME""#,
            Ok(("sh", &["-c", "echo \"hi\" $HOME"])),
        );
        // String escapes come first, so `\s` is a space that then separates words.
        check(r#"editor\sx"#, Ok(("editor", &["x"])));
        check("editor; rm -rf ~", Err("`;` must be quoted"));
        check("editor $(id)", Err("`$` must be quoted"));
        check("editor `id`", Err("must be quoted"));
        check("editor \"open", Err("never closed"));
        check("editor %z", Err("not a field code"));
        check("%U", Err("names no program"));
    }

    #[test]
    fn entries_and_scores() {
        let e = entry("editor");
        assert_eq!(e.name, "Text Editor");
        assert!(e.is_application && !e.terminal && !e.hidden);
        assert_eq!(e.exec.as_deref(), Some("editor"));
        assert_eq!(match_score(&e, "text editor"), 100);
        assert_eq!(match_score(&e, "editor"), 90);
        assert_eq!(match_score(&e, "text"), 70);
        assert_eq!(match_score(&e, "spreadsheet"), 0);
        assert!(parse_entry("x.desktop", "[Desktop Entry]\nExec=x\n").is_none());
    }
}
