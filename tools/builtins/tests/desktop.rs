//! The tools that reach the desktop, run for real: a stand-in `xdg-open` script first on
//! PATH records what it is asked to open (the real one would start a browser, which this
//! machine has no display for); `.desktop` entries in a private XDG_DATA_HOME start scripts
//! that write marker files; files are found in granted temporary folders.

mod support;

use serde_json::json;
use support::{wait_for, World};

#[tokio::test]
async fn open_url_hands_the_exact_url_to_xdg_open() {
    let world = World::new();
    world.fake_opener();
    let out = world
        .call("open_url", json!({"url": "https://example.org/a b?q=1"}))
        .await
        .unwrap();
    assert_eq!(out.value["url"], "https://example.org/a%20b?q=1");
    world
        .call("open_url", json!({"url": "docs.rs"}))
        .await
        .unwrap();
    assert_eq!(
        world.opened(),
        ["https://example.org/a%20b?q=1", "https://docs.rs/"]
    );
    for bad in [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "--help",
        "mailto:a@b.org",
    ] {
        let err = world
            .call("open_url", json!({"url": bad}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("refused"), "{bad}: {err}");
    }
    assert_eq!(
        world.opened().len(),
        2,
        "refused URLs must never reach xdg-open"
    );
}

#[tokio::test]
async fn a_failing_opener_is_reported_with_its_message() {
    let world = World::new();
    world.script(
        "xdg-open",
        "echo 'no method available for opening' >&2; exit 3",
    );
    let err = world
        .call("open_url", json!({"url": "https://example.org"}))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no method available for opening"),
        "{err}"
    );
}

#[tokio::test]
async fn without_xdg_open_the_error_names_the_program() {
    let world = World::new();
    let err = world
        .call("web_search", json!({"query": "rust"}))
        .await
        .unwrap_err();
    // /usr/bin is on the test PATH; on machines with xdg-utils installed the real one would
    // run, so only check the message when it is absent.
    if !std::path::Path::new("/usr/bin/xdg-open").exists() {
        assert!(err.to_string().contains("xdg-open"), "{err}");
    }
}

#[tokio::test]
async fn web_search_encodes_the_query() {
    let world = World::new();
    world.fake_opener();
    world
        .call(
            "web_search",
            json!({"query": "C++ & rust; rm -rf ~", "engine": "wikipedia"}),
        )
        .await
        .unwrap();
    world
        .call("web_search", json!({"query": "weather in Lisbon"}))
        .await
        .unwrap();
    assert_eq!(
        world.opened(),
        [
            "https://en.wikipedia.org/w/index.php?search=C%2B%2B%20%26%20rust%3B%20rm%20-rf%20~",
            "https://duckduckgo.com/?q=weather%20in%20Lisbon",
        ]
    );
}

#[tokio::test]
async fn compose_email_opens_a_mailto_draft_and_never_sends() {
    let world = World::new();
    world.fake_opener();
    let out = world
        .call(
            "compose_email",
            json!({
                "to": ["anna@example.org"],
                "cc": ["bob@example.com"],
                "subject": "Lunch & plans?",
                "body": "Hi Anna,\nI'll be 10 minutes late.",
            }),
        )
        .await
        .unwrap();
    let expected = "mailto:anna@example.org?cc=bob@example.com&subject=Lunch%20%26%20plans%3F&body=Hi%20Anna%2C%0D%0AI%27ll%20be%2010%20minutes%20late.";
    assert_eq!(world.opened(), [expected]);
    assert_eq!(out.value["url"], expected);
    assert!(out.summary.contains("not sent"), "{}", out.summary);
    let err = world
        .call(
            "compose_email",
            json!({"to": ["anna@example.org?bcc=spy@evil.example"]}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not an email address"), "{err}");
    assert_eq!(world.opened().len(), 1);
}

fn desktop_entry(world: &World, file: &str, body: &str) {
    std::fs::write(
        world.home().join(".local/share/applications").join(file),
        body,
    )
    .unwrap();
}

#[tokio::test]
async fn open_app_starts_the_program_a_desktop_entry_names() {
    let world = World::new();
    let app = world.script(
        "fake-editor",
        r#"for a in "$@"; do printf '%s\n' "$a"; done > "$HOME/editor-started.tmp"; mv "$HOME/editor-started.tmp" "$HOME/editor-started""#,
    );
    desktop_entry(
        &world,
        "org.example.Editor.desktop",
        &format!(
            "[Desktop Entry]\nType=Application\nName=Example Editor\nGenericName=Text Editor\nIcon=accessories-text-editor\nExec=\"{}\" --new-window \"two words\" %i %U\n",
            app.display()
        ),
    );
    desktop_entry(
        &world,
        "hidden.desktop",
        "[Desktop Entry]\nType=Application\nName=Example Editor Hidden\nExec=false\nHidden=true\n",
    );
    let out = world
        .call("open_app", json!({"name": "example editor"}))
        .await
        .unwrap();
    assert_eq!(out.value["id"], "org.example.Editor.desktop");
    assert_eq!(out.summary, "Started Example Editor.");
    let marker = world.home().join("editor-started");
    assert!(wait_for(&marker), "the application did not start");
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        "--new-window\ntwo words\n--icon\naccessories-text-editor\n"
    );

    // Matching by generic name works too; an unknown name is a clear refusal.
    let by_generic = world
        .call("open_app", json!({"name": "text editor"}))
        .await
        .unwrap();
    assert_eq!(by_generic.value["name"], "Example Editor");
    let err = world
        .call("open_app", json!({"name": "spreadsheet"}))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no installed application"),
        "{err}"
    );
}

#[tokio::test]
async fn open_app_refuses_entries_with_shell_syntax_or_a_terminal() {
    let world = World::new();
    desktop_entry(
        &world,
        "evil.desktop",
        "[Desktop Entry]\nType=Application\nName=Evil\nExec=true; touch $HOME/pwned\n",
    );
    desktop_entry(
        &world,
        "top.desktop",
        "[Desktop Entry]\nType=Application\nName=Top\nExec=top\nTerminal=true\n",
    );
    let err = world
        .call("open_app", json!({"name": "evil"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("must be quoted"), "{err}");
    let err = world
        .call("open_app", json!({"name": "top"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("terminal"), "{err}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!world.home().join("pwned").exists());
}

fn documents(world: &World) -> std::path::PathBuf {
    let docs = world.home().join("Documents");
    std::fs::create_dir_all(docs.join("taxes/2025")).unwrap();
    std::fs::write(
        docs.join("taxes/2025/Tax return 2025.pdf"),
        b"%PDF-1.4 \0 binary",
    )
    .unwrap();
    std::fs::write(docs.join("budget.ods"), b"PK\0\0").unwrap();
    std::fs::write(
        docs.join("meeting.md"),
        "# Meeting\nInvoice number 4411 is overdue.\n",
    )
    .unwrap();
    std::fs::write(docs.join("kube.md"), "Notes on Kubernetes clusters\n").unwrap();
    std::fs::write(docs.join(".hidden-invoice.txt"), "4411").unwrap();
    docs
}

#[tokio::test]
async fn find_files_by_name_and_content_in_granted_folders_only() {
    let world = World::new();
    let docs = documents(&world);
    std::fs::write(world.outside().join("tax secret.pdf"), "4411").unwrap();
    let grants = world.allowed(&[&docs]);

    let out = world
        .call_with("find_files", json!({"name": "tax*.pdf"}), &grants)
        .await
        .unwrap();
    let paths: Vec<_> = out.value["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        paths,
        [docs
            .join("taxes/2025/Tax return 2025.pdf")
            .display()
            .to_string()]
    );

    let out = world
        .call_with("find_files", json!({"content": "4411"}), &grants)
        .await
        .unwrap();
    let files = out.value["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["line"], "Invoice number 4411 is overdue.");

    let out = world
        .call_with(
            "find_files",
            json!({"name": "*.md", "content": "kubernetes"}),
            &grants,
        )
        .await
        .unwrap();
    assert_eq!(out.value["files"].as_array().unwrap().len(), 1);

    let err = world
        .call_with("find_files", json!({}), &grants)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("say what to look for"), "{err}");
}

#[tokio::test]
async fn open_path_opens_documents_in_granted_folders() {
    let world = World::new();
    world.fake_opener();
    let docs = documents(&world);
    std::fs::write(docs.join("install.sh"), "#!/bin/sh\n").unwrap();
    let grants = world.allowed(&[&docs]);
    world
        .call_with("open_path", json!({"path": "meeting.md"}), &grants)
        .await
        .unwrap();
    let folder = world
        .call_with(
            "open_path",
            json!({"path": docs.join("taxes").display().to_string()}),
            &grants,
        )
        .await
        .unwrap();
    assert_eq!(folder.value["is_folder"], true);
    assert_eq!(
        world.opened(),
        [
            docs.join("meeting.md").display().to_string(),
            docs.join("taxes").display().to_string()
        ]
    );
    let err = world
        .call_with("open_path", json!({"path": "install.sh"}), &grants)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("program or launcher"), "{err}");
    assert_eq!(world.opened().len(), 2);
}
