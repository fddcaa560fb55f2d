//! The todo.txt line format, parsed and written back without losing what is not understood.

/// One task line: `x 2026-11-27 (A) 2026-11-20 text +project @context due:2026-12-01`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub done: bool,
    pub completed: Option<String>,
    pub priority: Option<char>,
    pub created: Option<String>,
    /// The description, with tags and `due:` removed.
    pub text: String,
    pub due: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Task(Task),
    /// Blank or unparseable lines, kept verbatim.
    Other(String),
}

/// The whole file. Task numbers are 1-based line numbers, as todo.txt tools count them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TodoFile {
    lines: Vec<Line>,
}

fn is_date(word: &str) -> bool {
    word.len() == 10
        && word.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        })
}

impl Task {
    fn parse(line: &str) -> Option<Task> {
        let mut words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            return None;
        }
        let mut task = Task {
            done: false,
            completed: None,
            priority: None,
            created: None,
            text: String::new(),
            due: None,
        };
        if words[0] == "x" {
            task.done = true;
            words.remove(0);
            if words.first().is_some_and(|w| is_date(w)) {
                task.completed = Some(words.remove(0).to_string());
            }
        }
        if let Some(p) = words.first().and_then(|w| {
            let b = w.as_bytes();
            (b.len() == 3 && b[0] == b'(' && b[2] == b')' && b[1].is_ascii_uppercase())
                .then_some(b[1] as char)
        }) {
            task.priority = Some(p);
            words.remove(0);
        }
        if words.first().is_some_and(|w| is_date(w)) {
            task.created = Some(words.remove(0).to_string());
        }
        let mut text = Vec::new();
        for word in words {
            match word.strip_prefix("due:") {
                Some(date) if is_date(date) => task.due = Some(date.to_string()),
                _ => text.push(word),
            }
        }
        task.text = text.join(" ");
        Some(task)
    }

    fn render(&self) -> String {
        let mut out = Vec::new();
        if self.done {
            out.push("x".to_string());
            out.extend(self.completed.clone());
        }
        if let Some(p) = self.priority {
            out.push(format!("({p})"));
        }
        out.extend(self.created.clone());
        out.push(self.text.clone());
        if let Some(due) = &self.due {
            out.push(format!("due:{due}"));
        }
        out.join(" ")
    }
}

impl TodoFile {
    pub fn parse(text: &str) -> TodoFile {
        TodoFile {
            lines: text
                .lines()
                .map(|l| Task::parse(l).map_or_else(|| Line::Other(l.to_string()), Line::Task))
                .collect(),
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            match line {
                Line::Task(task) => out.push_str(&task.render()),
                Line::Other(text) => out.push_str(text),
            }
            out.push('\n');
        }
        out
    }

    /// Appends a task; returns its number.
    pub fn push(&mut self, task: Task) -> usize {
        self.lines.push(Line::Task(task));
        self.lines.len()
    }

    pub fn tasks(&self) -> impl Iterator<Item = (usize, &Task)> {
        self.lines.iter().enumerate().filter_map(|(i, l)| match l {
            Line::Task(t) => Some((i + 1, t)),
            Line::Other(_) => None,
        })
    }

    /// Marks open task `number` done on `date`; todo.txt drops the priority on completion.
    pub fn complete(&mut self, number: usize, date: &str) -> Option<Task> {
        match self.lines.get_mut(number.checked_sub(1)?)? {
            Line::Task(task) if !task.done => {
                task.done = true;
                task.completed = Some(date.to_string());
                task.priority = None;
                Some(task.clone())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        for line in [
            "(A) 2026-11-20 call mum @phone due:2026-12-01",
            "x 2026-11-27 2026-11-20 water plants +garden",
            "plain task",
        ] {
            let file = TodoFile::parse(line);
            assert_eq!(file.render(), format!("{line}\n"));
        }
        let task = Task::parse("(B) 2026-01-02 pay rent due:2026-02-01").unwrap();
        assert_eq!(task.priority, Some('B'));
        assert_eq!(task.created.as_deref(), Some("2026-01-02"));
        assert_eq!(task.due.as_deref(), Some("2026-02-01"));
        assert_eq!(task.text, "pay rent");
    }

    #[test]
    fn completing_keeps_other_lines() {
        let mut file = TodoFile::parse("(A) one\n\nsomething (odd)\ntwo\n");
        let done = file.complete(1, "2026-11-27").unwrap();
        assert!(done.done);
        assert_eq!(
            file.complete(2, "2026-11-27"),
            None,
            "a blank line is not a task"
        );
        assert_eq!(file.complete(1, "2026-11-27"), None, "already done");
        assert_eq!(file.complete(99, "2026-11-27"), None);
        assert_eq!(file.render(), "x 2026-11-27 one\n\nsomething (odd)\ntwo\n");
    }
}
