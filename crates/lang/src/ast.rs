//! Abstract syntax tree of a map program.
//!
//! Left-associative binary operator chains (`a + b - c`) are stored flat so
//! that long chains do not produce deep trees (and deep recursion).

use std::rc::Rc;

use crate::error::Span;

/// Binary arithmetic / bitwise operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    MatMul,
    BitAnd,
    BitOr,
    BitXor,
    LShift,
    RShift,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::MatMul => "@",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::LShift => "<<",
            BinOp::RShift => ">>",
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Is,
    IsNot,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
            CmpOp::Is => "is",
            CmpOp::IsNot => "is not",
        }
    }
}

/// Unary operators (`not` is separate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnaryOp {
    Neg,
    Pos,
    Invert,
}

/// A variable name, interned per program: `id` indexes the program's
/// symbol table (and the interpreter's global slots).
#[derive(Debug, Clone)]
pub(crate) struct Name {
    pub id: u32,
    pub text: Rc<str>,
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// An expression with its span.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// One `for target in iter if cond...` clause of a comprehension.
#[derive(Debug, Clone)]
pub(crate) struct CompFor {
    pub target: Expr,
    pub iter: Expr,
    pub ifs: Vec<Expr>,
}

#[derive(Debug, Clone)]
pub(crate) enum ExprKind {
    None,
    True,
    False,
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Ellipsis,
    Name(Name),
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Unary(UnaryOp, Box<Expr>),
    /// `first op1 e1 op2 e2 ...`, evaluated left to right.
    Binary(Box<Expr>, Vec<(BinOp, Expr)>),
    /// `base ** exp` (right associative, so nested).
    Power(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    IfExp {
        cond: Box<Expr>,
        then: Box<Expr>,
        orelse: Box<Expr>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        kwargs: Vec<(Rc<str>, Expr)>,
    },
    Attr(Box<Expr>, Rc<str>),
    Subscript(Box<Expr>, Box<Expr>),
    /// Only valid inside a subscript.
    Slice(Option<Box<Expr>>, Option<Box<Expr>>, Option<Box<Expr>>),
    ListComp(Box<Expr>, Vec<CompFor>),
    DictComp(Box<Expr>, Box<Expr>, Vec<CompFor>),
}

/// A statement with its span.
#[derive(Debug, Clone)]
pub(crate) struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

/// `import a.b as c` entry.
#[derive(Debug, Clone)]
pub(crate) struct ImportName {
    pub module: String,
    /// Whether `as alias` was given (then `bind` is the alias, else the
    /// top-level package name).
    pub aliased: bool,
    pub bind: Name,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub(crate) enum StmtKind {
    Expr(Expr),
    Assign {
        targets: Vec<Expr>,
        value: Expr,
    },
    AugAssign {
        target: Expr,
        op: BinOp,
        value: Expr,
    },
    If {
        branches: Vec<(Expr, Vec<Stmt>)>,
        orelse: Vec<Stmt>,
    },
    For {
        target: Expr,
        iter: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    Break,
    Continue,
    Pass,
    Import(Vec<ImportName>),
    FromImport {
        module: String,
        module_span: Span,
        /// (imported attribute, name bound, span)
        names: Vec<(Rc<str>, Name, Span)>,
    },
    Assert {
        test: Expr,
        msg: Option<Expr>,
    },
    Del(Vec<Expr>),
}
