//! The call path end to end with small real tools: registration checks, schema validation
//! errors that name the field, authorisation with and without a confirmation from a real
//! pseudo-terminal, contexts that hold only granted handles.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_sandbox::HostEnv;
use sotto_tools::policy::{decide, AskReason, Decision, Input, Origin, ToolGrants, ToolSetting};
use sotto_tools::{
    authorize, builtin, Approval, Capability, ConfirmError, ConfirmationRequest, DirScope, Example,
    Host, InteractiveConfirmer, Refusal, Registry, RegistryError, Reply, Risk, ToolContext,
    ToolError, ToolInfo, TypedTool,
};

/// Appends a line to `scratch/log.txt` in Sotto's data folder.
struct AppendLine;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AppendArgs {
    /// The text to append.
    text: String,
    /// How many times (1-3).
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 3))]
    times: u8,
}
fn one() -> u8 {
    1
}

#[derive(Debug, Serialize, JsonSchema)]
struct AppendResult {
    lines: usize,
}

impl TypedTool for AppendLine {
    type Args = AppendArgs;
    type Output = AppendResult;
    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "append_line",
            description: "Appends a line to the scratch log.",
            examples: vec![Example::new("log hello", json!({"text": "hello"}))],
            capabilities: vec![Capability::WriteDir(DirScope::Sotto {
                folder: "scratch".into(),
            })],
            risk: Risk::ChangesLocalData,
        }
    }
    async fn run(
        &self,
        args: AppendArgs,
        context: &ToolContext,
    ) -> Result<Reply<AppendResult>, ToolError> {
        let dir = context.sotto_dir("scratch")?;
        if !dir.exists("log.txt")? {
            dir.create_new("log.txt", b"")?;
        }
        for _ in 0..args.times {
            dir.append("log.txt", format!("{}\n", args.text).as_bytes())?;
        }
        let lines = dir.read_to_string("log.txt")?.lines().count();
        Ok(Reply::new(AppendResult { lines }, format!("{lines} lines")))
    }
}

/// Claims a capability but is registered with a bad example, to test registration.
struct BadExample;
impl TypedTool for BadExample {
    type Args = AppendArgs;
    type Output = AppendResult;
    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "bad_example",
            description: "",
            examples: vec![Example::new("log it", json!({"txt": "oops"}))],
            capabilities: vec![],
            risk: Risk::ReadOnly,
        }
    }
    async fn run(&self, _: AppendArgs, _: &ToolContext) -> Result<Reply<AppendResult>, ToolError> {
        Err(ToolError::Failed("never runs".into()))
    }
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register(builtin(AppendLine)).unwrap();
    registry
}

fn host(data: &Path) -> Host {
    let home = data.to_path_buf();
    Host::new(
        data.join("data"),
        HostEnv::from_lookup(move |k| (k == "HOME").then(|| home.clone().into())),
    )
}

#[test]
fn registration_checks_names_duplicates_and_examples() {
    let mut registry = registry();
    assert!(matches!(
        registry.register(builtin(AppendLine)),
        Err(RegistryError::Duplicate(_))
    ));
    let err = registry.register(builtin(BadExample)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("bad_example") && text.contains("log it") && text.contains("txt"),
        "{text}"
    );
    let manifest = registry.get("append_line").unwrap();
    assert_eq!(manifest.args_schema["required"], json!(["text"]));
    assert_eq!(manifest.args_schema["additionalProperties"], json!(false));
    assert!(
        !manifest.args_schema.to_string().contains("$ref"),
        "subschemas are inlined"
    );
    let shown = manifest.to_json();
    assert_eq!(shown["capabilities"], json!(["write:sotto/scratch"]));
    assert_eq!(shown["risk"], "changes-local-data");
}

#[test]
fn invalid_arguments_name_the_field() {
    let registry = registry();
    let check = |args: serde_json::Value, field: &str, words: &str| {
        let err = registry.validate("append_line", args.clone()).unwrap_err();
        let ToolError::InvalidArgs { problems, .. } = &err else {
            panic!("{err}")
        };
        assert!(
            problems
                .iter()
                .any(|p| p.field == field && p.message.contains(words)),
            "{args}: {problems:?}"
        );
        assert!(err.to_string().contains(&format!("`{field}`")), "{err}");
    };
    check(json!({}), "/text", "required");
    check(json!({"text": 5}), "/text", "string");
    check(json!({"text": "a", "times": 9}), "/times", "maximum");
    check(json!({"text": "a", "colour": "red"}), "/", "colour");
    check(json!("just text"), "/", "object");
    assert!(matches!(
        registry.validate("rm_rf", json!({})),
        Err(ToolError::UnknownTool(_))
    ));
}

#[tokio::test]
async fn an_allowed_call_runs_with_only_its_handles() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry();
    let host = host(dir.path());
    let grants = ToolGrants {
        setting: Some(ToolSetting::Allow),
        ..Default::default()
    };
    let call = registry
        .validate("append_line", json!({"text": "one", "times": 2}))
        .unwrap();
    let decision = decide(call.manifest(), &grants, Origin::user(Input::Typed));
    let context = ToolContext::build(call.manifest(), &host, &grants).unwrap();
    let authorized = authorize(call, &decision, None).unwrap();
    assert_eq!(authorized.approval().as_string(), "policy:setting-allow");
    let output = authorized.run(&context).await.unwrap();
    assert_eq!(output.value, json!({"lines": 2}));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data/scratch/log.txt")).unwrap(),
        "one\none\n"
    );
    // The context has no handle for anything else.
    assert!(matches!(
        context.sotto_dir("notes"),
        Err(ToolError::MissingCapability { .. })
    ));
    assert!(context.user_folders().is_err());
    assert!(context.launcher("xdg-open").is_err());
}

#[tokio::test]
async fn a_context_built_for_another_tool_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry();
    let call = registry
        .validate("append_line", json!({"text": "x"}))
        .unwrap();
    let decision = Decision::Allow(sotto_tools::policy::AllowReason::UserAllows);
    let authorized = authorize(call, &decision, None).unwrap();
    let err = authorized
        .run(&ToolContext::bare("calculator"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("context built for calculator"));
    assert!(!dir.path().join("data").exists());
}

#[test]
fn asking_without_a_confirmation_refuses() {
    let registry = registry();
    let call = registry
        .validate("append_line", json!({"text": "x"}))
        .unwrap();
    let decision = decide(
        call.manifest(),
        &ToolGrants::default(),
        Origin::user(Input::Voice),
    );
    assert_eq!(decision, Decision::Ask(AskReason::FirstTime));
    let refusal = authorize(call, &decision, None).unwrap_err();
    assert!(matches!(refusal, Refusal::NotConfirmed { .. }), "{refusal}");
}

/// A real pseudo-terminal: the confirmer opens the follower side by path, the test types on
/// the leader side as a person would.
struct Pty {
    leader: std::fs::File,
    follower: PathBuf,
}

fn pty() -> Pty {
    use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
    let leader = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&leader).unwrap();
    unlockpt(&leader).unwrap();
    let name = ptsname(&leader, Vec::new()).unwrap();
    Pty {
        follower: PathBuf::from(name.to_str().unwrap()),
        leader: std::fs::File::from(leader),
    }
}

#[tokio::test]
async fn a_yes_at_a_terminal_confirms_exactly_that_call() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry();
    let host = host(dir.path());
    let grants = ToolGrants::default();
    let call = registry
        .validate("append_line", json!({"text": "; rm -rf ~"}))
        .unwrap();
    let decision = decide(call.manifest(), &grants, Origin::user(Input::Voice));
    let Decision::Ask(reason) = decision else {
        panic!("{decision}")
    };
    let request = ConfirmationRequest::new(&call, reason);

    let mut terminal = pty();
    let mut confirmer = InteractiveConfirmer::terminal_at(&terminal.follower).unwrap();
    terminal.leader.write_all(b"yes\n").unwrap();
    let confirmation = confirmer.confirm(&request).unwrap().expect("confirmed");

    // What the person saw: the tool, why, and the exact arguments. The terminal's echo of the
    // typed "yes" may come before the prompt, so everything waiting is read, without blocking.
    rustix::fs::fcntl_setfl(&terminal.leader, rustix::fs::OFlags::NONBLOCK).unwrap();
    let mut shown = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = terminal.leader.read(&mut chunk) {
        if n == 0 {
            break;
        }
        shown.extend_from_slice(&chunk[..n]);
    }
    let shown = String::from_utf8_lossy(&shown);
    assert!(
        shown.contains("append_line")
            && shown.contains("\"; rm -rf ~\"")
            && shown.contains("first time"),
        "{shown}"
    );

    // The same arguments in a new call need a new confirmation.
    let twin = registry
        .validate("append_line", json!({"text": "; rm -rf ~"}))
        .unwrap();
    let refusal = authorize(twin, &decision, Some(confirmation)).unwrap_err();
    assert!(matches!(refusal, Refusal::WrongConfirmation { .. }));

    terminal.leader.write_all(b"y\n").unwrap();
    let confirmation = confirmer.confirm(&request).unwrap().expect("confirmed");
    let authorized = authorize(call, &decision, Some(confirmation)).unwrap();
    assert_eq!(
        authorized.approval(),
        Approval::User(sotto_tools::ConfirmedBy::Terminal)
    );
    let context = ToolContext::build(authorized.call().manifest(), &host, &grants).unwrap();
    authorized.run(&context).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data/scratch/log.txt")).unwrap(),
        "; rm -rf ~\n"
    );
}

#[test]
fn anything_but_yes_declines() {
    let registry = registry();
    let call = registry
        .validate("append_line", json!({"text": "x"}))
        .unwrap();
    let request = ConfirmationRequest::new(&call, AskReason::FirstTime);
    let mut terminal = pty();
    let mut confirmer = InteractiveConfirmer::terminal_at(&terminal.follower).unwrap();
    for answer in ["no\n", "\n", "yes please\n", "ok\n"] {
        terminal.leader.write_all(answer.as_bytes()).unwrap();
        assert_eq!(confirmer.confirm(&request).unwrap(), None, "{answer:?}");
    }
}

#[test]
fn files_and_pipes_cannot_confirm() {
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("answers.txt");
    std::fs::write(&answers, "yes\nyes\n").unwrap();
    assert!(matches!(
        InteractiveConfirmer::terminal_at(&answers),
        Err(ConfirmError::NotATerminal { .. })
    ));
    assert!(matches!(
        InteractiveConfirmer::terminal_at(Path::new("/dev/null")),
        Err(ConfirmError::NotATerminal { .. })
    ));
}
