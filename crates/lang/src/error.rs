//! Source spans and the error type shared by the lexer, parser and interpreter.

use std::fmt;

/// A region of the source text.
///
/// `start`/`end` are byte offsets (`end` exclusive). `line`/`col` are the
/// 1-based position of the first character; `end_line`/`end_col` the 1-based
/// position just past the last character (exclusive, like Python's
/// `end_col_offset + 1`). Columns count characters (not bytes); a tab counts
/// as one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset just past the last byte.
    pub end: usize,
    /// 1-based line of the first character.
    pub line: u32,
    /// 1-based column (in characters) of the first character.
    pub col: u32,
    /// 1-based line of the position just past the last character.
    pub end_line: u32,
    /// 1-based column (in characters) just past the last character.
    pub end_col: u32,
}

impl Span {
    /// The span from the start of `self` to the end of `other`.
    pub fn to(self, other: Span) -> Span {
        if other.end < self.start {
            return self;
        }
        Span {
            start: self.start,
            end: other.end,
            line: self.line,
            col: self.col,
            end_line: other.end_line,
            end_col: other.end_col,
        }
    }

    /// An empty span at the start of `self`.
    pub fn start_point(self) -> Span {
        Span {
            start: self.start,
            end: self.start,
            line: self.line,
            col: self.col,
            end_line: self.line,
            end_col: self.col,
        }
    }

    /// The text covered by this span, if it lies within `src`.
    pub fn text(self, src: &str) -> Option<&str> {
        src.get(self.start..self.end)
    }
}

/// The category of a [`LangError`]. Displayed with a Python-like name
/// (`SyntaxError`, `NameError`, `TypeError`, `IndexError`, `ValueError`,
/// `LimitError`, `HostError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The program text is not valid (or uses an unsupported construct).
    Syntax,
    /// An unknown name, or a module that is not available.
    Name,
    /// An operation applied to a value of the wrong type (also unknown
    /// attributes and wrong call arguments).
    Type,
    /// An index or key out of range.
    Index,
    /// A value of the right type but wrong content (division by zero,
    /// unpacking mismatch, shape mismatch, integer overflow, ...).
    Value,
    /// A resource limit of [`crate::Limits`] was exceeded.
    Limit,
    /// A host function reported an error.
    Host,
}

impl ErrorKind {
    /// The Python-like name used when displaying the error.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "SyntaxError",
            ErrorKind::Name => "NameError",
            ErrorKind::Type => "TypeError",
            ErrorKind::Index => "IndexError",
            ErrorKind::Value => "ValueError",
            ErrorKind::Limit => "LimitError",
            ErrorKind::Host => "HostError",
        }
    }
}

/// An error from parsing or running a program, with the source span of the
/// construct that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LangError {
    /// What kind of error this is.
    pub kind: ErrorKind,
    /// A human readable description (without position or kind prefix).
    pub message: String,
    /// Where in the source the error happened.
    pub span: Span,
}

impl LangError {
    /// Creates an error.
    pub fn new(kind: ErrorKind, message: impl Into<String>, span: Span) -> LangError {
        LangError {
            kind,
            message: message.into(),
            span,
        }
    }
}

impl fmt::Display for LangError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}: {}",
            self.span.line,
            self.span.col,
            self.kind.name(),
            self.message
        )
    }
}

impl std::error::Error for LangError {}

/// A runtime failure without a position yet; the interpreter attaches the
/// span of the expression being evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail {
    pub kind: ErrorKind,
    pub msg: String,
}

impl Fail {
    pub fn at(self, span: Span) -> LangError {
        LangError::new(self.kind, self.msg, span)
    }
}

/// Result of span-less runtime helpers.
pub(crate) type R<T> = Result<T, Fail>;

pub(crate) fn fail(kind: ErrorKind, msg: impl Into<String>) -> Fail {
    Fail {
        kind,
        msg: msg.into(),
    }
}

pub(crate) fn type_err(msg: impl Into<String>) -> Fail {
    fail(ErrorKind::Type, msg)
}

pub(crate) fn value_err(msg: impl Into<String>) -> Fail {
    fail(ErrorKind::Value, msg)
}

pub(crate) fn index_err(msg: impl Into<String>) -> Fail {
    fail(ErrorKind::Index, msg)
}

pub(crate) fn limit_err(msg: impl Into<String>) -> Fail {
    fail(ErrorKind::Limit, msg)
}
