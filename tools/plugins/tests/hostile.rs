//! Containment: a plugin that misbehaves on purpose (`tools/sdk/hostile/misbehave`). Each
//! attack must end in a clear error for that call, be logged, and leave the host (and the
//! same plugin's other tools) working. Each attack tool returns `Ok` only if it worked.

mod support;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sotto_plugins::{CallFailure, LogSource, Plugin, PluginCallError, PluginHost};
use sotto_tools::{Capability, ToolError};
use support::{host, wasm, Recorder, Setup};

fn load() -> (PluginHost, Arc<Recorder>, Plugin) {
    let (host, recorder) = host();
    let plugin = host.load(&wasm("sotto-plugin-misbehave")).unwrap();
    (host, recorder, plugin)
}

fn call(
    plugin: &Plugin,
    setup: &Setup,
    name: &str,
    args: Value,
) -> Result<sotto_tools::ToolOutput, PluginCallError> {
    let tool = plugin.tool(name).unwrap();
    let context = setup.context(sotto_tools::Tool::manifest(&*tool));
    tool.call_blocking(&args, &context)
}

fn failure(result: Result<sotto_tools::ToolOutput, PluginCallError>) -> CallFailure {
    match result {
        Err(PluginCallError::Failed { failure, .. }) => failure,
        other => panic!("expected a contained failure, got {other:?}"),
    }
}

/// The host still works: another tool of the same plugin answers as it should.
fn still_works(plugin: &Plugin) {
    let out = call(plugin, &Setup::new(), "hostile_ambient", json!({}));
    assert!(
        matches!(out, Err(PluginCallError::Tool(ToolError::Refused(ref m))) if m == "no environment, no arguments"),
        "{out:?}"
    );
}

fn logged(recorder: &Recorder, tool: &str, needle: &str) -> bool {
    recorder
        .logs()
        .iter()
        .any(|r| r.tool == tool && r.message.contains(needle))
}

#[test]
fn reading_outside_the_preopen_finds_nothing() {
    let (_host, recorder, plugin) = load();
    let granted = tempfile::tempdir().unwrap();
    let setup = Setup::new().folder(granted.path(), false);
    // A symlink inside the granted folder that points out of it.
    std::fs::create_dir(granted.path().join("escape")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", granted.path().join("escape/passwd")).unwrap();
    let result = call(&plugin, &setup, "hostile_read_outside", json!({}));
    match result {
        Err(PluginCallError::Tool(ToolError::Failed(message))) => {
            assert!(message.contains("/etc/passwd:"), "{message}");
            assert!(message.contains("/folders/0/escape/passwd:"), "{message}");
        }
        other => panic!("the plugin read outside its folder: {other:?}"),
    }
    assert!(logged(
        &recorder,
        "hostile_read_outside",
        "answered with an error"
    ));
    still_works(&plugin);
}

#[test]
fn writing_without_the_grant_is_denied_by_name() {
    let (_host, recorder, plugin) = load();
    let granted = tempfile::tempdir().unwrap();
    let setup = Setup::new().folder(granted.path(), true);
    // The tool declares read only, so even a writable folder grant is preopened read-only.
    let result = call(&plugin, &setup, "hostile_write", json!({}));
    match result {
        Err(PluginCallError::Tool(ToolError::MissingCapability { key, .. })) => {
            assert_eq!(key, "write:user-folders")
        }
        other => panic!("expected a named denial, got {other:?}"),
    }
    assert!(!granted.path().join("pwned.txt").exists());
    assert_eq!(
        std::fs::read_dir(granted.path()).unwrap().count(),
        0,
        "no temp file left"
    );
    assert!(logged(&recorder, "hostile_write", "write:user-folders"));
    still_works(&plugin);
}

#[test]
fn sockets_are_refused() {
    let (_host, _recorder, plugin) = load();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let result = call(
        &plugin,
        &Setup::new(),
        "hostile_socket",
        json!({"port": port}),
    );
    match result {
        Err(PluginCallError::Tool(ToolError::Failed(message))) => {
            assert!(message.starts_with("connect:"), "{message}")
        }
        other => panic!("the plugin opened a socket: {other:?}"),
    }
    assert!(listener.accept().is_err(), "nothing connected");
    still_works(&plugin);
}

#[test]
fn an_infinite_loop_is_stopped_at_the_deadline() {
    let (_host, recorder, plugin) = load();
    let started = Instant::now();
    let failure = failure(call(&plugin, &Setup::new(), "hostile_loop", json!({})));
    let took = started.elapsed();
    assert_eq!(failure, CallFailure::Timeout(Duration::from_millis(500)));
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(logged(
        &recorder,
        "hostile_loop",
        "call failed: it ran longer"
    ));
    still_works(&plugin);
}

#[test]
fn unbounded_allocation_hits_the_memory_limit() {
    let (_host, recorder, plugin) = load();
    let failure = failure(call(&plugin, &Setup::new(), "hostile_alloc", json!({})));
    assert_eq!(failure, CallFailure::MemoryLimit(32 << 20));
    assert_eq!(failure.kind(), "memory-limit");
    assert!(logged(&recorder, "hostile_alloc", "memory"));
    still_works(&plugin);
}

#[test]
fn a_panic_is_a_trap_with_its_message() {
    let (_host, recorder, plugin) = load();
    let failure = failure(call(&plugin, &Setup::new(), "hostile_panic", json!({})));
    match &failure {
        CallFailure::Trap { message } => {
            assert!(message.contains("panics on purpose"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // The panic message reached the log through the captured stderr.
    assert!(recorder
        .logs()
        .iter()
        .any(|r| r.source == LogSource::Stderr && r.message.contains("panics on purpose")));
    still_works(&plugin);
}

#[test]
fn malformed_output_is_rejected() {
    let (_host, recorder, plugin) = load();
    let not_json = failure(call(&plugin, &Setup::new(), "hostile_not_json", json!({})));
    assert!(
        matches!(&not_json, CallFailure::MalformedOutput(m) if m.contains("not JSON")),
        "{not_json:?}"
    );
    let shape = failure(call(
        &plugin,
        &Setup::new(),
        "hostile_wrong_shape",
        json!({}),
    ));
    assert!(
        matches!(&shape, CallFailure::MalformedOutput(m) if m.contains("result schema")),
        "{shape:?}"
    );
    let huge = failure(call(&plugin, &Setup::new(), "hostile_huge", json!({})));
    assert!(
        matches!(huge, CallFailure::OutputTooLarge { limit: 1048576, .. }),
        "{huge:?}"
    );
    assert!(logged(&recorder, "hostile_not_json", "malformed"));
    still_works(&plugin);
}

#[test]
fn host_imports_need_their_capability() {
    let (_host, recorder, plugin) = load();
    let denied = call(&plugin, &Setup::new(), "hostile_notify", json!({}));
    match denied {
        Err(PluginCallError::Tool(ToolError::MissingCapability { key, .. })) => {
            assert_eq!(key, "notify")
        }
        other => panic!("{other:?}"),
    }
    assert!(recorder.notifications.lock().unwrap().is_empty());
    assert!(logged(
        &recorder,
        "hostile_notify",
        "denied: the capability `notify`"
    ));

    // Network granted, but the host was not declared: refused, and nothing fetched.
    let setup = Setup::new().grant(Capability::Network);
    let result = call(&plugin, &setup, "hostile_http", json!({}));
    assert!(
        matches!(&result, Err(PluginCallError::Tool(ToolError::Refused(m))) if m.contains("evil.example")),
        "{result:?}"
    );
    // Without the grant, the capability is named.
    let result = call(&plugin, &Setup::new(), "hostile_http", json!({}));
    assert!(
        matches!(&result, Err(PluginCallError::Tool(ToolError::MissingCapability { key, .. })) if key == "network"),
        "{result:?}"
    );
}

#[test]
fn no_ambient_authority_and_output_is_captured() {
    let (_host, recorder, plugin) = load();
    still_works(&plugin);
    let _ = call(&plugin, &Setup::new(), "hostile_chatter", json!({}));
    let logs = recorder.logs();
    let from = |source: LogSource, text: &str| {
        logs.iter()
            .any(|r| r.source == source && r.tool == "hostile_chatter" && r.message == text)
    };
    assert!(
        from(LogSource::Stdout, "to stdout from the plugin"),
        "{logs:?}"
    );
    assert!(
        from(LogSource::Stderr, "to stderr from the plugin"),
        "{logs:?}"
    );
    assert!(from(LogSource::Guest, "through the log import"), "{logs:?}");
    assert!(logs.iter().all(|r| r.plugin == "misbehave"));
}

#[tokio::test]
async fn failures_through_the_tool_trait_are_tool_errors_and_calls_run_in_parallel() {
    let (_host, _recorder, plugin) = load();
    let plugin = Arc::new(plugin);
    let spinner = plugin.tool("hostile_loop").unwrap();
    let setup = Setup::new();
    let context = setup.context(sotto_tools::Tool::manifest(&*spinner));
    let no_args = json!({});
    let started = Instant::now();
    // Two stuck calls and a good one at once: the good one is not held up.
    let (a, b, good) = tokio::join!(
        sotto_tools::Tool::call(&*spinner, &no_args, &context),
        sotto_tools::Tool::call(&*spinner, &no_args, &context),
        async {
            let tool = plugin.tool("hostile_ambient").unwrap();
            let context = setup.context(sotto_tools::Tool::manifest(&*tool));
            let result = sotto_tools::Tool::call(&*tool, &json!({}), &context).await;
            (result, started.elapsed())
        }
    );
    for stuck in [a, b] {
        match stuck {
            Err(ToolError::Failed(message)) => {
                assert!(
                    message.contains("hostile_loop") && message.contains("limit"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(good.0, Err(ToolError::Refused(_))));
    assert!(
        good.1 < Duration::from_millis(450),
        "the good call waited {:?}",
        good.1
    );
}

#[test]
fn a_context_for_another_tool_is_refused() {
    let (_host, _recorder, plugin) = load();
    let folder = tempfile::tempdir().unwrap();
    let setup = Setup::new().folder(folder.path(), true);
    let reader = plugin.tool("hostile_read_outside").unwrap();
    let writer = plugin.tool("hostile_write").unwrap();
    let context = setup.context(sotto_tools::Tool::manifest(&*reader));
    let result = writer.call_blocking(&json!({}), &context);
    assert!(
        matches!(result, Err(PluginCallError::Tool(ToolError::Failed(m))) if m.contains("cannot run"))
    );
}

#[test]
fn tools_keep_their_deadline_after_the_host_is_dropped() {
    let (host, _recorder, plugin) = load();
    drop(host);
    let failure = failure(call(&plugin, &Setup::new(), "hostile_loop", json!({})));
    assert_eq!(failure, CallFailure::Timeout(Duration::from_millis(500)));
    still_works(&plugin);
}
