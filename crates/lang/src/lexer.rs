//! Tokenizer: turns source text into tokens, including Python's
//! `NEWLINE`/`INDENT`/`DEDENT` layout tokens.
//!
//! Indentation is compared as raw whitespace strings: a line is indented
//! deeper when its indentation strictly extends the enclosing one (same
//! prefix), and a dedent must return exactly to an enclosing level. Mixing
//! tabs and spaces inconsistently is therefore a `SyntaxError`.

use std::rc::Rc;

use crate::error::{ErrorKind, LangError, Span};

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Name(Rc<str>),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    /// A keyword such as `if`, `for`, `True`.
    Kw(&'static str),
    /// An operator or delimiter such as `+`, `**=`, `(`.
    Op(&'static str),
    Newline,
    Indent,
    Dedent,
    Eof,
}

/// A token with its source span.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Operators, longest first so that the first match is the longest.
const OPERATORS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", "@=", "->", ":=", "<<", ">>", "+", "-", "*", "/", "%", "@", "&", "|",
    "^", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";",
];

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
    col: u32,
    tokens: Vec<Token>,
    indents: Vec<&'a str>,
    /// Open brackets: (char, span).
    brackets: Vec<(char, Span)>,
    at_line_start: bool,
}

/// Tokenizes `src`. The token list always ends with `Eof`.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, LangError> {
    let mut lx = Lexer {
        src,
        pos: 0,
        line: 1,
        col: 1,
        tokens: Vec::new(),
        indents: vec![""],
        brackets: Vec::new(),
        at_line_start: true,
    };
    lx.run()?;
    Ok(lx.tokens)
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().nth(n))
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' || (c == '\r' && self.peek() != Some('\n')) {
            self.line = self.line.saturating_add(1);
            self.col = 1;
        } else if c == '\r' {
            // Part of a CRLF pair: the '\n' advances the line.
        } else {
            self.col = self.col.saturating_add(1);
        }
        Some(c)
    }

    fn here(&self) -> Span {
        Span {
            start: self.pos,
            end: self.pos,
            line: self.line,
            col: self.col,
            end_line: self.line,
            end_col: self.col,
        }
    }

    fn span_from(&self, start: Span) -> Span {
        Span {
            start: start.start,
            end: self.pos,
            line: start.line,
            col: start.col,
            end_line: self.line,
            end_col: self.col,
        }
    }

    fn err(&self, msg: impl Into<String>, span: Span) -> LangError {
        LangError::new(ErrorKind::Syntax, msg, span)
    }

    fn push(&mut self, tok: Tok, span: Span) {
        self.tokens.push(Token { tok, span });
    }

    fn last_is_newline_or_empty(&self) -> bool {
        matches!(
            self.tokens.last().map(|t| &t.tok),
            None | Some(Tok::Newline) | Some(Tok::Indent) | Some(Tok::Dedent)
        )
    }

    fn run(&mut self) -> Result<(), LangError> {
        loop {
            if self.at_line_start && self.brackets.is_empty() {
                self.at_line_start = false;
                if self.indentation()? {
                    continue;
                }
            }
            // Skip inline whitespace.
            while matches!(self.peek(), Some(' ' | '\t' | '\x0c')) {
                self.bump();
            }
            let start = self.here();
            let Some(c) = self.peek() else {
                return self.finish();
            };
            match c {
                '#' => {
                    while !matches!(self.peek(), None | Some('\n' | '\r')) {
                        self.bump();
                    }
                }
                '\\' => {
                    self.bump();
                    match self.peek() {
                        Some('\n') => {
                            self.bump();
                        }
                        Some('\r') => {
                            self.bump();
                            if self.peek() == Some('\n') {
                                self.bump();
                            }
                        }
                        _ => {
                            return Err(self.err(
                                "unexpected character after line continuation character",
                                self.span_from(start),
                            ));
                        }
                    }
                    if self.peek().is_none() {
                        return Err(self.err(
                            "unexpected end of file after line continuation",
                            self.span_from(start),
                        ));
                    }
                }
                '\n' | '\r' => {
                    self.bump();
                    if c == '\r' && self.peek() == Some('\n') {
                        self.bump();
                    }
                    if self.brackets.is_empty() {
                        if !self.last_is_newline_or_empty() {
                            self.push(Tok::Newline, start);
                        }
                        self.at_line_start = true;
                    }
                }
                '0'..='9' => self.number(start)?,
                '.' if matches!(self.peek_at(1), Some('0'..='9')) => self.number(start)?,
                '\'' | '"' => self.string(start, "")?,
                c if is_ident_start(c) => self.name(start)?,
                _ => self.operator(start, c)?,
            }
        }
    }

    /// Handles indentation at the start of a logical line. Returns true if
    /// the line was blank or a comment and has been consumed.
    fn indentation(&mut self) -> Result<bool, LangError> {
        let start_pos = self.pos;
        let start = self.here();
        while matches!(self.peek(), Some(' ' | '\t' | '\x0c')) {
            self.bump();
        }
        let indent = self.src.get(start_pos..self.pos).unwrap_or("");
        match self.peek() {
            None => return Ok(false),
            Some('#') => {
                while !matches!(self.peek(), None | Some('\n' | '\r')) {
                    self.bump();
                }
                self.consume_line_end();
                self.at_line_start = true;
                return Ok(true);
            }
            Some('\n' | '\r') => {
                self.consume_line_end();
                self.at_line_start = true;
                return Ok(true);
            }
            Some('\\') => {
                // A line starting with a continuation: treat as not blank.
            }
            _ => {}
        }
        let span = self.span_from(start);
        let top = self.indents.last().copied().unwrap_or("");
        if indent == top {
            return Ok(false);
        }
        if indent.len() > top.len() && indent.starts_with(top) {
            if self.tokens.is_empty() {
                // Indented first line of the program.
                return Err(self.err("unexpected indent", span));
            }
            self.indents.push(indent);
            self.push(Tok::Indent, span);
            return Ok(false);
        }
        // Dedent: must match an enclosing level exactly.
        while let Some(&top) = self.indents.last() {
            if top == indent {
                return Ok(false);
            }
            if top.len() <= indent.len() || self.indents.len() == 1 {
                break;
            }
            self.indents.pop();
            self.push(Tok::Dedent, span.start_point());
        }
        let msg = if indent.contains('\t') != top.contains('\t')
            || indent.contains(' ') != top.contains(' ')
        {
            "inconsistent use of tabs and spaces in indentation"
        } else {
            "unindent does not match any outer indentation level"
        };
        Err(self.err(msg, span))
    }

    fn consume_line_end(&mut self) {
        match self.peek() {
            Some('\n') => {
                self.bump();
            }
            Some('\r') => {
                self.bump();
                if self.peek() == Some('\n') {
                    self.bump();
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self) -> Result<(), LangError> {
        if let Some(&(c, span)) = self.brackets.last() {
            return Err(self.err(format!("'{c}' was never closed"), span));
        }
        let here = self.here();
        if !self.last_is_newline_or_empty() {
            self.push(Tok::Newline, here);
        }
        while self.indents.len() > 1 {
            self.indents.pop();
            self.push(Tok::Dedent, here);
        }
        self.push(Tok::Eof, here);
        Ok(())
    }

    fn name(&mut self, start: Span) -> Result<(), LangError> {
        while self.peek().is_some_and(is_ident_char) {
            self.bump();
        }
        let text = self.src.get(start.start..self.pos).unwrap_or("");
        if matches!(self.peek(), Some('\'' | '"'))
            && text.len() <= 2
            && text
                .chars()
                .all(|c| matches!(c.to_ascii_lowercase(), 'r' | 'b' | 'u' | 'f'))
        {
            let prefix = text.to_ascii_lowercase();
            return self.string(start, &prefix);
        }
        if let Some(kw) = KEYWORDS.iter().find(|k| **k == text) {
            self.push(Tok::Kw(kw), self.span_from(start));
        } else {
            self.push(Tok::Name(Rc::from(text)), self.span_from(start));
        }
        Ok(())
    }

    fn number(&mut self, start: Span) -> Result<(), LangError> {
        let c0 = self.peek();
        let c1 = self.peek_at(1).map(|c| c.to_ascii_lowercase());
        if c0 == Some('0') && matches!(c1, Some('x' | 'o' | 'b')) {
            self.bump();
            self.bump();
            let radix = match c1 {
                Some('x') => 16,
                Some('o') => 8,
                _ => 2,
            };
            let digits_start = self.pos;
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.bump();
            }
            let digits: String = self
                .src
                .get(digits_start..self.pos)
                .unwrap_or("")
                .chars()
                .filter(|&c| c != '_')
                .collect();
            let span = self.span_from(start);
            let v = i64::from_str_radix(&digits, radix).map_err(|e| {
                if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) {
                    self.err("integer literal is too large", span)
                } else {
                    self.err("invalid integer literal", span)
                }
            })?;
            self.push(Tok::Int(v), span);
            return Ok(());
        }
        let mut is_float = false;
        self.digits();
        if self.peek() == Some('.') {
            is_float = true;
            self.bump();
            self.digits();
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let save = (self.pos, self.line, self.col);
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            if matches!(self.peek(), Some('0'..='9')) {
                is_float = true;
                self.digits();
            } else {
                (self.pos, self.line, self.col) = save;
            }
        }
        if matches!(self.peek(), Some('j' | 'J')) {
            self.bump();
            return Err(self.err(
                "complex numbers are not supported in map programs",
                self.span_from(start),
            ));
        }
        if self.peek().is_some_and(is_ident_char) {
            while self.peek().is_some_and(is_ident_char) {
                self.bump();
            }
            return Err(self.err("invalid decimal literal", self.span_from(start)));
        }
        let span = self.span_from(start);
        let text: String = self
            .src
            .get(start.start..self.pos)
            .unwrap_or("")
            .chars()
            .filter(|&c| c != '_')
            .collect();
        if is_float {
            let v: f64 = text
                .parse()
                .map_err(|_| self.err("invalid float literal", span))?;
            self.push(Tok::Float(v), span);
        } else {
            let v: i64 = text.parse().map_err(|e: std::num::ParseIntError| {
                if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) {
                    self.err("integer literal is too large", span)
                } else {
                    self.err("invalid integer literal", span)
                }
            })?;
            self.push(Tok::Int(v), span);
        }
        Ok(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some('0'..='9' | '_')) {
            self.bump();
        }
    }

    fn string(&mut self, start: Span, prefix: &str) -> Result<(), LangError> {
        let Some(quote) = self.bump() else {
            return Err(self.err("unterminated string literal", self.span_from(start)));
        };
        let triple = self.peek() == Some(quote) && self.peek_at(1) == Some(quote);
        if triple {
            self.bump();
            self.bump();
        }
        let raw = prefix.contains('r');
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                let what = if triple {
                    "unterminated triple-quoted string literal"
                } else {
                    "unterminated string literal"
                };
                return Err(self.err(what, self.span_from(start)));
            };
            if c == quote {
                if !triple {
                    self.bump();
                    break;
                }
                if self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote) {
                    self.bump();
                    self.bump();
                    self.bump();
                    break;
                }
                self.bump();
                out.push(c);
                continue;
            }
            if (c == '\n' || c == '\r') && !triple {
                return Err(self.err("unterminated string literal", self.span_from(start)));
            }
            if c == '\\' {
                let esc_start = self.here();
                self.bump();
                let Some(e) = self.peek() else {
                    continue;
                };
                if raw {
                    out.push('\\');
                    out.push(e);
                    self.bump();
                    continue;
                }
                self.bump();
                match e {
                    '\n' => {}
                    '\r' => {
                        if self.peek() == Some('\n') {
                            self.bump();
                        }
                    }
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\\' => out.push('\\'),
                    '\'' => out.push('\''),
                    '"' => out.push('"'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match self.peek().and_then(|c| c.to_digit(8)) {
                                Some(d) => {
                                    v = v * 8 + d;
                                    self.bump();
                                }
                                None => break,
                            }
                        }
                        out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    }
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut v: u32 = 0;
                        for _ in 0..n {
                            match self.peek().and_then(|c| c.to_digit(16)) {
                                Some(d) => {
                                    v = v.wrapping_mul(16).wrapping_add(d);
                                    self.bump();
                                }
                                None => {
                                    return Err(self.err(
                                        format!("truncated \\{e} escape in string literal"),
                                        self.span_from(esc_start),
                                    ));
                                }
                            }
                        }
                        match char::from_u32(v) {
                            Some(ch) => out.push(ch),
                            None => {
                                return Err(self.err(
                                    "invalid unicode escape in string literal",
                                    self.span_from(esc_start),
                                ));
                            }
                        }
                    }
                    'N' => {
                        return Err(self.err(
                            "\\N{...} escapes are not supported in map programs",
                            self.span_from(esc_start),
                        ));
                    }
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                continue;
            }
            self.bump();
            out.push(c);
        }
        let span = self.span_from(start);
        if prefix.contains('f') {
            return Err(self.err("f-strings are not supported in map programs", span));
        }
        if prefix.contains('b') {
            return Err(self.err("bytes literals are not supported in map programs", span));
        }
        self.push(Tok::Str(Rc::from(out)), span);
        Ok(())
    }

    fn operator(&mut self, start: Span, c: char) -> Result<(), LangError> {
        let rest = self.src.get(self.pos..).unwrap_or("");
        let Some(op) = OPERATORS.iter().find(|op| rest.starts_with(**op)) else {
            self.bump();
            let msg = if c == '!' {
                "invalid syntax: '!' (did you mean 'not' or '!='?)".to_string()
            } else if c.is_control() || !c.is_ascii() {
                format!("invalid character {:?} (U+{:04X})", c, c as u32)
            } else {
                format!("invalid character '{c}'")
            };
            return Err(self.err(msg, self.span_from(start)));
        };
        for _ in 0..op.len() {
            self.bump();
        }
        let span = self.span_from(start);
        match *op {
            "(" | "[" | "{" => {
                self.brackets.push((c, span));
            }
            ")" | "]" | "}" => {
                let open = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                match self.brackets.pop() {
                    None => return Err(self.err(format!("unmatched '{c}'"), span)),
                    Some((o, _)) if o != open => {
                        return Err(self.err(
                            format!(
                                "closing parenthesis '{c}' does not match opening parenthesis '{o}'"
                            ),
                            span,
                        ));
                    }
                    Some(_) => {}
                }
            }
            _ => {}
        }
        self.push(Tok::Op(op), span);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        match tokenize(src) {
            Ok(t) => t.into_iter().map(|t| t.tok).collect(),
            Err(e) => panic!("lex error: {e}"),
        }
    }

    fn name(s: &str) -> Tok {
        Tok::Name(Rc::from(s))
    }

    #[test]
    fn indent_dedent() {
        let toks = kinds("if x:\n    y = 1\n    if z:\n        pass\nw\n");
        assert_eq!(
            toks,
            vec![
                Tok::Kw("if"),
                name("x"),
                Tok::Op(":"),
                Tok::Newline,
                Tok::Indent,
                name("y"),
                Tok::Op("="),
                Tok::Int(1),
                Tok::Newline,
                Tok::Kw("if"),
                name("z"),
                Tok::Op(":"),
                Tok::Newline,
                Tok::Indent,
                Tok::Kw("pass"),
                Tok::Newline,
                Tok::Dedent,
                Tok::Dedent,
                name("w"),
                Tok::Newline,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn dedent_at_eof_and_blank_lines() {
        let toks = kinds("for i in x:\n\n  # comment\n  a\n");
        assert_eq!(toks.iter().filter(|t| **t == Tok::Indent).count(), 1);
        assert_eq!(toks.iter().filter(|t| **t == Tok::Dedent).count(), 1);
        assert_eq!(toks.last(), Some(&Tok::Eof));
    }

    #[test]
    fn tabs_indentation() {
        let toks = kinds("if x:\n\ty\n\tz\n");
        assert_eq!(toks.iter().filter(|t| **t == Tok::Indent).count(), 1);
    }

    #[test]
    fn inconsistent_dedent_is_error() {
        let err = tokenize("if x:\n    y\n  z\n").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Syntax);
        assert!(err.message.contains("unindent"), "{}", err.message);
        assert_eq!(err.span.line, 3);
        let err = tokenize("if x:\n    y\n\tz\n").unwrap_err();
        assert!(err.message.contains("inconsistent"), "{}", err.message);
    }

    #[test]
    fn unexpected_indent_first_line() {
        let err = tokenize("  x = 1\n").unwrap_err();
        assert_eq!(err.message, "unexpected indent");
    }

    #[test]
    fn implicit_joining_and_backslash() {
        let toks = kinds("x = (1,\n     2)\ny = 1 + \\\n  2\n");
        assert_eq!(toks.iter().filter(|t| **t == Tok::Newline).count(), 2);
        assert!(!toks.contains(&Tok::Indent));
    }

    #[test]
    fn numbers() {
        assert_eq!(
            kinds("1 1.5 1e-3 .5 2. 0x1F 1_000"),
            vec![
                Tok::Int(1),
                Tok::Float(1.5),
                Tok::Float(1e-3),
                Tok::Float(0.5),
                Tok::Float(2.0),
                Tok::Int(31),
                Tok::Int(1000),
                Tok::Newline,
                Tok::Eof
            ]
        );
        assert!(tokenize("99999999999999999999").is_err());
        assert!(tokenize("1abc").is_err());
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            kinds(
                r#"'a\nb' "c'd" r'\n' '''x
y'''"#
            ),
            vec![
                Tok::Str(Rc::from("a\nb")),
                Tok::Str(Rc::from("c'd")),
                Tok::Str(Rc::from("\\n")),
                Tok::Str(Rc::from("x\ny")),
                Tok::Newline,
                Tok::Eof
            ]
        );
        let e = tokenize("'abc").unwrap_err();
        assert_eq!(e.message, "unterminated string literal");
        let e = tokenize("x = f'{a}'").unwrap_err();
        assert!(e.message.contains("f-strings are not supported"));
        assert_eq!((e.span.line, e.span.col, e.span.end_col), (1, 5, 11));
    }

    #[test]
    fn operators_longest_match() {
        assert_eq!(
            kinds("a //= b ** c"),
            vec![
                name("a"),
                Tok::Op("//="),
                name("b"),
                Tok::Op("**"),
                name("c"),
                Tok::Newline,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn brackets_errors() {
        assert_eq!(
            tokenize("(1, 2").unwrap_err().message,
            "'(' was never closed"
        );
        assert_eq!(tokenize("1)").unwrap_err().message, "unmatched ')'");
        assert!(
            tokenize("(1]")
                .unwrap_err()
                .message
                .contains("does not match")
        );
        assert!(
            tokenize("a $ b")
                .unwrap_err()
                .message
                .contains("invalid character")
        );
    }

    #[test]
    fn spans_count_chars() {
        let toks = tokenize("é = 'ü'\nb").unwrap();
        let b = toks.iter().find(|t| t.tok == name("b")).unwrap();
        assert_eq!((b.span.line, b.span.col), (2, 1));
        let s = &toks[2];
        assert_eq!((s.span.col, s.span.end_col), (5, 8));
        assert_eq!(s.span.start, 5);
    }
}
