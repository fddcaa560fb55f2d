//! Arguments for spawned programs, validated when they are built: a value that reaches
//! [`crate::Launcher`] has already been checked, so the launcher cannot forget to.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::SandboxError;

/// URL schemes a tool may hand to another program. `file:` and `javascript:` and friends are
/// deliberately absent: files are opened through granted folders, never through a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlScheme {
    Http,
    Https,
    Mailto,
}

impl UrlScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            UrlScheme::Http => "http",
            UrlScheme::Https => "https",
            UrlScheme::Mailto => "mailto",
        }
    }
}

/// A URL that parsed, has an allowed scheme and cannot be mistaken for an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeUrl(url::Url);

impl SafeUrl {
    pub fn parse(text: &str, allowed: &[UrlScheme]) -> Result<SafeUrl, SandboxError> {
        let refuse = |reason: String| SandboxError::BadArgument {
            value: text.to_string(),
            reason,
        };
        let trimmed = text.trim();
        if trimmed.starts_with('-') {
            return Err(refuse("a URL may not start with '-'".into()));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(refuse("a URL may not contain control characters".into()));
        }
        let url = url::Url::parse(trimmed).map_err(|e| refuse(format!("not a URL ({e})")))?;
        let scheme = url.scheme();
        if !allowed.iter().any(|s| s.as_str() == scheme) {
            let names: Vec<_> = allowed.iter().map(|s| s.as_str()).collect();
            return Err(refuse(format!(
                "the scheme `{scheme}` is not allowed (allowed: {})",
                names.join(", ")
            )));
        }
        if matches!(scheme, "http" | "https") && url.host_str().is_none_or(str::is_empty) {
            return Err(refuse("a web address needs a host".into()));
        }
        Ok(SafeUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

/// An absolute path that does not start with `-` (absolute paths never do; the type records
/// that it was checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafePath(PathBuf);

impl SafePath {
    pub fn new(path: &Path) -> Result<SafePath, SandboxError> {
        if !path.is_absolute() {
            return Err(SandboxError::BadArgument {
                value: path.display().to_string(),
                reason: "a path handed to a program must be absolute".into(),
            });
        }
        Ok(SafePath(path.to_path_buf()))
    }

    pub fn as_path(&self) -> &Path {
        &self.0
    }
}

/// Free text that is passed as one argument: never split, never starting with `-`, no NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeText(String);

impl SafeText {
    pub fn new(text: &str) -> Result<SafeText, SandboxError> {
        let refuse = |reason: &str| SandboxError::BadArgument {
            value: text.to_string(),
            reason: reason.into(),
        };
        if text.starts_with('-') {
            return Err(refuse("an argument may not start with '-'"));
        }
        if text.contains('\0') {
            return Err(refuse("an argument may not contain NUL"));
        }
        Ok(SafeText(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One argument of a spawned program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Written in Sotto's own code (an option such as `--new-window`); never from a model.
    Fixed(&'static str),
    /// From a trusted configuration file the user installed (a `.desktop` entry's `Exec`),
    /// already split by that format's quoting rules.
    Configured(String),
    Url(SafeUrl),
    Path(SafePath),
    Text(SafeText),
}

impl Arg {
    pub(crate) fn to_os_string(&self) -> OsString {
        match self {
            Arg::Fixed(s) => OsString::from(s),
            Arg::Configured(s) => OsString::from(s),
            Arg::Url(u) => OsString::from(u.as_str()),
            Arg::Path(p) => p.as_path().as_os_str().to_os_string(),
            Arg::Text(t) => OsString::from(t.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEB: &[UrlScheme] = &[UrlScheme::Http, UrlScheme::Https, UrlScheme::Mailto];

    fn check_url(input: &str, expected: Result<&str, &str>) {
        match (SafeUrl::parse(input, WEB), expected) {
            (Ok(url), Ok(want)) => assert_eq!(url.as_str(), want, "{input}"),
            (Err(e), Err(fragment)) => assert!(
                e.to_string().contains(fragment),
                "{input}: `{e}` lacks `{fragment}`"
            ),
            (got, want) => panic!("{input}: got {got:?}, wanted {want:?}"),
        }
    }

    #[test]
    fn urls() {
        check_url("https://example.org/a b", Ok("https://example.org/a%20b"));
        check_url("  http://example.org  ", Ok("http://example.org/"));
        check_url("mailto:a@example.org", Ok("mailto:a@example.org"));
        check_url("file:///etc/passwd", Err("scheme `file` is not allowed"));
        check_url("javascript:alert(1)", Err("scheme `javascript`"));
        check_url("--help", Err("may not start with '-'"));
        check_url("-https://x.org", Err("may not start with '-'"));
        check_url("example.org", Err("not a URL"));
        check_url("https://exa\nmple.org", Err("control characters"));
        // WHATWG parsing reads `https:///path` as host `path`; an empty host is refused.
        check_url("https://", Err("not a URL"));
    }

    #[test]
    fn text_and_paths() {
        assert!(SafeText::new("; rm -rf ~").is_ok());
        assert!(SafeText::new("-rf").is_err());
        assert!(SafeText::new("a\0b").is_err());
        assert!(SafePath::new(Path::new("relative/x")).is_err());
        assert!(SafePath::new(Path::new("/abs/x")).is_ok());
    }
}
