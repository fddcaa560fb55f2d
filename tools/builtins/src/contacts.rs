//! Contacts: `contacts_import` (a vCard file from an allowed folder) and `contact_lookup`
//! (email addresses and phone numbers by name).
//!
//! Stored as one vCard file per person in Sotto's `contacts` folder (`<name>.vcf`), the
//! format every address book exports and imports: the user can take them elsewhere, and an
//! import of a newer export replaces the older card of the same name. The parser reads vCard
//! 2.1, 3.0 and 4.0 as far as names, emails, phones and organisations go; anything else in a
//! card is kept in the stored file but not used.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sotto_tools::{
    Capability, DirScope, Example, Reply, Risk, ToolContext, ToolError, ToolInfo, TypedTool,
};

use crate::files::locate;
use crate::notes::slug;

const FOLDER: &str = "contacts";
const MAX_IMPORT_BYTES: u64 = 8 * 1024 * 1024;

/// One value with its kind (`work`, `home`, `cell`, ...), lowercased; empty when untyped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Labelled {
    pub value: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Contact {
    pub name: String,
    pub emails: Vec<Labelled>,
    pub phones: Vec<Labelled>,
    pub organization: Option<String>,
    pub nicknames: Vec<String>,
}

/// A card as found in a file: the parsed contact and the card's own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub contact: Contact,
    pub text: String,
}

/// Joins folded lines (a line starting with a space or tab continues the previous one).
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        match (line.chars().next(), lines.last_mut()) {
            (Some(' ' | '\t'), Some(last)) => last.push_str(&line[1..]),
            _ if line.is_empty() => {}
            _ => lines.push(line.to_string()),
        }
    }
    lines
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits on `;` that are not escaped.
fn components(value: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in value.chars() {
        match c {
            ';' if !escaped => parts.push(String::new()),
            _ => {
                escaped = c == '\\' && !escaped;
                parts.last_mut().expect("never empty").push(c);
            }
        }
    }
    parts.iter().map(|p| unescape(p.trim())).collect()
}

/// The kind of a property from its parameters (`TYPE=work,voice`, v2.1's bare `WORK`).
fn kind_of(params: &[&str]) -> String {
    let mut kinds = Vec::new();
    for param in params {
        let value = match param.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("type") => value,
            Some(_) => continue,
            None => param,
        };
        for kind in value.trim_matches('"').split(',') {
            let kind = kind.to_lowercase();
            if !matches!(kind.as_str(), "internet" | "voice" | "pref" | "x400" | "") {
                kinds.push(kind);
            }
        }
    }
    kinds.join(",")
}

/// Parses every `BEGIN:VCARD` ... `END:VCARD` block in `text`. Cards without any name are
/// skipped.
pub fn parse_vcards(text: &str) -> Vec<Card> {
    let mut cards = Vec::new();
    let mut current: Option<(Contact, Vec<String>, Option<String>)> = None;
    for line in unfold(text) {
        let Some((head, value)) = line.split_once(':') else {
            continue;
        };
        let mut params = head.split(';');
        let name = params.next().unwrap_or_default();
        // A group prefix (`item1.EMAIL`) does not change the meaning.
        let name = name.rsplit('.').next().unwrap_or(name).to_uppercase();
        let params: Vec<&str> = params.collect();
        if name == "BEGIN" && value.trim().eq_ignore_ascii_case("VCARD") {
            let empty = Contact {
                name: String::new(),
                emails: Vec::new(),
                phones: Vec::new(),
                organization: None,
                nicknames: Vec::new(),
            };
            current = Some((empty, vec![line.clone()], None));
            continue;
        }
        let Some((contact, lines, structured)) = current.as_mut() else {
            continue;
        };
        lines.push(line.clone());
        match name.as_str() {
            "FN" => contact.name = unescape(value.trim()),
            "N" => {
                let parts = components(value);
                let given = parts.get(1).map(String::as_str).unwrap_or_default();
                let family = parts.first().map(String::as_str).unwrap_or_default();
                *structured = Some(format!("{given} {family}").trim().to_string());
            }
            "EMAIL" => contact.emails.push(Labelled {
                value: unescape(value.trim()),
                kind: kind_of(&params),
            }),
            "TEL" => contact.phones.push(Labelled {
                value: unescape(value.trim().trim_start_matches("tel:")),
                kind: kind_of(&params),
            }),
            "ORG" => contact.organization = components(value).into_iter().find(|p| !p.is_empty()),
            "NICKNAME" => contact.nicknames.extend(
                value
                    .split(',')
                    .map(|n| unescape(n.trim()))
                    .filter(|n| !n.is_empty()),
            ),
            "END" if value.trim().eq_ignore_ascii_case("VCARD") => {
                let (mut contact, lines, structured) = current.take().expect("inside a card");
                if contact.name.is_empty() {
                    contact.name = structured.unwrap_or_default();
                }
                if !contact.name.is_empty() {
                    cards.push(Card {
                        contact,
                        text: lines.join("\r\n") + "\r\n",
                    });
                }
            }
            _ => {}
        }
    }
    cards
}

fn read_contacts() -> Capability {
    Capability::ReadDir(DirScope::Sotto {
        folder: FOLDER.into(),
    })
}

#[derive(Debug)]
pub struct ContactsImport;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactsImportArgs {
    /// A `.vcf` file in one of the allowed folders (full path, or relative to the folder).
    #[schemars(length(min = 1, max = 4000))]
    pub path: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ContactsImportResult {
    /// Names of the contacts imported (new or updated).
    pub imported: Vec<String>,
}

impl TypedTool for ContactsImport {
    type Args = ContactsImportArgs;
    type Output = ContactsImportResult;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "contacts_import",
            description: "Imports contacts from a vCard (.vcf) file in an allowed folder.",
            examples: vec![
                Example::new(
                    "import my contacts from contacts.vcf",
                    json!({"path": "contacts.vcf"}),
                ),
                Example::new(
                    "add the people in Downloads/team.vcf to my contacts",
                    json!({"path": "Downloads/team.vcf"}),
                ),
                Example::new(
                    "load the address book export /home/me/export.vcf",
                    json!({"path": "/home/me/export.vcf"}),
                ),
            ],
            capabilities: vec![
                Capability::ReadDir(DirScope::UserFolders),
                read_contacts(),
                Capability::WriteDir(DirScope::Sotto {
                    folder: FOLDER.into(),
                }),
            ],
            risk: Risk::ChangesLocalData,
        }
    }

    async fn run(
        &self,
        args: ContactsImportArgs,
        context: &ToolContext,
    ) -> Result<Reply<ContactsImportResult>, ToolError> {
        let (dir, relative) = locate(context.user_folders()?, &args.path)?;
        let (bytes, longer) = dir.read_prefix(&relative, MAX_IMPORT_BYTES)?;
        if longer {
            return Err(ToolError::Refused(format!(
                "{} is larger than 8 MB; that is not an address book",
                args.path
            )));
        }
        let cards = parse_vcards(&String::from_utf8_lossy(&bytes));
        if cards.is_empty() {
            return Err(ToolError::Refused(format!(
                "{} holds no contact cards",
                args.path
            )));
        }
        let store = context.sotto_dir(FOLDER)?;
        let mut imported = Vec::new();
        for card in cards {
            let Some(name) = slug(&card.contact.name) else {
                continue;
            };
            store.write_atomic(&format!("{name}.vcf"), card.text.as_bytes())?;
            imported.push(card.contact.name);
        }
        let summary = format!(
            "Imported {} contact{}.",
            imported.len(),
            if imported.len() == 1 { "" } else { "s" }
        );
        Ok(Reply::new(ContactsImportResult { imported }, summary))
    }
}

#[derive(Debug)]
pub struct ContactLookup;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactLookupArgs {
    /// The person's name (or part of it, or a nickname, or their organisation).
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ContactLookupResult {
    pub contacts: Vec<Contact>,
}

fn matches(contact: &Contact, wanted: &str) -> bool {
    let wanted = wanted.to_lowercase();
    contact.name.to_lowercase().contains(&wanted)
        || contact.nicknames.iter().any(|n| n.to_lowercase() == wanted)
        || contact
            .organization
            .as_deref()
            .is_some_and(|o| o.to_lowercase() == wanted)
}

impl TypedTool for ContactLookup {
    type Args = ContactLookupArgs;
    type Output = ContactLookupResult;

    fn info(&self) -> ToolInfo {
        ToolInfo {
            name: "contact_lookup",
            description: "Looks up a contact's email addresses and phone numbers by name.",
            examples: vec![
                Example::new("what's Anna's email address", json!({"name": "Anna"})),
                Example::new("phone number of Bob Smith", json!({"name": "Bob Smith"})),
                Example::new("how do I reach the plumber", json!({"name": "plumber"})),
            ],
            capabilities: vec![read_contacts()],
            risk: Risk::ReadOnly,
        }
    }

    async fn run(
        &self,
        args: ContactLookupArgs,
        context: &ToolContext,
    ) -> Result<Reply<ContactLookupResult>, ToolError> {
        let store = context.sotto_dir(FOLDER)?;
        let wanted = args.name.trim();
        let mut contacts = Vec::new();
        for entry in store.list(".")? {
            if !entry.is_file || !entry.path.ends_with(".vcf") {
                continue;
            }
            let text = store.read_to_string(&entry.path)?;
            contacts.extend(
                parse_vcards(&text)
                    .into_iter()
                    .map(|c| c.contact)
                    .filter(|c| matches(c, wanted)),
            );
        }
        let summary = match contacts.as_slice() {
            [] => format!("I have no contact called {wanted}."),
            [one] => {
                let mut facts = Vec::new();
                facts.extend(one.emails.iter().map(|e| format!("email {}", e.value)));
                facts.extend(one.phones.iter().map(|p| format!("phone {}", p.value)));
                if facts.is_empty() {
                    format!("{} has no email or phone number.", one.name)
                } else {
                    format!("{}: {}.", one.name, facts.join(", "))
                }
            }
            many => format!(
                "{} contacts match: {}.",
                many.len(),
                many.iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Ok(Reply::new(ContactLookupResult { contacts }, summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcards_of_several_versions() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Smith\r\nN:Smith;Anna;;;\r\nEMAIL;TYPE=INTERNET,WORK:anna@example.org\r\nTEL;TYPE=CELL:+44 7700 900123\r\nORG:Example\\, Ltd;Sales\r\nNOTE:long note that is \r\n folded\r\nEND:VCARD\r\n\
BEGIN:VCARD\nVERSION:4.0\nN:Jones;Bob;;;\nitem1.EMAIL;TYPE=home:bob@example.com\nTEL;VALUE=uri;TYPE=\"voice,home\":tel:+1-555-0100\nNICKNAME:Bobby,BJ\nEND:VCARD\n\
BEGIN:VCARD\nVERSION:2.1\nN:;;;;\nEND:VCARD\n";
        let cards = parse_vcards(text);
        assert_eq!(cards.len(), 2);
        let anna = &cards[0].contact;
        assert_eq!(anna.name, "Anna Smith");
        assert_eq!(
            anna.emails,
            [Labelled {
                value: "anna@example.org".into(),
                kind: "work".into()
            }]
        );
        assert_eq!(anna.phones[0].value, "+44 7700 900123");
        assert_eq!(anna.phones[0].kind, "cell");
        assert_eq!(anna.organization.as_deref(), Some("Example, Ltd"));
        assert!(cards[0].text.contains("NOTE:long note that is folded"));
        let bob = &cards[1].contact;
        assert_eq!(bob.name, "Bob Jones");
        assert_eq!(bob.emails[0].kind, "home");
        assert_eq!(bob.phones[0].value, "+1-555-0100");
        assert_eq!(bob.nicknames, ["Bobby", "BJ"]);
        assert!(matches(bob, "bobby") && matches(bob, "jones") && !matches(bob, "anna"));
    }
}
