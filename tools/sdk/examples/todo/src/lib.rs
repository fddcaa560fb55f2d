//! todo.txt in a folder the user granted: add, list and complete tasks in the plain-text
//! format (<http://todotxt.org>) other todo.txt apps read too. The file is `todo.txt` in the
//! first granted folder; lines Sotto does not understand are kept as they are.

use std::path::PathBuf;

use sotto_plugin_sdk::prelude::*;

mod todotxt;

use todotxt::{Task, TodoFile};

fn todo_path(write: bool) -> Result<PathBuf, Error> {
    let folder = if write {
        fs::writable_user_folder()?
    } else {
        fs::user_folder()?
    };
    Ok(folder.join("todo.txt"))
}

fn load(write: bool) -> Result<(PathBuf, TodoFile), Error> {
    let path = todo_path(write)?;
    let text = fs::read_optional(&path)?.unwrap_or_default();
    Ok((path, TodoFile::parse(&text)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AddArgs {
    /// The task, in words; `+project` and `@context` words are kept as todo.txt tags.
    text: String,
    /// Priority letter, A (highest) to Z.
    #[serde(default)]
    priority: Option<char>,
    /// Due date, YYYY-MM-DD.
    #[serde(default)]
    due: Option<String>,
}

#[derive(Serialize, JsonSchema)]
struct TaskView {
    /// The task's line number in todo.txt, which `todo_done` takes.
    number: usize,
    text: String,
    done: bool,
    priority: Option<char>,
    due: Option<String>,
}

impl TaskView {
    fn of(number: usize, task: &Task) -> TaskView {
        TaskView {
            number,
            text: task.text.clone(),
            done: task.done,
            priority: task.priority,
            due: task.due.clone(),
        }
    }
}

struct Add;

impl Tool for Add {
    type Args = AddArgs;
    type Output = TaskView;

    fn info(&self) -> ToolInfo {
        ToolInfo::new(
            "todo_add",
            "Adds a task to the user's todo.txt list, optionally with a priority and a due date.",
            Risk::ChangesLocalData,
        )
        .needs(Capability::Write(Folder::UserFolders))
        .example(
            "add buy milk to my todo list",
            json!({ "text": "buy milk" }),
        )
        .example(
            "remind me to file taxes by april 30 2027, top priority",
            json!({ "text": "file taxes", "priority": 'A', "due": "2027-04-30" }),
        )
    }

    fn run(&self, args: AddArgs) -> Result<Reply<TaskView>, Error> {
        let text = args.text.trim();
        if text.is_empty() || text.contains('\n') {
            return Err(Error::InvalidArgs(
                "the task must be one non-empty line".into(),
            ));
        }
        if let Some(p) = args.priority {
            if !p.is_ascii_uppercase() {
                return Err(Error::InvalidArgs(format!("priority `{p}` is not A to Z")));
            }
        }
        if let Some(due) = &args.due {
            if time::Date::parse(due).is_none() {
                return Err(Error::InvalidArgs(format!(
                    "due date `{due}` is not YYYY-MM-DD"
                )));
            }
        }
        let (path, mut file) = load(true)?;
        let task = Task {
            done: false,
            completed: None,
            priority: args.priority,
            created: Some(time::today_utc().to_string()),
            text: text.to_string(),
            due: args.due,
        };
        let number = file.push(task.clone());
        fs::write_atomic(&path, &file.render())?;
        Ok(Reply::new(
            TaskView::of(number, &task),
            format!("Added task {number}: {text}."),
        ))
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    /// Also list completed tasks.
    #[serde(default)]
    include_done: bool,
    /// Only tasks containing this text (case-insensitive), such as `+garden` or `@phone`.
    #[serde(default)]
    matching: Option<String>,
}

#[derive(Serialize, JsonSchema)]
struct TaskList {
    tasks: Vec<TaskView>,
}

struct List;

impl Tool for List {
    type Args = ListArgs;
    type Output = TaskList;

    fn info(&self) -> ToolInfo {
        ToolInfo::new(
            "todo_list",
            "Lists the tasks on the user's todo.txt list, highest priority first.",
            Risk::ReadOnly,
        )
        .needs(Capability::Read(Folder::UserFolders))
        .example("what's on my todo list", json!({}))
        .example(
            "which garden tasks are left",
            json!({ "matching": "+garden" }),
        )
    }

    fn run(&self, args: ListArgs) -> Result<Reply<TaskList>, Error> {
        let (_, file) = load(false)?;
        let needle = args.matching.map(|m| m.to_lowercase());
        let mut tasks: Vec<TaskView> = file
            .tasks()
            .filter(|(_, t)| args.include_done || !t.done)
            .filter(|(_, t)| {
                needle
                    .as_ref()
                    .is_none_or(|n| t.text.to_lowercase().contains(n))
            })
            .map(|(n, t)| TaskView::of(n, t))
            .collect();
        // Priority A first, then B..., then none; done ones last; stable by line number.
        tasks.sort_by_key(|t| (t.done, t.priority.map_or(u32::MAX, u32::from), t.number));
        let summary = match tasks.len() {
            0 => "Nothing to do.".to_string(),
            1 => format!("1 task: {}.", tasks[0].text),
            n => format!("{n} tasks, first: {}.", tasks[0].text),
        };
        Ok(Reply::new(TaskList { tasks }, summary))
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DoneArgs {
    /// The task's number, as `todo_list` shows it.
    number: usize,
}

struct Done;

impl Tool for Done {
    type Args = DoneArgs;
    type Output = TaskView;

    fn info(&self) -> ToolInfo {
        ToolInfo::new(
            "todo_done",
            "Marks a task on the user's todo.txt list as done, by its number.",
            Risk::ChangesLocalData,
        )
        .needs(Capability::Write(Folder::UserFolders))
        .example("mark task 3 as done", json!({ "number": 3 }))
    }

    fn run(&self, args: DoneArgs) -> Result<Reply<TaskView>, Error> {
        let (path, mut file) = load(true)?;
        let today = time::today_utc().to_string();
        let task = file
            .complete(args.number, &today)
            .ok_or_else(|| Error::refused(format!("there is no open task {}", args.number)))?;
        fs::write_atomic(&path, &file.render())?;
        Ok(Reply::new(
            TaskView::of(args.number, &task),
            format!("Done: {}.", task.text),
        ))
    }
}

struct Todo;

impl Plugin for Todo {
    fn info() -> PluginInfo {
        PluginInfo::new("todo", "todo.txt", env!("CARGO_PKG_VERSION"))
    }

    fn tools() -> Vec<Box<dyn DynTool>> {
        vec![tool(Add), tool(List), tool(Done)]
    }
}

export_plugin!(Todo);
