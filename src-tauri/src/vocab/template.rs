//! Every linear way of saying a fast-path template (`sotto-fastpath`'s syntax: words,
//! `[optional]`, `(a|b)` choices, `{slot}` and `{slot=value}`), with the slots left to fill.
//! That crate compiles templates into the same sequences but keeps them private: it matches,
//! it does not generate.

/// One position of a way of saying a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Word(String),
    /// An argument said in words (`{minutes}`); fixed ones (`{action=up}`) say nothing.
    Slot(String),
}

#[derive(Debug, Clone)]
enum Node {
    Word(String),
    Slot(String),
    /// `[...]`: nothing, or one of the alternatives.
    Optional(Vec<Vec<Node>>),
    Choice(Vec<Vec<Node>>),
}

/// Most ways of saying one template (the fast path refuses looser templates anyway).
const MAX_SEQUENCES: usize = 256;

/// Every way of saying `template`, at most [`MAX_SEQUENCES`]; empty when it does not parse.
pub fn expand(template: &str) -> Vec<Vec<Piece>> {
    let chars: Vec<char> = template.chars().collect();
    let mut at = 0;
    let Some(nodes) = parse_seq(&chars, &mut at, &[]) else {
        return Vec::new();
    };
    if at != chars.len() {
        return Vec::new();
    }
    let mut out = vec![Vec::new()];
    extend(&mut out, &nodes);
    out.retain(|s| !s.is_empty());
    out
}

/// Appends every way of saying `nodes` to every sequence in `sequences`.
fn extend(sequences: &mut Vec<Vec<Piece>>, nodes: &[Node]) {
    for node in nodes {
        match node {
            Node::Word(w) => sequences
                .iter_mut()
                .for_each(|s| s.push(Piece::Word(w.clone()))),
            Node::Slot(n) => sequences
                .iter_mut()
                .for_each(|s| s.push(Piece::Slot(n.clone()))),
            Node::Optional(alternatives) | Node::Choice(alternatives) => {
                let mut next = Vec::new();
                if matches!(node, Node::Optional(_)) {
                    next.extend(sequences.iter().cloned());
                }
                for alternative in alternatives {
                    let mut branch = sequences.clone();
                    extend(&mut branch, alternative);
                    next.extend(branch);
                }
                next.truncate(MAX_SEQUENCES);
                *sequences = next;
            }
        }
    }
}

fn parse_seq(chars: &[char], at: &mut usize, closers: &[char]) -> Option<Vec<Node>> {
    let mut nodes = Vec::new();
    while let Some(&c) = chars.get(*at) {
        if closers.contains(&c) {
            break;
        }
        match c {
            c if c.is_whitespace() => *at += 1,
            '[' => {
                *at += 1;
                nodes.push(Node::Optional(parse_choice(chars, at, ']')?));
            }
            '(' => {
                *at += 1;
                nodes.push(Node::Choice(parse_choice(chars, at, ')')?));
            }
            '{' => {
                let end = chars[*at..].iter().position(|&c| c == '}')?;
                let inside: String = chars[*at + 1..*at + end].iter().collect();
                *at += end + 1;
                if !inside.contains('=') {
                    nodes.push(Node::Slot(inside.trim().to_string()));
                }
            }
            ']' | ')' | '|' | '}' => return None,
            _ => {
                let start = *at;
                while chars
                    .get(*at)
                    .is_some_and(|c| !c.is_whitespace() && !"[]()|{}".contains(*c))
                {
                    *at += 1;
                }
                nodes.push(Node::Word(chars[start..*at].iter().collect()));
            }
        }
    }
    Some(nodes)
}

fn parse_choice(chars: &[char], at: &mut usize, close: char) -> Option<Vec<Vec<Node>>> {
    let mut alternatives = Vec::new();
    loop {
        alternatives.push(parse_seq(chars, at, &['|', close])?);
        match chars.get(*at) {
            Some('|') => *at += 1,
            Some(&c) if c == close => {
                *at += 1;
                return Some(alternatives);
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{expand, Piece};

    /// The ways of saying `template`, sorted, slots as `<name>`.
    fn said(template: &str) -> Vec<String> {
        let mut out: Vec<String> = expand(template)
            .into_iter()
            .map(|sequence| {
                sequence
                    .iter()
                    .map(|p| match p {
                        Piece::Word(w) => w.clone(),
                        Piece::Slot(n) => format!("<{n}>"),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_way_of_saying_a_template() {
        assert_eq!(
            said("(open|start) [the] {name}"),
            [
                "open <name>",
                "open the <name>",
                "start <name>",
                "start the <name>"
            ]
        );
        assert_eq!(said("volume up {action=up}"), ["volume up"]);
        assert_eq!(
            said("set [the] volume to {percent} [percent|%] {action=set}"),
            [
                "set the volume to <percent>",
                "set the volume to <percent> %",
                "set the volume to <percent> percent",
                "set volume to <percent>",
                "set volume to <percent> %",
                "set volume to <percent> percent",
            ]
        );
        assert_eq!(
            said("(make it|turn it) louder"),
            ["make it louder", "turn it louder"]
        );
        for broken in ["(open", "open]", "{name", "a | b"] {
            assert!(said(broken).is_empty(), "{broken}");
        }
    }
}
