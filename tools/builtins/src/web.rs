//! `open_url`, `web_search` and `compose_email`: hand a URL to the desktop's opener
//! (`xdg-open`), which shows it in the user's browser or mail program. Nothing is fetched or
//! sent by Sotto; `compose_email` only opens a draft the user can edit and send themselves.

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_sandbox::{Arg, SafeUrl, UrlScheme};
use sotto_tools::{
    Capability, Example, Reply, Risk, SpawnScope, ToolContext, ToolError, ToolInfo, TypedTool,
};

pub(crate) const OPENER: &str = "xdg-open";
const OPENER_TIMEOUT: Duration = Duration::from_secs(20);

pub(crate) fn opener() -> Capability {
    Capability::Spawn(SpawnScope::Program(OPENER.into()))
}

/// Runs `xdg-open ARG` and turns a failure into a message with its stderr.
pub(crate) async fn open_with_desktop(context: &ToolContext, arg: Arg) -> Result<(), ToolError> {
    let out = context
        .launcher(OPENER)?
        .run(OPENER, &[arg], OPENER_TIMEOUT)
        .await?;
    if !out.success {
        let detail = if out.stderr_tail.is_empty() {
            format!("exit status {:?}", out.code)
        } else {
            out.stderr_tail
        };
        return Err(ToolError::Failed(format!(
            "the desktop could not open it ({OPENER}: {detail})"
        )));
    }
    Ok(())
}

/// Unreserved characters (RFC 3986) stay; everything else is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

#[derive(Debug)]
pub struct OpenUrl;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenUrlArgs {
    /// A web address starting with http:// or https://.
    #[schemars(length(min = 1, max = 4000))]
    pub url: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OpenedUrl {
    /// The URL exactly as it was handed to the browser.
    pub url: String,
}

impl TypedTool for OpenUrl {
    type Args = OpenUrlArgs;
    type Output = OpenedUrl;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "open_url",
            description: "Opens a web address in the browser.",
            examples: vec![
                Example::new(
                    "open wikipedia.org",
                    json!({"url": "https://wikipedia.org"}),
                ),
                Example::new("go to https://docs.rs", json!({"url": "https://docs.rs"})),
                Example::new(
                    "show me the rust website",
                    json!({"url": "https://www.rust-lang.org"}),
                ),
            ],
            capabilities: vec![opener()],
            risk: Risk::ReachesOutside,
        }
    }

    async fn run(
        &self,
        args: OpenUrlArgs,
        context: &ToolContext,
    ) -> Result<Reply<OpenedUrl>, ToolError> {
        let text = args.url.trim();
        // People say "open example.org"; a bare host means https. Anything with a scheme
        // (a `:` before the first `.` or `/`, as in `mailto:` or `javascript:`) is left as it
        // is, for the scheme check to judge.
        let has_scheme = text
            .split(['.', '/'])
            .next()
            .is_some_and(|head| head.contains(':'));
        let with_scheme = if !has_scheme && !text.starts_with('-') && text.contains('.') {
            format!("https://{text}")
        } else {
            text.to_string()
        };
        let url = SafeUrl::parse(&with_scheme, &[UrlScheme::Http, UrlScheme::Https])?;
        open_with_desktop(context, Arg::Url(url.clone())).await?;
        let host = url.url().host_str().unwrap_or_default().to_string();
        Ok(Reply::new(
            OpenedUrl {
                url: url.as_str().to_string(),
            },
            format!("Opened {host} in your browser."),
        ))
    }
}

/// Where web searches go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchEngine {
    #[default]
    Duckduckgo,
    Google,
    Bing,
    Wikipedia,
}

impl SearchEngine {
    fn url(self, query: &str) -> String {
        let q = encode(query);
        match self {
            SearchEngine::Duckduckgo => format!("https://duckduckgo.com/?q={q}"),
            SearchEngine::Google => format!("https://www.google.com/search?q={q}"),
            SearchEngine::Bing => format!("https://www.bing.com/search?q={q}"),
            SearchEngine::Wikipedia => {
                format!("https://en.wikipedia.org/w/index.php?search={q}")
            }
        }
    }
}

#[derive(Debug)]
pub struct WebSearch;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebSearchArgs {
    /// What to search for.
    #[schemars(length(min = 1, max = 500))]
    pub query: String,
    /// Leave it out unless the user names a search engine.
    #[serde(default)]
    pub engine: Option<SearchEngine>,
}

impl TypedTool for WebSearch {
    type Args = WebSearchArgs;
    type Output = OpenedUrl;

    fn templates(&self) -> &'static [&'static str] {
        &[
            "search (the web|the internet|online) for {query}",
            "search {engine} for {query}",
        ]
    }

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "web_search",
            description: "Searches the web in the browser.",
            examples: vec![
                Example::new(
                    "search the web for rust async traits",
                    json!({"query": "rust async traits"}),
                ),
                Example::new(
                    "look up the weather in Lisbon",
                    json!({"query": "weather in Lisbon"}),
                ),
                Example::new(
                    "google best pizza near me",
                    json!({"query": "best pizza near me", "engine": "google"}),
                ),
                Example::new(
                    "search wikipedia for Ada Lovelace",
                    json!({"query": "Ada Lovelace", "engine": "wikipedia"}),
                ),
            ],
            capabilities: vec![opener()],
            risk: Risk::ReachesOutside,
        }
    }

    async fn run(
        &self,
        args: WebSearchArgs,
        context: &ToolContext,
    ) -> Result<Reply<OpenedUrl>, ToolError> {
        let query = args.query.trim();
        if query.is_empty() {
            return Err(ToolError::Refused("there is nothing to search for".into()));
        }
        let engine = args.engine.unwrap_or_default();
        let url = SafeUrl::parse(&engine.url(query), &[UrlScheme::Https])?;
        open_with_desktop(context, Arg::Url(url.clone())).await?;
        Ok(Reply::new(
            OpenedUrl {
                url: url.as_str().to_string(),
            },
            format!("Searching the web for \"{query}\"."),
        ))
    }
}

#[derive(Debug)]
pub struct ComposeEmail;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComposeEmailArgs {
    /// Recipients' email addresses.
    #[schemars(length(min = 1, max = 20))]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub subject: Option<String>,
    #[serde(default)]
    #[schemars(length(max = 20000))]
    pub body: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct EmailDraft {
    /// The `mailto:` URL handed to the mail program.
    pub url: String,
    pub to: Vec<String>,
}

/// Checks one address: `local@domain`, no spaces, nothing that could end the address list
/// or start the header part of a `mailto:` URL.
fn check_address(address: &str) -> Result<&str, ToolError> {
    let address = address.trim();
    let refuse = |why: &str| {
        ToolError::Refused(format!(
            "\"{address}\" is not an email address I can use: {why}"
        ))
    };
    let (local, domain) = address.split_once('@').ok_or_else(|| refuse("no @"))?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Err(refuse("it needs one @ between a name and a domain"));
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(refuse("the domain needs a dot"));
    }
    if address.starts_with('-') {
        return Err(refuse("it starts with '-'"));
    }
    if address.chars().any(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                ',' | '?' | '&' | '<' | '>' | '"' | '(' | ')' | '\\' | ';' | ':'
            )
    }) {
        return Err(refuse(
            "it contains spaces or punctuation addresses cannot have",
        ));
    }
    Ok(address)
}

/// Builds an RFC 6068 `mailto:` URL: addresses and header values percent-encoded, line
/// breaks as `%0D%0A`.
pub fn mailto(to: &[&str], cc: &[&str], subject: Option<&str>, body: Option<&str>) -> String {
    let encode_address = |a: &&str| {
        let (local, domain) = a.split_once('@').unwrap_or((a, ""));
        format!("{}@{}", encode(local), encode(domain))
    };
    let mut url = format!(
        "mailto:{}",
        to.iter().map(encode_address).collect::<Vec<_>>().join(",")
    );
    let mut headers = Vec::new();
    if !cc.is_empty() {
        headers.push(format!(
            "cc={}",
            cc.iter().map(encode_address).collect::<Vec<_>>().join(",")
        ));
    }
    if let Some(subject) = subject.filter(|s| !s.is_empty()) {
        headers.push(format!("subject={}", encode(subject)));
    }
    if let Some(body) = body.filter(|s| !s.is_empty()) {
        let crlf = body.replace("\r\n", "\n").replace('\n', "\r\n");
        headers.push(format!("body={}", encode(&crlf)));
    }
    if !headers.is_empty() {
        url.push('?');
        url.push_str(&headers.join("&"));
    }
    url
}

impl TypedTool for ComposeEmail {
    type Args = ComposeEmailArgs;
    type Output = EmailDraft;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "compose_email",
            description: "Opens a new email draft in the mail program, ready for the user to check and send. Never sends anything itself.",
            examples: vec![
                Example::new(
                    "write an email to anna@example.org saying I'll be late",
                    json!({"to": ["anna@example.org"], "body": "I'll be late"}),
                ),
                Example::new(
                    "email bob@example.com about the meeting",
                    json!({"to": ["bob@example.com"], "subject": "The meeting"}),
                ),
                Example::new(
                    "draft a mail to team@example.com and cc boss@example.com with subject weekly report",
                    json!({"to": ["team@example.com"], "cc": ["boss@example.com"], "subject": "weekly report"}),
                ),
            ],
            capabilities: vec![opener()],
            risk: Risk::ReachesOutside,
        }
    }

    async fn run(
        &self,
        args: ComposeEmailArgs,
        context: &ToolContext,
    ) -> Result<Reply<EmailDraft>, ToolError> {
        let to = args
            .to
            .iter()
            .map(|a| check_address(a))
            .collect::<Result<Vec<_>, _>>()?;
        let cc = args
            .cc
            .iter()
            .map(|a| check_address(a))
            .collect::<Result<Vec<_>, _>>()?;
        let text = mailto(&to, &cc, args.subject.as_deref(), args.body.as_deref());
        let url = SafeUrl::parse(&text, &[UrlScheme::Mailto])?;
        open_with_desktop(context, Arg::Url(url.clone())).await?;
        let summary = format!(
            "Opened a draft to {}; it is not sent until you send it.",
            to.join(", ")
        );
        Ok(Reply::new(
            EmailDraft {
                url: url.as_str().to_string(),
                to: to.into_iter().map(String::from).collect(),
            },
            summary,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailto_urls_are_encoded() {
        assert_eq!(
            mailto(
                &["a@example.org", "b+tag@example.org"],
                &["c@example.org"],
                Some("Hi & bye?"),
                Some("line 1\nline 2 = 100%")
            ),
            "mailto:a@example.org,b%2Btag@example.org?cc=c@example.org&subject=Hi%20%26%20bye%3F&body=line%201%0D%0Aline%202%20%3D%20100%25"
        );
        assert_eq!(
            mailto(&["a@example.org"], &[], None, Some("")),
            "mailto:a@example.org"
        );
    }

    #[test]
    fn addresses_that_could_inject_headers_are_refused() {
        for bad in [
            "a@example.org?bcc=spy@evil.example",
            "a@example.org,spy@evil.example",
            "a@example.org&body=x",
            "no-at-sign",
            "a@localhost",
            "-x@example.org",
            "a b@example.org",
            "a@b@example.org",
            "a@example.org\r\nBcc: x@y.z",
        ] {
            assert!(check_address(bad).is_err(), "{bad}");
        }
        assert_eq!(check_address(" ok@example.org ").unwrap(), "ok@example.org");
    }

    #[test]
    fn search_queries_are_encoded() {
        assert_eq!(
            SearchEngine::Duckduckgo.url("C++ & Rust; rm -rf ~"),
            "https://duckduckgo.com/?q=C%2B%2B%20%26%20Rust%3B%20rm%20-rf%20~"
        );
    }
}
