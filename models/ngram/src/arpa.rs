//! The ARPA text format: reading (untrusted input: every defect is an [`ArpaError`] with its
//! line, never a panic) and writing.
//!
//! What the reader accepts: any lines before `\data\` (SRILM and KenLM write comments there);
//! `ngram K=COUNT` lines for orders 1, 2, ... in sequence; one `\K-grams:` section per order, in
//! order, each line `log10prob word... [log10backoff]` separated by spaces or tabs; blank lines
//! anywhere; `\end\` last. Counts are only compared, never used to size allocations. Every
//! n-gram's context must be a stored n-gram (the "prefix property" backoff needs). Missing
//! `<s>`, `</s>` or `<unk>` unigrams are added with log10 probability -99.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::model::{Model, MAX_ORDER};
use crate::table::{InsertError, NgramTable, Weights};
use crate::vocab::{VocabularyBuilder, WordId, BOS, EOS, UNK};

/// The log10 probability ARPA files conventionally give `<s>` (it is never predicted).
pub const LOG_ZERO: f32 = -99.0;

/// An ARPA file that could not be read: where and why.
#[derive(Debug)]
pub struct ArpaError {
    /// The file, when read through [`Model::read_arpa_file`].
    pub path: Option<PathBuf>,
    /// 1-based line number (0 for errors before the first line, such as opening the file).
    pub line: usize,
    /// What was wrong.
    pub kind: ArpaErrorKind,
}

impl fmt::Display for ArpaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}: ", path.display())?;
        }
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

impl std::error::Error for ArpaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ArpaErrorKind::Io(error) => Some(error),
            _ => None,
        }
    }
}

/// The defects [`ArpaError`] reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArpaErrorKind {
    #[error("reading failed: {0}")]
    Io(io::Error),
    #[error("the line is not UTF-8")]
    NotUtf8,
    #[error("no \\data\\ header before the end of the file")]
    MissingData,
    #[error("expected `ngram N=COUNT` in \\data\\, found {text:?}")]
    BadCount { text: String },
    #[error("\\data\\ must count orders 1, 2, ... in sequence; found order {found} where {expected} was due")]
    CountOutOfSequence { expected: usize, found: usize },
    #[error("order {order} is above the supported maximum of {MAX_ORDER}")]
    OrderTooHigh { order: usize },
    #[error("\\data\\ counts no n-grams")]
    NoCounts,
    #[error("expected the \\{order}-grams: section, found {found:?}")]
    MissingSection { order: usize, found: String },
    #[error("\\data\\ declares {declared} {order}-grams, the section holds {found}")]
    CountMismatch {
        order: usize,
        declared: u64,
        found: u64,
    },
    #[error("a {order}-gram line needs {expected} fields, this one has {found}")]
    FieldCount {
        order: usize,
        expected: &'static str,
        found: usize,
    },
    #[error("{what} {text:?} is not a number")]
    BadNumber { what: &'static str, text: String },
    #[error("{what} {text:?} is not finite")]
    NonFinite { what: &'static str, text: String },
    #[error("log10 probability {value} is above 0")]
    ProbabilityAboveOne { value: f32 },
    #[error("the {order}-gram uses {word:?}, which is not a unigram")]
    UnknownWord { order: usize, word: String },
    #[error("the {order}-gram {ngram:?} has no stored context {context:?}")]
    MissingPrefix {
        order: usize,
        ngram: String,
        context: String,
    },
    #[error("the {order}-gram {ngram:?} appears twice")]
    Duplicate { order: usize, ngram: String },
    #[error("expected \\end\\, found {found:?}")]
    MissingEnd { found: String },
    #[error("the {order}-gram {ngram:?} has the same 64-bit hash as another (a crafted file?)")]
    HashCollision { order: usize, ngram: String },
    #[error("more {order}-grams than this library can index")]
    TooMany { order: usize },
}

/// Lines with their numbers; `None` at the end of input.
struct Lines<R> {
    reader: R,
    buffer: Vec<u8>,
    number: usize,
}

impl<R: BufRead> Lines<R> {
    fn next_line(&mut self) -> Result<Option<&str>, ArpaError> {
        self.buffer.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.buffer)
            .map_err(|e| error(self.number + 1, ArpaErrorKind::Io(e)))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let text = std::str::from_utf8(&self.buffer)
            .map_err(|_| error(self.number, ArpaErrorKind::NotUtf8))?;
        Ok(Some(text.trim_ascii()))
    }

    /// The next line that is not blank.
    fn next_content(&mut self) -> Result<Option<String>, ArpaError> {
        loop {
            match self.next_line()? {
                None => return Ok(None),
                Some("") => continue,
                Some(text) => return Ok(Some(text.to_owned())),
            }
        }
    }

    fn error(&self, kind: ArpaErrorKind) -> ArpaError {
        error(self.number, kind)
    }
}

fn error(line: usize, kind: ArpaErrorKind) -> ArpaError {
    ArpaError {
        path: None,
        line,
        kind,
    }
}

fn parse_number(what: &'static str, text: &str) -> Result<f32, ArpaErrorKind> {
    let value: f32 = text.parse().map_err(|_| ArpaErrorKind::BadNumber {
        what,
        text: text.to_owned(),
    })?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ArpaErrorKind::NonFinite {
            what,
            text: text.to_owned(),
        })
    }
}

/// `ngram K=COUNT` -> (K, COUNT).
fn parse_count(text: &str) -> Option<(usize, u64)> {
    let rest = text.strip_prefix("ngram")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let (order, count) = rest.trim().split_once('=')?;
    Some((order.trim().parse().ok()?, count.trim().parse().ok()?))
}

impl Model {
    /// Reads an ARPA model from untrusted text: any defect is an [`ArpaError`] with its line.
    ///
    /// Accepted: any lines before `\data\`; `ngram K=COUNT` lines for orders 1, 2, ... in
    /// sequence (at most [`MAX_ORDER`]); one `\K-grams:` section per order, in order, each
    /// line `log10prob word... [log10backoff]` separated by spaces or tabs; blank lines
    /// anywhere; `\end\` last. Counts are only compared, never used to size allocations.
    /// Every n-gram's context must be stored (backoff needs it). Missing `<s>`, `</s>` or
    /// `<unk>` unigrams are added with log10 probability -99.
    pub fn read_arpa<R: BufRead>(reader: R) -> Result<Model, ArpaError> {
        let mut lines = Lines {
            reader,
            buffer: Vec::new(),
            number: 0,
        };
        loop {
            match lines.next_line()? {
                None => return Err(lines.error(ArpaErrorKind::MissingData)),
                Some("\\data\\") => break,
                Some(_) => {}
            }
        }

        let mut declared: Vec<u64> = Vec::new();
        let first_section = loop {
            let Some(text) = lines.next_content()? else {
                return Err(lines.error(ArpaErrorKind::MissingSection {
                    order: 1,
                    found: "the end of the file".into(),
                }));
            };
            if text.starts_with('\\') {
                break text;
            }
            let (order, count) =
                parse_count(&text).ok_or_else(|| lines.error(ArpaErrorKind::BadCount { text }))?;
            if order != declared.len() + 1 {
                return Err(lines.error(ArpaErrorKind::CountOutOfSequence {
                    expected: declared.len() + 1,
                    found: order,
                }));
            }
            if order > MAX_ORDER {
                return Err(lines.error(ArpaErrorKind::OrderTooHigh { order }));
            }
            declared.push(count);
        };
        if declared.is_empty() {
            return Err(lines.error(ArpaErrorKind::NoCounts));
        }

        let max_order = declared.len();
        let mut vocabulary = VocabularyBuilder::default();
        let mut tables: Vec<NgramTable> = Vec::with_capacity(max_order);
        let mut header = first_section;
        for (k, &declared_count) in declared.iter().enumerate() {
            let order = k + 1;
            if header != format!("\\{order}-grams:") {
                return Err(lines.error(ArpaErrorKind::MissingSection {
                    order,
                    found: header,
                }));
            }
            let header_line = lines.number;
            let mut table = NgramTable::new(order);
            let mut key: Vec<WordId> = Vec::with_capacity(order);
            let next_header = loop {
                let Some(text) = lines.next_content()? else {
                    break String::from("the end of the file");
                };
                if text.starts_with('\\') {
                    break text;
                }
                if table.len() as u64 >= declared_count {
                    return Err(lines.error(ArpaErrorKind::CountMismatch {
                        order,
                        declared: declared_count,
                        found: table.len() as u64 + 1,
                    }));
                }
                if table.len() >= u32::MAX as usize - 1 {
                    return Err(lines.error(ArpaErrorKind::TooMany { order }));
                }
                let weights = read_ngram(&text, order, max_order, &mut vocabulary, &mut key)
                    .map_err(|kind| lines.error(kind))?;
                if order > 1 {
                    let context = &key[1..];
                    if tables[k - 1].find(context).is_none() {
                        return Err(lines.error(ArpaErrorKind::MissingPrefix {
                            order,
                            ngram: join_reversed(&vocabulary, &key),
                            context: join_reversed(&vocabulary, context),
                        }));
                    }
                }
                match table.insert(&key, weights) {
                    Ok(_) => {}
                    Err(InsertError::Duplicate(_)) => {
                        return Err(lines.error(ArpaErrorKind::Duplicate {
                            order,
                            ngram: join_reversed(&vocabulary, &key),
                        }))
                    }
                    Err(InsertError::HashCollision) => {
                        return Err(lines.error(ArpaErrorKind::HashCollision {
                            order,
                            ngram: join_reversed(&vocabulary, &key),
                        }))
                    }
                }
            };
            if table.len() as u64 != declared_count {
                return Err(error(
                    header_line,
                    ArpaErrorKind::CountMismatch {
                        order,
                        declared: declared_count,
                        found: table.len() as u64,
                    },
                ));
            }
            if order == 1 {
                for special in [BOS, EOS, UNK] {
                    let (id, new) = vocabulary.intern(special);
                    if new {
                        let weights = Weights {
                            prob: LOG_ZERO,
                            backoff: 0.0,
                        };
                        // A new id is always the next unigram index.
                        let _ = table.insert(&[id], weights);
                    }
                }
            }
            tables.push(table);
            header = next_header;
        }
        if header != "\\end\\" {
            return Err(lines.error(ArpaErrorKind::MissingEnd { found: header }));
        }
        Ok(Model::from_tables(vocabulary.finish(), tables))
    }

    /// [`Model::read_arpa`] from a string.
    pub fn from_arpa_str(text: &str) -> Result<Model, ArpaError> {
        Model::read_arpa(text.as_bytes())
    }

    /// Reads an ARPA file, gzip-compressed or not (told apart by the gzip magic bytes).
    pub fn read_arpa_file(path: impl AsRef<Path>) -> Result<Model, ArpaError> {
        let path = path.as_ref();
        let with_path = |mut error: ArpaError| {
            error.path = Some(path.to_owned());
            error
        };
        let io_error = |e| with_path(error(0, ArpaErrorKind::Io(e)));
        let mut reader = BufReader::new(File::open(path).map_err(io_error)?);
        let gzip = reader
            .fill_buf()
            .map_err(io_error)?
            .starts_with(&[0x1f, 0x8b]);
        let result = if gzip {
            Model::read_arpa(BufReader::new(flate2::bufread::MultiGzDecoder::new(reader)))
        } else {
            Model::read_arpa(reader)
        };
        result.map_err(with_path)
    }

    /// Writes the model as ARPA text. Numbers are written in the shortest form that reads
    /// back to the same `f32`, so writing what was read gives the same model.
    pub fn write_arpa<W: Write>(&self, mut out: W) -> io::Result<()> {
        let vocabulary = self.vocabulary();
        writeln!(out, "\\data\\")?;
        for (k, table) in self.tables().iter().enumerate() {
            writeln!(out, "ngram {}={}", k + 1, table.len())?;
        }
        let max_order = self.order();
        for table in self.tables() {
            let order = table.order();
            writeln!(out)?;
            writeln!(out, "\\{order}-grams:")?;
            for index in 0..table.len() {
                let weights = table.weights(index);
                write!(out, "{}", weights.prob)?;
                for &word in table.key(index).iter().rev() {
                    write!(out, "\t{}", vocabulary.word(word))?;
                }
                if order < max_order && (table.is_extended(index) || weights.backoff != 0.0) {
                    write!(out, "\t{}", weights.backoff)?;
                }
                writeln!(out)?;
            }
        }
        writeln!(out)?;
        writeln!(out, "\\end\\")?;
        out.flush()
    }

    /// The model as ARPA text.
    pub fn to_arpa_string(&self) -> String {
        let mut out = Vec::new();
        self.write_arpa(&mut out)
            .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("the vocabulary is UTF-8")
    }

    /// Writes an ARPA file, gzip-compressed when the path ends in `.gz`.
    pub fn write_arpa_file(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let file = BufWriter::new(File::create(path)?);
        if path.extension().is_some_and(|e| e == "gz") {
            let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::default());
            self.write_arpa(&mut encoder)?;
            encoder.finish()?.flush()
        } else {
            self.write_arpa(file)
        }
    }
}

/// Parses one n-gram line into `key` (reversed word ids) and its weights.
fn read_ngram(
    text: &str,
    order: usize,
    max_order: usize,
    vocabulary: &mut VocabularyBuilder,
    key: &mut Vec<WordId>,
) -> Result<Weights, ArpaErrorKind> {
    let mut fields: Vec<&str> = text.split_ascii_whitespace().collect();
    let has_backoff = match fields.len() {
        n if n == order + 1 => false,
        n if n == order + 2 && order < max_order => true,
        found => {
            return Err(ArpaErrorKind::FieldCount {
                order,
                expected: if order < max_order {
                    "log10prob, the words, an optional backoff:"
                } else {
                    "log10prob and the words (no backoff at the highest order):"
                },
                found,
            })
        }
    };
    let backoff = if has_backoff {
        let text = fields.pop().unwrap_or_default();
        parse_number("backoff", text)?
    } else {
        0.0
    };
    let prob = parse_number("probability", fields[0])?;
    if prob > 0.0 {
        return Err(ArpaErrorKind::ProbabilityAboveOne { value: prob });
    }
    key.clear();
    for &word in fields[1..].iter().rev() {
        let id = if order == 1 {
            if vocabulary.len() >= u32::MAX as usize - 1 {
                return Err(ArpaErrorKind::TooMany { order });
            }
            vocabulary.intern(word).0
        } else {
            vocabulary
                .get(word)
                .ok_or_else(|| ArpaErrorKind::UnknownWord {
                    order,
                    word: word.to_owned(),
                })?
        };
        key.push(id);
    }
    Ok(Weights { prob, backoff })
}

fn join_reversed(vocabulary: &VocabularyBuilder, key: &[WordId]) -> String {
    let words: Vec<&str> = key.iter().rev().map(|&w| vocabulary.word(w)).collect();
    words.join(" ")
}

/// Reads an ARPA model from bytes, gzip-compressed or not (told apart by the magic bytes).
pub fn read_arpa_bytes(bytes: &[u8]) -> Result<Model, ArpaError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        Model::read_arpa(BufReader::new(flate2::bufread::MultiGzDecoder::new(bytes)))
    } else {
        Model::read_arpa(bytes)
    }
}
