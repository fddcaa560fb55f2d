//! The clipboard on a real X server (Xvfb) through the real `xclip`.

mod support;

use serde_json::json;
use sotto_sandbox::HostEnv;
use sotto_tools::policy::{decide, Input, Origin};
use sotto_tools::{authorize, Host, ToolContext, ToolError, ToolOutput};
use support::xvfb::Xvfb;
use support::World;

async fn call(
    world: &World,
    host: &Host,
    tool: &str,
    args: serde_json::Value,
) -> Result<ToolOutput, ToolError> {
    let grants = world.allowed(&[]);
    let call = world.registry.validate(tool, args)?;
    let decision = decide(call.manifest(), &grants, Origin::user(Input::Typed));
    let context = ToolContext::build(call.manifest(), host, &grants)?;
    authorize(call, &decision, None)
        .map_err(|r| ToolError::Refused(r.to_string()))?
        .run(&context)
        .await
}

fn host(world: &World, display: Option<&str>) -> Host {
    let home = world.home();
    let display = display.map(String::from);
    Host::new(
        world.data(),
        HostEnv::from_lookup(move |key| match key {
            "HOME" => Some(home.clone().into()),
            "PATH" => Some("/usr/bin:/bin".into()),
            "DISPLAY" => display.clone().map(Into::into),
            _ => None,
        }),
    )
}

#[tokio::test]
async fn text_goes_onto_the_clipboard_and_comes_back() {
    let world = World::new();
    let x = Xvfb::start();
    let host = host(&world, Some(&x.display));

    let empty = call(&world, &host, "clipboard_read", json!({}))
        .await
        .unwrap();
    assert_eq!(empty.summary, "The clipboard is empty.");

    let text = "héllo; $(touch pwned) `id`\nsecond line";
    let out = call(&world, &host, "clipboard_write", json!({"text": text}))
        .await
        .unwrap();
    assert_eq!(out.value["characters"], text.chars().count());
    // Another program sees it, as a paste in any application would.
    let pasted = std::process::Command::new("xclip")
        .args(["-selection", "clipboard", "-o"])
        .env("DISPLAY", &x.display)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&pasted.stdout), text);
    let back = call(&world, &host, "clipboard_read", json!({}))
        .await
        .unwrap();
    assert_eq!(back.value["text"], text);
    assert!(!world.home().join("pwned").exists());
}

#[tokio::test]
async fn without_a_display_the_error_says_why() {
    let world = World::new();
    let host = host(&world, None);
    let err = call(&world, &host, "clipboard_write", json!({"text": "x"}))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot use the clipboard (xclip"),
        "{err}"
    );
}
