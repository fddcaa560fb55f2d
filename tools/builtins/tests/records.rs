//! Contacts and calendar, for real against a throwaway data folder and a granted folder
//! holding a vCard export.

mod support;

use serde_json::json;
use support::World;

const VCF: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Smith\r\nEMAIL;TYPE=INTERNET,WORK:anna@example.org\r\nTEL;TYPE=CELL:+44 7700 900123\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nN:Jones;Bob;;;\r\nEMAIL:bob@example.com\r\nNICKNAME:Bobby\r\nORG:Plumbing Co\r\nEND:VCARD\r\n";

#[tokio::test]
async fn contacts_are_imported_from_a_granted_folder_and_looked_up() {
    let world = World::new();
    let downloads = world.home().join("Downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    std::fs::write(downloads.join("export.vcf"), VCF).unwrap();
    let grants = world.allowed(&[&downloads]);

    let out = world
        .call_with("contacts_import", json!({"path": "export.vcf"}), &grants)
        .await
        .unwrap();
    assert_eq!(out.value["imported"], json!(["Anna Smith", "Bob Jones"]));
    assert!(world.data().join("contacts/anna-smith.vcf").exists());

    let anna = world
        .call("contact_lookup", json!({"name": "anna"}))
        .await
        .unwrap();
    assert_eq!(
        anna.summary,
        "Anna Smith: email anna@example.org, phone +44 7700 900123."
    );
    assert_eq!(anna.value["contacts"][0]["emails"][0]["kind"], "work");
    let bob = world
        .call("contact_lookup", json!({"name": "Bobby"}))
        .await
        .unwrap();
    assert_eq!(bob.value["contacts"][0]["name"], "Bob Jones");
    let nobody = world
        .call("contact_lookup", json!({"name": "Zed"}))
        .await
        .unwrap();
    assert_eq!(nobody.value["contacts"], json!([]));

    // A newer export replaces the card of the same name.
    std::fs::write(
        downloads.join("new.vcf"),
        "BEGIN:VCARD\nVERSION:3.0\nFN:Anna Smith\nEMAIL:anna@new.example\nEND:VCARD\n",
    )
    .unwrap();
    world
        .call_with(
            "contacts_import",
            json!({"path": downloads.join("new.vcf").display().to_string()}),
            &grants,
        )
        .await
        .unwrap();
    let anna = world
        .call("contact_lookup", json!({"name": "Anna Smith"}))
        .await
        .unwrap();
    assert_eq!(anna.summary, "Anna Smith: email anna@new.example.");

    // Files outside the granted folder, and non-vCards, are refused.
    std::fs::write(world.outside().join("x.vcf"), VCF).unwrap();
    let err = world
        .call_with(
            "contacts_import",
            json!({"path": world.outside().join("x.vcf").display().to_string()}),
            &grants,
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not inside a folder you allowed"),
        "{err}"
    );
    std::fs::write(downloads.join("notes.txt"), "hello").unwrap();
    let err = world
        .call_with("contacts_import", json!({"path": "notes.txt"}), &grants)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no contact cards"), "{err}");
}

#[tokio::test]
async fn calendar_events_are_added_listed_and_exported() {
    let world = World::new();
    let zone = jiff::tz::TimeZone::system();
    let meeting = world
        .call(
            "calendar_add",
            json!({"title": "Team meeting", "start": "2026-05-02T14:00", "minutes": 90, "location": "Room 4, 2nd floor"}),
        )
        .await
        .unwrap();
    let expected_start = "2026-05-02T14:00"
        .parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned_datetime(zone.clone())
        .unwrap();
    assert_eq!(
        meeting.value["start"],
        expected_start.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    );
    assert!(
        meeting
            .summary
            .contains("Team meeting on Saturday 2 May at 14:00"),
        "{}",
        meeting.summary
    );
    world
        .call(
            "calendar_add",
            json!({"title": "Mum's birthday", "start": "2026-05-04"}),
        )
        .await
        .unwrap();
    world
        .call(
            "calendar_add",
            json!({"title": "Far away", "start": "2026-07-01T09:00"}),
        )
        .await
        .unwrap();
    let err = world
        .call(
            "calendar_add",
            json!({"title": "Bad", "start": "2026-02-30T10:00"}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a date"), "{err}");
    let err = world
        .call(
            "calendar_add",
            json!({"title": "Bad", "start": "next tuesday"}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`/start`"), "{err}");

    let week = world
        .call("calendar_list", json!({"from": "2026-05-01", "days": 7}))
        .await
        .unwrap();
    let titles: Vec<_> = week.value["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Team meeting", "Mum's birthday"]);
    assert_eq!(week.value["events"][1]["all_day"], true);
    assert_eq!(week.value["events"][0]["location"], "Room 4, 2nd floor");
    let empty = world
        .call("calendar_list", json!({"from": "2026-06-01", "days": 3}))
        .await
        .unwrap();
    assert_eq!(empty.summary, "Nothing is on the calendar then.");

    let export = world.call("calendar_export", json!({})).await.unwrap();
    assert_eq!(export.value["events"], 3);
    let path = world.data().join("calendar-export/sotto-calendar.ics");
    assert_eq!(export.value["path"], path.display().to_string());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
        "{text}"
    );
    assert!(text.contains("LOCATION:Room 4\\, 2nd floor\r\n"), "{text}");
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 3);
    let back = sotto_builtins::parse_events(&text);
    assert_eq!(back.len(), 3);
}
