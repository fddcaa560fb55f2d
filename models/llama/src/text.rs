//! From token bytes to the text the app is shown while it is generated.
//!
//! A token is a run of bytes, not of characters: an emoji or an accented letter can be split
//! across two tokens, so a piece is released only once its characters are whole. And a stop
//! string may arrive over several tokens (`jo` + `in()`), so text that could still become a
//! stop string is held back until it either completes one (and is dropped) or cannot (and is
//! released). The pieces released, concatenated, are exactly the final answer.

/// The generated text so far, released piece by piece.
#[derive(Debug)]
pub struct TextStream {
    stops: Vec<String>,
    /// Bytes of an unfinished UTF-8 character.
    tail: Vec<u8>,
    /// Whole characters not released yet: the end of them may begin a stop string.
    held: String,
    released: String,
    stopped: bool,
}

/// What one token added.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Piece {
    /// Text that can be shown now (may be empty).
    pub text: String,
    /// A stop string was completed: the answer ends before it.
    pub stopped: bool,
}

impl TextStream {
    /// `stops` must not contain the empty string (it would stop before anything).
    pub fn new(stops: &[String]) -> Self {
        TextStream {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            tail: Vec::new(),
            held: String::new(),
            released: String::new(),
            stopped: false,
        }
    }

    /// Adds the bytes of one token.
    pub fn push(&mut self, bytes: &[u8]) -> Piece {
        if self.stopped {
            return Piece {
                text: String::new(),
                stopped: true,
            };
        }
        self.tail.extend_from_slice(bytes);
        let (whole, rest) = decode_whole(&self.tail);
        self.tail = rest;
        self.held.push_str(&whole);

        if let Some(at) = self.first_stop() {
            self.held.truncate(at);
            self.stopped = true;
            self.tail.clear();
            let text = std::mem::take(&mut self.held);
            self.released.push_str(&text);
            return Piece {
                text,
                stopped: true,
            };
        }
        let keep = self.longest_stop_prefix_at_end();
        let text = self.held[..self.held.len() - keep].to_string();
        self.held.drain(..self.held.len() - keep);
        self.released.push_str(&text);
        Piece {
            text,
            stopped: false,
        }
    }

    /// Generation ended: releases whatever was held back (an unfinished character becomes
    /// U+FFFD).
    pub fn finish(&mut self) -> String {
        let mut text = std::mem::take(&mut self.held);
        text.push_str(&String::from_utf8_lossy(&self.tail));
        self.tail.clear();
        self.released.push_str(&text);
        text
    }

    /// Everything released so far.
    pub fn text(&self) -> &str {
        &self.released
    }

    /// Where the earliest complete stop string starts in the held text.
    fn first_stop(&self) -> Option<usize> {
        self.stops.iter().filter_map(|s| self.held.find(s)).min()
    }

    /// The length of the longest end of the held text that is the beginning of a stop string.
    fn longest_stop_prefix_at_end(&self) -> usize {
        let mut longest = 0;
        for stop in &self.stops {
            // Proper prefixes only: a whole stop string would have been found already.
            for (end, _) in stop.char_indices().skip(1) {
                if end > longest && self.held.ends_with(&stop[..end]) {
                    longest = end;
                }
            }
        }
        longest
    }
}

/// Splits bytes into the text of their whole characters and the bytes of an unfinished last
/// character. Bytes that can never be UTF-8 become U+FFFD.
fn decode_whole(mut bytes: &[u8]) -> (String, Vec<u8>) {
    let mut text = String::new();
    loop {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                text.push_str(valid);
                return (text, Vec::new());
            }
            Err(e) => {
                let (valid, after) = bytes.split_at(e.valid_up_to());
                // `valid` is valid UTF-8 by construction.
                text.push_str(&String::from_utf8_lossy(valid));
                match e.error_len() {
                    // Unfinished at the end: wait for the next token.
                    None => return (text, after.to_vec()),
                    Some(bad) => {
                        text.push(char::REPLACEMENT_CHARACTER);
                        bytes = &after[bad..];
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `tokens` through a stream with `stops`; `expected` is the pieces released after
    /// each token (`|` separates them), then `#` and what `finish` released, then `!` if a
    /// stop string ended it.
    fn check(stops: &[&str], tokens: &[&[u8]], expected: &str) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut stream = TextStream::new(&stops);
        let mut pieces = Vec::new();
        let mut stopped = false;
        for token in tokens {
            let piece = stream.push(token);
            pieces.push(piece.text);
            stopped |= piece.stopped;
        }
        let last = stream.finish();
        let mut actual = format!("{}#{last}", pieces.join("|"));
        if stopped {
            actual.push('!');
        }
        assert_eq!(actual, expected, "stops {stops:?}, tokens {tokens:?}");
        assert_eq!(stream.text(), format!("{}{last}", pieces.concat()));
    }

    #[test]
    fn plain_text_passes_straight_through() {
        check(&[], &[b"1.", b" get", b"_time", b"()"], "1.| get|_time|()#");
        check(&["\n\n"], &[b"hello", b" world"], "hello| world#");
    }

    #[test]
    fn characters_split_across_tokens_wait_for_their_last_byte() {
        let e_acute = "é".as_bytes();
        let crab = "🦀".as_bytes();
        check(
            &[],
            &[
                b"caf",
                &e_acute[..1],
                &e_acute[1..],
                b" ",
                &crab[..2],
                &crab[2..3],
                &crab[3..],
            ],
            "caf||é| |||🦀#",
        );
        // Cut off mid-character: the remainder is shown as a replacement character.
        check(&[], &[b"ok ", &crab[..2]], "ok |#\u{FFFD}");
        // Bytes that are never UTF-8 are replaced at once, not held forever.
        check(&[], &[b"a\xffb"], "a\u{FFFD}b#");
    }

    #[test]
    fn a_stop_string_ends_the_text_and_is_not_shown() {
        check(&["join()"], &[b"2. x()\n", b"3. join()"], "2. x()\n|3. #!");
        check(&["\n\n", "END"], &[b"a", b"\n", b"\nb"], "a||#!");
    }

    #[test]
    fn a_stop_string_spread_over_tokens_is_held_back_until_decided() {
        // Held while it could still be "join()", then stopped.
        check(&["join()"], &[b"3. jo", b"in", b"()", b" more"], "3. |||#!");
        // Held, then released when it turns out not to be one.
        check(&["join()"], &[b"3. jo", b"g"], "3. |jog#");
        // Held to the end of generation, then released by finish.
        check(&["join()"], &[b"x jo"], "x #jo");
        // The earliest of two stop strings wins.
        check(&["b", "abc"], &[b"xab"], "xa#!");
    }
}
