//! Recursive-descent parser producing the [`crate::ast`] tree.
//!
//! Recursion is bounded: every nested expression, unary operator, `**`
//! exponent, postfix trailer (call, subscript, attribute) and indented block
//! counts one nesting level, and exceeding the limit is a `SyntaxError`.

use std::collections::HashMap;
use std::rc::Rc;

use crate::ast::{
    BinOp, CmpOp, CompFor, Expr, ExprKind, ImportName, Name, Stmt, StmtKind, UnaryOp,
};
use crate::error::{ErrorKind, LangError, Span};
use crate::lexer::{Tok, Token};

pub(crate) struct Parsed {
    pub body: Vec<Stmt>,
    pub max_nesting: usize,
    pub deepest: Span,
    pub symbols: Vec<Rc<str>>,
}

/// Parses a token list (from [`crate::lexer::tokenize`]).
pub(crate) fn parse_tokens(toks: Vec<Token>, max_depth: usize) -> Result<Parsed, LangError> {
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        max_depth,
        max_seen: 0,
        deepest: Span::default(),
        loop_depth: 0,
        symbols: Vec::new(),
        sym_ids: HashMap::new(),
    };
    let mut body = Vec::new();
    while !p.at_eof() {
        if matches!(p.peek(), Tok::Newline) {
            p.advance();
            continue;
        }
        body.extend(p.statement()?);
    }
    // The evaluator recurses on the tree, so bound the tree's depth too
    // (it can exceed the parser's count, e.g. through call chains).
    let mut deepest = (p.max_seen, p.deepest);
    for s in &body {
        stmt_depth(s, 1, &mut deepest);
    }
    if deepest.0 > max_depth {
        return Err(LangError::new(
            ErrorKind::Syntax,
            format!("program is nested too deeply (more than {max_depth} levels)"),
            deepest.1,
        ));
    }
    Ok(Parsed {
        body,
        max_nesting: deepest.0,
        deepest: deepest.1,
        symbols: p.symbols,
    })
}

fn note(level: usize, span: Span, deepest: &mut (usize, Span)) {
    if level > deepest.0 {
        *deepest = (level, span);
    }
}

/// Records the nesting depth of a statement's tree in `deepest`.
fn stmt_depth(s: &Stmt, level: usize, deepest: &mut (usize, Span)) {
    note(level, s.span, deepest);
    let block = |body: &[Stmt], deepest: &mut (usize, Span)| {
        for b in body {
            stmt_depth(b, level + 1, deepest);
        }
    };
    match &s.kind {
        StmtKind::Expr(e) => expr_depth(e, level + 1, deepest),
        StmtKind::Assign { targets, value } => {
            for t in targets {
                expr_depth(t, level + 1, deepest);
            }
            expr_depth(value, level + 1, deepest);
        }
        StmtKind::AugAssign { target, value, .. } => {
            expr_depth(target, level + 1, deepest);
            expr_depth(value, level + 1, deepest);
        }
        StmtKind::If { branches, orelse } => {
            for (c, b) in branches {
                expr_depth(c, level + 1, deepest);
                block(b, deepest);
            }
            block(orelse, deepest);
        }
        StmtKind::For {
            target,
            iter,
            body,
            orelse,
        } => {
            expr_depth(target, level + 1, deepest);
            expr_depth(iter, level + 1, deepest);
            block(body, deepest);
            block(orelse, deepest);
        }
        StmtKind::While { cond, body, orelse } => {
            expr_depth(cond, level + 1, deepest);
            block(body, deepest);
            block(orelse, deepest);
        }
        StmtKind::Assert { test, msg } => {
            expr_depth(test, level + 1, deepest);
            if let Some(m) = msg {
                expr_depth(m, level + 1, deepest);
            }
        }
        StmtKind::Del(targets) => {
            for t in targets {
                expr_depth(t, level + 1, deepest);
            }
        }
        StmtKind::Break
        | StmtKind::Continue
        | StmtKind::Pass
        | StmtKind::Import(_)
        | StmtKind::FromImport { .. } => {}
    }
}

fn expr_depth(e: &Expr, level: usize, deepest: &mut (usize, Span)) {
    note(level, e.span, deepest);
    let next = level + 1;
    match &e.kind {
        ExprKind::None
        | ExprKind::True
        | ExprKind::False
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Ellipsis
        | ExprKind::Name(_) => {}
        ExprKind::Tuple(items)
        | ExprKind::List(items)
        | ExprKind::And(items)
        | ExprKind::Or(items) => {
            for i in items {
                expr_depth(i, next, deepest);
            }
        }
        ExprKind::Dict(pairs) => {
            for (k, v) in pairs {
                expr_depth(k, next, deepest);
                expr_depth(v, next, deepest);
            }
        }
        ExprKind::Unary(_, x) | ExprKind::Not(x) | ExprKind::Attr(x, _) => {
            expr_depth(x, next, deepest)
        }
        ExprKind::Binary(first, rest) => {
            expr_depth(first, next, deepest);
            for (_, r) in rest {
                expr_depth(r, next, deepest);
            }
        }
        ExprKind::Compare(first, rest) => {
            expr_depth(first, next, deepest);
            for (_, r) in rest {
                expr_depth(r, next, deepest);
            }
        }
        ExprKind::Power(a, b) | ExprKind::Subscript(a, b) => {
            expr_depth(a, next, deepest);
            expr_depth(b, next, deepest);
        }
        ExprKind::IfExp { cond, then, orelse } => {
            expr_depth(cond, next, deepest);
            expr_depth(then, next, deepest);
            expr_depth(orelse, next, deepest);
        }
        ExprKind::Call { func, args, kwargs } => {
            expr_depth(func, next, deepest);
            for a in args {
                expr_depth(a, next, deepest);
            }
            for (_, a) in kwargs {
                expr_depth(a, next, deepest);
            }
        }
        ExprKind::Slice(a, b, c) => {
            for x in [a, b, c].into_iter().flatten() {
                expr_depth(x, next, deepest);
            }
        }
        ExprKind::ListComp(elt, clauses) => {
            comp_depth(clauses, next, deepest);
            expr_depth(elt, next + clauses.len(), deepest);
        }
        ExprKind::DictComp(k, v, clauses) => {
            comp_depth(clauses, next, deepest);
            expr_depth(k, next + clauses.len(), deepest);
            expr_depth(v, next + clauses.len(), deepest);
        }
    }
}

fn comp_depth(clauses: &[CompFor], level: usize, deepest: &mut (usize, Span)) {
    for (i, c) in clauses.iter().enumerate() {
        expr_depth(&c.target, level + i, deepest);
        expr_depth(&c.iter, level + i, deepest);
        for cond in &c.ifs {
            expr_depth(cond, level + i, deepest);
        }
    }
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    max_depth: usize,
    max_seen: usize,
    deepest: Span,
    loop_depth: usize,
    symbols: Vec<Rc<str>>,
    sym_ids: HashMap<Rc<str>, u32>,
}

type PResult<T> = Result<T, LangError>;

// Operator precedence levels (higher binds tighter).
const LVL_OR: u8 = 1;
const LVL_AND: u8 = 2;
const LVL_NOT: u8 = 3;
const LVL_CMP: u8 = 4;
/// `|`; then `^`, `&`, shifts, `+ -`, `* / // % @` at +1 ... +5.
const LVL_BITOR: u8 = 5;
const LVL_UNARY: u8 = 11;

#[derive(Clone, Copy)]
enum Infix {
    Or,
    And,
    Cmp(CmpOp),
    Bin(BinOp),
}
type Kwargs = Vec<(Rc<str>, Expr)>;

const UNSUPPORTED_STMT: &[(&str, &str)] = &[
    (
        "def",
        "function definitions ('def') are not supported in map programs",
    ),
    (
        "class",
        "class definitions ('class') are not supported in map programs",
    ),
    ("try", "'try' statements are not supported in map programs"),
    (
        "with",
        "'with' statements are not supported in map programs",
    ),
    (
        "global",
        "'global' statements are not supported in map programs",
    ),
    (
        "nonlocal",
        "'nonlocal' statements are not supported in map programs",
    ),
    ("async", "'async' is not supported in map programs"),
    ("await", "'await' is not supported in map programs"),
    (
        "raise",
        "'raise' statements are not supported in map programs",
    ),
    (
        "lambda",
        "'lambda' expressions are not supported in map programs",
    ),
    (
        "except",
        "'except' without 'try' is not supported in map programs",
    ),
    (
        "finally",
        "'finally' without 'try' is not supported in map programs",
    ),
];

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Name(n) => format!("name '{n}'"),
        Tok::Int(_) | Tok::Float(_) => "number".to_string(),
        Tok::Str(_) => "string".to_string(),
        Tok::Kw(k) => format!("'{k}'"),
        Tok::Op(o) => format!("'{o}'"),
        Tok::Newline => "end of line".to_string(),
        Tok::Indent => "indent".to_string(),
        Tok::Dedent => "dedent".to_string(),
        Tok::Eof => "end of input".to_string(),
    }
}

impl Parser {
    // ----- token helpers -------------------------------------------------

    fn peek(&self) -> &Tok {
        match self.toks.get(self.pos) {
            Some(t) => &t.tok,
            None => &Tok::Eof,
        }
    }

    fn peek2(&self) -> &Tok {
        match self.toks.get(self.pos + 1) {
            Some(t) => &t.tok,
            None => &Tok::Eof,
        }
    }

    fn span(&self) -> Span {
        match self.toks.get(self.pos).or_else(|| self.toks.last()) {
            Some(t) => t.span,
            None => Span::default(),
        }
    }

    fn prev_span(&self) -> Span {
        match self.pos.checked_sub(1).and_then(|i| self.toks.get(i)) {
            Some(t) => t.span,
            None => self.span(),
        }
    }

    fn advance(&mut self) -> Token {
        let t = match self.toks.get(self.pos) {
            Some(t) => t.clone(),
            None => Token {
                tok: Tok::Eof,
                span: self.span(),
            },
        };
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn at_eof(&self) -> bool {
        matches!(self.peek(), Tok::Eof)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Kw(k) if *k == kw)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn err(&self, msg: impl Into<String>, span: Span) -> LangError {
        LangError::new(ErrorKind::Syntax, msg, span)
    }

    fn unexpected(&self) -> LangError {
        let tok = self.peek();
        if let Tok::Kw(k) = tok
            && let Some((_, msg)) = UNSUPPORTED_STMT.iter().find(|(kw, _)| kw == k)
        {
            return self.err(*msg, self.span());
        }
        match tok {
            Tok::Indent => self.err("unexpected indent", self.span()),
            Tok::Dedent => self.err("unexpected dedent", self.span()),
            _ => self.err(
                format!("invalid syntax: unexpected {}", describe(tok)),
                self.span(),
            ),
        }
    }

    fn expect_op(&mut self, op: &str, context: &str) -> PResult<Span> {
        if self.is_op(op) {
            Ok(self.advance().span)
        } else {
            Err(self.err(
                format!("expected '{op}' {context}, found {}", describe(self.peek())),
                self.span(),
            ))
        }
    }

    fn expect_name(&mut self, context: &str) -> PResult<(Rc<str>, Span)> {
        match self.peek().clone() {
            Tok::Name(n) => {
                let s = self.advance().span;
                Ok((n, s))
            }
            other => Err(self.err(
                format!("expected a name {context}, found {}", describe(&other)),
                self.span(),
            )),
        }
    }

    fn intern(&mut self, text: Rc<str>) -> Name {
        if let Some(&id) = self.sym_ids.get(&text) {
            return Name { id, text };
        }
        let id = self.symbols.len() as u32;
        self.symbols.push(text.clone());
        self.sym_ids.insert(text.clone(), id);
        Name { id, text }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            let span = self.span();
            self.depth -= 1;
            return Err(self.err(
                format!(
                    "program is nested too deeply (more than {} levels of brackets, operators or blocks)",
                    self.max_depth
                ),
                span,
            ));
        }
        self.note_depth(self.depth);
        Ok(())
    }

    fn note_depth(&mut self, d: usize) {
        if d > self.max_seen {
            self.max_seen = d;
            self.deepest = self.span();
        }
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn expr(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    // ----- statements ----------------------------------------------------

    fn statement(&mut self) -> PResult<Vec<Stmt>> {
        let span = self.span();
        match self.peek().clone() {
            Tok::Kw("if") => Ok(vec![self.if_stmt()?]),
            Tok::Kw("for") => Ok(vec![self.for_stmt()?]),
            Tok::Kw("while") => Ok(vec![self.while_stmt()?]),
            Tok::Kw("elif") => Err(self.err("'elif' without a matching 'if'", span)),
            Tok::Kw("else") => {
                Err(self.err("'else' without a matching 'if', 'for' or 'while'", span))
            }
            Tok::Op("@") => Err(self.err("decorators are not supported in map programs", span)),
            Tok::Indent => Err(self.err("unexpected indent", span)),
            Tok::Dedent => {
                Err(self.err("unindent does not match any outer indentation level", span))
            }
            _ => self.simple_stmts(),
        }
    }

    fn simple_stmts(&mut self) -> PResult<Vec<Stmt>> {
        let mut out = vec![self.small_stmt()?];
        while self.eat_op(";") {
            if matches!(self.peek(), Tok::Newline | Tok::Eof) {
                break;
            }
            out.push(self.small_stmt()?);
        }
        match self.peek() {
            Tok::Newline => {
                self.advance();
            }
            Tok::Eof => {}
            Tok::Op("=") => {
                return Err(self.err("invalid syntax: unexpected '='", self.span()));
            }
            _ => {
                let what = describe(self.peek());
                return Err(self.err(
                    format!("invalid syntax: unexpected {what} (expected end of statement)"),
                    self.span(),
                ));
            }
        }
        Ok(out)
    }

    fn small_stmt(&mut self) -> PResult<Stmt> {
        let start = self.span();
        let kind = match self.peek().clone() {
            Tok::Kw("pass") => {
                self.advance();
                StmtKind::Pass
            }
            Tok::Kw("break") => {
                self.advance();
                if self.loop_depth == 0 {
                    return Err(self.err("'break' outside loop", start));
                }
                StmtKind::Break
            }
            Tok::Kw("continue") => {
                self.advance();
                if self.loop_depth == 0 {
                    return Err(self.err("'continue' not properly in loop", start));
                }
                StmtKind::Continue
            }
            Tok::Kw("return") => {
                return Err(self.err(
                    "'return' outside function (map programs are not functions; assign the result, e.g. ret_val = ...)",
                    start,
                ));
            }
            Tok::Kw("yield") => return Err(self.err("'yield' outside function", start)),
            Tok::Kw("import") => self.import_stmt()?,
            Tok::Kw("from") => self.import_from_stmt()?,
            Tok::Kw("assert") => {
                self.advance();
                let test = self.test()?;
                let msg = if self.eat_op(",") {
                    Some(self.test()?)
                } else {
                    None
                };
                StmtKind::Assert { test, msg }
            }
            Tok::Kw("del") => {
                self.advance();
                let mut targets = vec![self.expr_bp(LVL_BITOR)?];
                while self.eat_op(",") {
                    if matches!(self.peek(), Tok::Newline | Tok::Eof) || self.is_op(";") {
                        break;
                    }
                    targets.push(self.expr_bp(LVL_BITOR)?);
                }
                for t in &targets {
                    check_target(t, "delete")?;
                }
                StmtKind::Del(targets)
            }
            Tok::Kw(k) if UNSUPPORTED_STMT.iter().any(|(kw, _)| *kw == k) => {
                return Err(self.unexpected());
            }
            _ => self.expr_stmt()?,
        };
        Ok(Stmt {
            kind,
            span: start.to(self.prev_span()),
        })
    }

    fn dotted_name(&mut self) -> PResult<(String, Span)> {
        if self.is_op(".") || self.is_op("...") {
            return Err(self.err(
                "relative imports are not supported in map programs",
                self.span(),
            ));
        }
        let (first, start) = self.expect_name("after 'import'")?;
        let mut name = first.to_string();
        while self.eat_op(".") {
            let (part, _) = self.expect_name("after '.' in module name")?;
            name.push('.');
            name.push_str(&part);
        }
        Ok((name, start.to(self.prev_span())))
    }

    fn import_stmt(&mut self) -> PResult<StmtKind> {
        self.advance();
        let mut names = Vec::new();
        loop {
            let (module, span) = self.dotted_name()?;
            let (bind, aliased) = if self.eat_kw("as") {
                (self.expect_name("after 'as'")?.0, true)
            } else {
                (Rc::from(module.split('.').next().unwrap_or("")), false)
            };
            let bind = self.intern(bind);
            names.push(ImportName {
                module,
                aliased,
                bind,
                span: span.to(self.prev_span()),
            });
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(StmtKind::Import(names))
    }

    fn import_from_stmt(&mut self) -> PResult<StmtKind> {
        self.advance();
        let (module, module_span) = self.dotted_name()?;
        if !self.eat_kw("import") {
            return Err(self.err(
                format!("expected 'import' after 'from {module}'"),
                self.span(),
            ));
        }
        let mut names = Vec::new();
        if self.is_op("*") {
            let s = self.advance().span;
            let bind = self.intern(Rc::from("*"));
            names.push((Rc::from("*"), bind, s));
            return Ok(StmtKind::FromImport {
                module,
                module_span,
                names,
            });
        }
        let paren = self.eat_op("(");
        loop {
            let (name, span) = self.expect_name("to import")?;
            let bind = if self.eat_kw("as") {
                self.expect_name("after 'as'")?.0
            } else {
                name.clone()
            };
            let bind = self.intern(bind);
            names.push((name, bind, span));
            if !self.eat_op(",") {
                break;
            }
            if paren && self.is_op(")") {
                break;
            }
        }
        if paren {
            self.expect_op(")", "to close the import list")?;
        }
        Ok(StmtKind::FromImport {
            module,
            module_span,
            names,
        })
    }

    fn expr_stmt(&mut self) -> PResult<StmtKind> {
        let first = self.testlist(true)?;
        if let Tok::Op(op) = *self.peek() {
            let aug = match op {
                "+=" => Some(BinOp::Add),
                "-=" => Some(BinOp::Sub),
                "*=" => Some(BinOp::Mul),
                "/=" => Some(BinOp::Div),
                "//=" => Some(BinOp::FloorDiv),
                "%=" => Some(BinOp::Mod),
                "**=" => Some(BinOp::Pow),
                "&=" => Some(BinOp::BitAnd),
                "|=" => Some(BinOp::BitOr),
                "^=" => Some(BinOp::BitXor),
                "<<=" => Some(BinOp::LShift),
                ">>=" => Some(BinOp::RShift),
                "@=" => Some(BinOp::MatMul),
                _ => None,
            };
            if let Some(op) = aug {
                match first.kind {
                    ExprKind::Name(_) | ExprKind::Subscript(..) | ExprKind::Attr(..) => {}
                    _ => {
                        return Err(self.err(
                            format!(
                                "'{}' is an illegal expression for augmented assignment",
                                describe_expr(&first)
                            ),
                            first.span,
                        ));
                    }
                }
                self.advance();
                let value = self.testlist(true)?;
                return Ok(StmtKind::AugAssign {
                    target: first,
                    op,
                    value,
                });
            }
            if op == "=" {
                let mut targets = vec![first];
                let mut value;
                loop {
                    self.advance();
                    value = self.testlist(true)?;
                    if self.is_op("=") {
                        targets.push(value);
                    } else {
                        break;
                    }
                }
                for t in &targets {
                    check_target(t, "assign to")?;
                }
                return Ok(StmtKind::Assign { targets, value });
            }
            if op == ":" {
                // Annotated assignment `x: T = v`; the annotation is ignored.
                if !matches!(
                    first.kind,
                    ExprKind::Name(_) | ExprKind::Subscript(..) | ExprKind::Attr(..)
                ) {
                    return Err(self.err("illegal target for annotation", first.span));
                }
                self.advance();
                self.test()?;
                if self.eat_op("=") {
                    let value = self.testlist(true)?;
                    return Ok(StmtKind::Assign {
                        targets: vec![first],
                        value,
                    });
                }
                return Ok(StmtKind::Pass);
            }
            if op == ":=" {
                return Err(self.err(
                    "assignment expressions (':=') are not supported in map programs",
                    self.span(),
                ));
            }
        }
        Ok(StmtKind::Expr(first))
    }

    fn block(&mut self, what: &str, header: Span) -> PResult<Vec<Stmt>> {
        if !self.is_op(":") {
            return Err(self.err(
                format!("expected ':' after {what}, found {}", describe(self.peek())),
                self.span(),
            ));
        }
        self.advance();
        self.enter()?;
        let r = self.block_body(what, header);
        self.leave();
        r
    }

    fn block_body(&mut self, what: &str, header: Span) -> PResult<Vec<Stmt>> {
        if !matches!(self.peek(), Tok::Newline) {
            if matches!(self.peek(), Tok::Eof) {
                return Err(self.err(
                    format!(
                        "expected an indented block after {what} on line {}",
                        header.line
                    ),
                    self.span(),
                ));
            }
            return self.simple_stmts();
        }
        self.advance();
        if !matches!(self.peek(), Tok::Indent) {
            return Err(self.err(
                format!(
                    "expected an indented block after {what} on line {}",
                    header.line
                ),
                self.span(),
            ));
        }
        self.advance();
        let mut body = Vec::new();
        loop {
            match self.peek() {
                Tok::Dedent => {
                    self.advance();
                    break;
                }
                Tok::Eof => break,
                Tok::Newline => {
                    self.advance();
                }
                _ => body.extend(self.statement()?),
            }
        }
        Ok(body)
    }

    fn if_stmt(&mut self) -> PResult<Stmt> {
        let start = self.advance().span;
        let mut branches = Vec::new();
        let cond = self.named_test()?;
        let body = self.block("'if' condition", start)?;
        branches.push((cond, body));
        let mut orelse = Vec::new();
        loop {
            if self.is_kw("elif") {
                let s = self.advance().span;
                let cond = self.named_test()?;
                let body = self.block("'elif' condition", s)?;
                branches.push((cond, body));
            } else if self.is_kw("else") {
                let s = self.advance().span;
                orelse = self.block("'else'", s)?;
                break;
            } else {
                break;
            }
        }
        Ok(Stmt {
            kind: StmtKind::If { branches, orelse },
            span: start.to(self.prev_span()),
        })
    }

    fn named_test(&mut self) -> PResult<Expr> {
        let e = self.test()?;
        if self.is_op(":=") {
            return Err(self.err(
                "assignment expressions (':=') are not supported in map programs",
                self.span(),
            ));
        }
        if self.is_op("=") {
            return Err(self.err(
                "invalid syntax: '=' in a condition (did you mean '=='?)",
                self.span(),
            ));
        }
        Ok(e)
    }

    fn loop_body(&mut self, what: &str, header: Span) -> PResult<Vec<Stmt>> {
        self.loop_depth += 1;
        let r = self.block(what, header);
        self.loop_depth -= 1;
        r
    }

    fn for_stmt(&mut self) -> PResult<Stmt> {
        let start = self.advance().span;
        let target = self.target_list()?;
        if !self.eat_kw("in") {
            return Err(self.err(
                format!(
                    "expected 'in' after for-loop variable, found {}",
                    describe(self.peek())
                ),
                self.span(),
            ));
        }
        let iter = self.testlist(false)?;
        let body = self.loop_body("'for' statement", start)?;
        let orelse = if self.is_kw("else") {
            let s = self.advance().span;
            self.block("'else'", s)?
        } else {
            Vec::new()
        };
        Ok(Stmt {
            kind: StmtKind::For {
                target,
                iter,
                body,
                orelse,
            },
            span: start.to(self.prev_span()),
        })
    }

    fn while_stmt(&mut self) -> PResult<Stmt> {
        let start = self.advance().span;
        let cond = self.named_test()?;
        let body = self.loop_body("'while' condition", start)?;
        let orelse = if self.is_kw("else") {
            let s = self.advance().span;
            self.block("'else'", s)?
        } else {
            Vec::new()
        };
        Ok(Stmt {
            kind: StmtKind::While { cond, body, orelse },
            span: start.to(self.prev_span()),
        })
    }

    /// `x`, `x, y`, `(a, b)`: targets of `for` and comprehensions.
    fn target_list(&mut self) -> PResult<Expr> {
        let start = self.span();
        let first = self.expr_bp(LVL_BITOR)?;
        let target = if self.is_op(",") {
            let mut items = vec![first];
            while self.eat_op(",") {
                if self.is_kw("in") {
                    break;
                }
                items.push(self.expr_bp(LVL_BITOR)?);
            }
            Self::expr(ExprKind::Tuple(items), start.to(self.prev_span()))
        } else {
            first
        };
        check_target(&target, "assign to")?;
        Ok(target)
    }

    // ----- expressions ---------------------------------------------------

    fn starts_expr(&self) -> bool {
        match self.peek() {
            Tok::Name(_) | Tok::Int(_) | Tok::Float(_) | Tok::Str(_) => true,
            Tok::Kw(k) => matches!(
                *k,
                "None" | "True" | "False" | "not" | "lambda" | "await" | "yield"
            ),
            Tok::Op(o) => matches!(*o, "(" | "[" | "{" | "-" | "+" | "~" | "..." | "*"),
            _ => false,
        }
    }

    /// A comma separated list forming a tuple if there is a comma.
    fn testlist(&mut self, allow_star_err: bool) -> PResult<Expr> {
        let start = self.span();
        let first = self.test_or_star(allow_star_err)?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if !self.starts_expr() {
                break;
            }
            items.push(self.test_or_star(allow_star_err)?);
        }
        Ok(Self::expr(
            ExprKind::Tuple(items),
            start.to(self.prev_span()),
        ))
    }

    fn test_or_star(&mut self, _allow: bool) -> PResult<Expr> {
        if self.is_op("*") {
            return Err(self.err(
                "starred expressions ('*x') are not supported in map programs",
                self.span(),
            ));
        }
        self.test()
    }

    pub(crate) fn test(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.test_inner();
        self.leave();
        r
    }

    fn test_inner(&mut self) -> PResult<Expr> {
        if self.is_kw("lambda") || self.is_kw("yield") || self.is_kw("await") {
            return Err(self.unexpected());
        }
        let start = self.span();
        let e = self.or_test()?;
        if self.is_kw("if") {
            return self.ternary_tail(start, e);
        }
        Ok(e)
    }

    /// `then if cond else orelse`, after `then`.
    #[inline(never)]
    fn ternary_tail(&mut self, start: Span, then: Expr) -> PResult<Expr> {
        self.advance();
        let cond = self.or_test()?;
        if !self.eat_kw("else") {
            return Err(self.err(
                format!(
                    "expected 'else' in conditional expression, found {}",
                    describe(self.peek())
                ),
                self.span(),
            ));
        }
        let orelse = self.test()?;
        let span = start.to(self.prev_span());
        Ok(Self::expr(
            ExprKind::IfExp {
                cond: Box::new(cond),
                then: Box::new(then),
                orelse: Box::new(orelse),
            },
            span,
        ))
    }

    fn or_test(&mut self) -> PResult<Expr> {
        self.expr_bp(LVL_OR)
    }

    /// The infix operator at the current token: (level, operator, tokens).
    fn infix_op(&self) -> Option<(u8, Infix, usize)> {
        let r = match self.peek() {
            Tok::Kw("or") => (LVL_OR, Infix::Or, 1),
            Tok::Kw("and") => (LVL_AND, Infix::And, 1),
            Tok::Kw("in") => (LVL_CMP, Infix::Cmp(CmpOp::In), 1),
            Tok::Kw("not") if matches!(self.peek2(), Tok::Kw("in")) => {
                (LVL_CMP, Infix::Cmp(CmpOp::NotIn), 2)
            }
            Tok::Kw("is") if matches!(self.peek2(), Tok::Kw("not")) => {
                (LVL_CMP, Infix::Cmp(CmpOp::IsNot), 2)
            }
            Tok::Kw("is") => (LVL_CMP, Infix::Cmp(CmpOp::Is), 1),
            Tok::Op(o) => match *o {
                "==" => (LVL_CMP, Infix::Cmp(CmpOp::Eq), 1),
                "!=" => (LVL_CMP, Infix::Cmp(CmpOp::Ne), 1),
                "<" => (LVL_CMP, Infix::Cmp(CmpOp::Lt), 1),
                "<=" => (LVL_CMP, Infix::Cmp(CmpOp::Le), 1),
                ">" => (LVL_CMP, Infix::Cmp(CmpOp::Gt), 1),
                ">=" => (LVL_CMP, Infix::Cmp(CmpOp::Ge), 1),
                "|" => (LVL_BITOR, Infix::Bin(BinOp::BitOr), 1),
                "^" => (LVL_BITOR + 1, Infix::Bin(BinOp::BitXor), 1),
                "&" => (LVL_BITOR + 2, Infix::Bin(BinOp::BitAnd), 1),
                "<<" => (LVL_BITOR + 3, Infix::Bin(BinOp::LShift), 1),
                ">>" => (LVL_BITOR + 3, Infix::Bin(BinOp::RShift), 1),
                "+" => (LVL_BITOR + 4, Infix::Bin(BinOp::Add), 1),
                "-" => (LVL_BITOR + 4, Infix::Bin(BinOp::Sub), 1),
                "*" => (LVL_BITOR + 5, Infix::Bin(BinOp::Mul), 1),
                "/" => (LVL_BITOR + 5, Infix::Bin(BinOp::Div), 1),
                "//" => (LVL_BITOR + 5, Infix::Bin(BinOp::FloorDiv), 1),
                "%" => (LVL_BITOR + 5, Infix::Bin(BinOp::Mod), 1),
                "@" => (LVL_BITOR + 5, Infix::Bin(BinOp::MatMul), 1),
                _ => return None,
            },
            _ => return None,
        };
        Some(r)
    }

    /// Precedence climbing over `or`, `and`, `not`, comparisons, binary and
    /// unary operators and `**`, for operators binding at least as tightly
    /// as `min`. Chains of one level are built flat (`a + b - c` is one
    /// node), so long chains do not nest. Every recursion into an operand
    /// counts one nesting level.
    fn expr_bp(&mut self, min: u8) -> PResult<Expr> {
        let start = self.span();
        let mut lhs = self.prefix(min)?;
        // The level of the chain node `lhs` was built as in this loop; only
        // such a node may be extended (`(a < b) < c` must stay nested).
        let mut chain: Option<u8> = None;
        while let Some((level, op, ntok)) = self.infix_op() {
            if level < min {
                break;
            }
            for _ in 0..ntok {
                self.advance();
            }
            self.enter()?;
            let rhs = self.expr_bp(level + 1);
            self.leave();
            let rhs = rhs?;
            lhs = combine(lhs, op, rhs, chain == Some(level));
            lhs.span = start.to(self.prev_span());
            chain = Some(level);
        }
        Ok(lhs)
    }

    /// Prefix operators (`not`, `-`, `+`, `~`), `**`, and postfix
    /// expressions.
    fn prefix(&mut self, min: u8) -> PResult<Expr> {
        if self.is_kw("not") && min <= LVL_NOT {
            return self.prefix_not();
        }
        if matches!(self.peek(), Tok::Op("-" | "+" | "~")) {
            return self.prefix_unary();
        }
        let start = self.span();
        let base = self.postfix()?;
        if self.is_op("**") {
            return self.power_tail(start, base);
        }
        Ok(base)
    }

    #[inline(never)]
    fn prefix_not(&mut self) -> PResult<Expr> {
        let start = self.advance().span;
        self.enter()?;
        let inner = self.expr_bp(LVL_NOT);
        self.leave();
        let inner = inner?;
        Ok(Self::expr(
            ExprKind::Not(Box::new(inner)),
            start.to(self.prev_span()),
        ))
    }

    #[inline(never)]
    fn prefix_unary(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            Tok::Op("-") => UnaryOp::Neg,
            Tok::Op("+") => UnaryOp::Pos,
            _ => UnaryOp::Invert,
        };
        let start = self.advance().span;
        self.enter()?;
        let inner = self.expr_bp(LVL_UNARY);
        self.leave();
        let inner = inner?;
        let span = start.to(self.prev_span());
        // Fold negative literals so `-5` is a constant.
        if op == UnaryOp::Neg {
            match inner.kind {
                ExprKind::Int(v) if v != i64::MIN => {
                    return Ok(Self::expr(ExprKind::Int(-v), span));
                }
                ExprKind::Float(v) => return Ok(Self::expr(ExprKind::Float(-v), span)),
                _ => {}
            }
        }
        Ok(Self::expr(ExprKind::Unary(op, Box::new(inner)), span))
    }

    /// `base ** exponent`, after `base`.
    #[inline(never)]
    fn power_tail(&mut self, start: Span, base: Expr) -> PResult<Expr> {
        self.advance();
        self.enter()?;
        let exp = self.expr_bp(LVL_UNARY);
        self.leave();
        let exp = exp?;
        Ok(Self::expr(
            ExprKind::Power(Box::new(base), Box::new(exp)),
            start.to(self.prev_span()),
        ))
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut e = self.atom()?;
        let mut trailers = 0usize;
        loop {
            let is_trailer = self.is_op("(") || self.is_op("[") || self.is_op(".");
            if !is_trailer {
                break;
            }
            trailers += 1;
            if self.depth + trailers > self.max_depth {
                return Err(self.err(
                    format!(
                        "expression is nested too deeply (more than {} chained calls, subscripts or attributes)",
                        self.max_depth
                    ),
                    self.span(),
                ));
            }
            self.note_depth(self.depth + trailers);
            e = self.trailer(e, start)?;
        }
        Ok(e)
    }

    /// One call, subscript or attribute trailer applied to `e`.
    #[inline(never)]
    fn trailer(&mut self, e: Expr, start: Span) -> PResult<Expr> {
        if self.eat_op("(") {
            let (args, kwargs) = self.call_args()?;
            let span = start.to(self.prev_span());
            return Ok(Self::expr(
                ExprKind::Call {
                    func: Box::new(e),
                    args,
                    kwargs,
                },
                span,
            ));
        }
        if self.eat_op("[") {
            let idx = self.subscript_list()?;
            self.expect_op("]", "to close the subscript")?;
            let span = start.to(self.prev_span());
            return Ok(Self::expr(
                ExprKind::Subscript(Box::new(e), Box::new(idx)),
                span,
            ));
        }
        self.advance();
        let (name, _) = self.expect_name("after '.'")?;
        let span = start.to(self.prev_span());
        Ok(Self::expr(ExprKind::Attr(Box::new(e), name), span))
    }

    fn call_args(&mut self) -> PResult<(Vec<Expr>, Kwargs)> {
        let mut args = Vec::new();
        let mut kwargs: Vec<(Rc<str>, Expr)> = Vec::new();
        loop {
            if self.eat_op(")") {
                break;
            }
            if self.is_op("*") || self.is_op("**") {
                return Err(self.err(
                    "'*args' / '**kwargs' in calls are not supported in map programs",
                    self.span(),
                ));
            }
            if let (Tok::Name(n), Tok::Op("=")) = (self.peek().clone(), self.peek2()) {
                let s = self.advance().span;
                self.advance();
                if kwargs.iter().any(|(k, _)| *k == n) {
                    return Err(self.err(format!("keyword argument repeated: {n}"), s));
                }
                let v = self.test()?;
                kwargs.push((n, v));
            } else {
                let start = self.span();
                let v = self.test()?;
                if self.is_kw("for") {
                    let comp = self.comp_clauses()?;
                    let span = start.to(self.prev_span());
                    let g = Self::expr(ExprKind::ListComp(Box::new(v), comp), span);
                    if !args.is_empty() || !kwargs.is_empty() || !self.is_op(")") {
                        return Err(self.err("generator expression must be parenthesized", span));
                    }
                    args.push(g);
                } else {
                    if !kwargs.is_empty() {
                        return Err(
                            self.err("positional argument follows keyword argument", v.span)
                        );
                    }
                    args.push(v);
                }
            }
            if self.eat_op(")") {
                break;
            }
            if !self.is_op(",") {
                return Err(self.err(
                    format!(
                        "expected ',' or ')' in call arguments, found {}",
                        describe(self.peek())
                    ),
                    self.span(),
                ));
            }
            self.advance();
        }
        Ok((args, kwargs))
    }

    fn subscript_list(&mut self) -> PResult<Expr> {
        let start = self.span();
        let first = self.subscript_item()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op("]") {
                break;
            }
            items.push(self.subscript_item()?);
        }
        Ok(Self::expr(
            ExprKind::Tuple(items),
            start.to(self.prev_span()),
        ))
    }

    fn slice_part_ends(&self) -> bool {
        self.is_op(":") || self.is_op("]") || self.is_op(",")
    }

    fn subscript_item(&mut self) -> PResult<Expr> {
        let start = self.span();
        let lower = if self.is_op(":") {
            None
        } else {
            Some(self.test()?)
        };
        if !self.is_op(":") {
            return match lower {
                Some(e) => Ok(e),
                None => Err(self.unexpected()),
            };
        }
        self.advance();
        let upper = if self.slice_part_ends() {
            None
        } else {
            Some(self.test()?)
        };
        let step = if self.eat_op(":") {
            if self.slice_part_ends() {
                None
            } else {
                Some(self.test()?)
            }
        } else {
            None
        };
        Ok(Self::expr(
            ExprKind::Slice(lower.map(Box::new), upper.map(Box::new), step.map(Box::new)),
            start.to(self.prev_span()),
        ))
    }

    fn comp_clauses(&mut self) -> PResult<Vec<CompFor>> {
        let mut clauses = Vec::new();
        while self.is_kw("for") {
            if self.depth + clauses.len() + 1 > self.max_depth {
                return Err(self.err(
                    format!(
                        "too many nested 'for' clauses in comprehension (limit {})",
                        self.max_depth
                    ),
                    self.span(),
                ));
            }
            self.note_depth(self.depth + clauses.len() + 1);
            self.advance();
            let target = self.target_list()?;
            if !self.eat_kw("in") {
                return Err(self.err(
                    format!(
                        "expected 'in' after comprehension variable, found {}",
                        describe(self.peek())
                    ),
                    self.span(),
                ));
            }
            self.enter()?;
            let iter = self.or_test();
            self.leave();
            let iter = iter?;
            let mut ifs = Vec::new();
            while self.eat_kw("if") {
                self.enter()?;
                let c = self.or_test();
                self.leave();
                ifs.push(c?);
            }
            clauses.push(CompFor { target, iter, ifs });
        }
        Ok(clauses)
    }

    fn atom(&mut self) -> PResult<Expr> {
        let start = self.span();
        let tok = self.peek().clone();
        match tok {
            Tok::Name(n) => {
                self.advance();
                let name = self.intern(n);
                Ok(Self::expr(ExprKind::Name(name), start))
            }
            Tok::Int(v) => {
                self.advance();
                Ok(Self::expr(ExprKind::Int(v), start))
            }
            Tok::Float(v) => {
                self.advance();
                Ok(Self::expr(ExprKind::Float(v), start))
            }
            Tok::Str(s) => self.atom_str(start, s),
            Tok::Kw("None") => {
                self.advance();
                Ok(Self::expr(ExprKind::None, start))
            }
            Tok::Kw("True") => {
                self.advance();
                Ok(Self::expr(ExprKind::True, start))
            }
            Tok::Kw("False") => {
                self.advance();
                Ok(Self::expr(ExprKind::False, start))
            }
            Tok::Op("...") => {
                self.advance();
                Ok(Self::expr(ExprKind::Ellipsis, start))
            }
            Tok::Op("(") => self.atom_paren(start),
            Tok::Op("[") => self.atom_list(start),
            Tok::Op("{") => self.atom_dict(start),
            Tok::Newline | Tok::Eof => Err(self.err(
                "invalid syntax: expected an expression, found end of line",
                self.span(),
            )),
            _ => Err(self.unexpected()),
        }
    }

    #[inline(never)]
    fn atom_paren(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        if self.eat_op(")") {
            return Ok(Self::expr(
                ExprKind::Tuple(Vec::new()),
                start.to(self.prev_span()),
            ));
        }
        if self.is_kw("yield") {
            return Err(self.err("'yield' outside function", self.span()));
        }
        let first = self.test_or_star(true)?;
        if self.is_kw("for") {
            let comp = self.comp_clauses()?;
            self.expect_op(")", "to close the generator expression")?;
            return Ok(Self::expr(
                ExprKind::ListComp(Box::new(first), comp),
                start.to(self.prev_span()),
            ));
        }
        if self.is_op(")") {
            self.advance();
            // Keep the parentheses in the span so error spans read well.
            let mut first = first;
            first.span = start.to(self.prev_span());
            return Ok(first);
        }
        self.paren_tail(start, first)
    }

    /// The rest of a parenthesized tuple after its first element.
    #[inline(never)]
    fn paren_tail(&mut self, start: Span, first: Expr) -> PResult<Expr> {
        if !self.is_op(",") {
            if self.is_op(":=") {
                return Err(self.err(
                    "assignment expressions (':=') are not supported in map programs",
                    self.span(),
                ));
            }
            return Err(self.err(
                format!(
                    "expected ',' or ')' after expression in parentheses, found {}",
                    describe(self.peek())
                ),
                self.span(),
            ));
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op(")") {
                break;
            }
            items.push(self.test_or_star(true)?);
        }
        self.expect_op(")", "to close the tuple")?;
        Ok(Self::expr(
            ExprKind::Tuple(items),
            start.to(self.prev_span()),
        ))
    }

    #[inline(never)]
    fn atom_list(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        if self.eat_op("]") {
            return Ok(Self::expr(
                ExprKind::List(Vec::new()),
                start.to(self.prev_span()),
            ));
        }
        let first = self.test_or_star(true)?;
        if self.is_kw("for") {
            let comp = self.comp_clauses()?;
            self.expect_op("]", "to close the list comprehension")?;
            return Ok(Self::expr(
                ExprKind::ListComp(Box::new(first), comp),
                start.to(self.prev_span()),
            ));
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op("]") {
                break;
            }
            items.push(self.test_or_star(true)?);
        }
        self.expect_op("]", "to close the list")?;
        Ok(Self::expr(
            ExprKind::List(items),
            start.to(self.prev_span()),
        ))
    }

    #[inline(never)]
    fn atom_dict(&mut self, start: Span) -> PResult<Expr> {
        self.advance();
        if self.eat_op("}") {
            return Ok(Self::expr(
                ExprKind::Dict(Vec::new()),
                start.to(self.prev_span()),
            ));
        }
        if self.is_op("**") {
            return Err(self.err("'**' in dict literals is not supported", self.span()));
        }
        let k = self.test()?;
        if !self.is_op(":") {
            return Err(self.err(
                "set literals are not supported in map programs (use a list)",
                start.to(k.span),
            ));
        }
        self.advance();
        let v = self.test()?;
        if self.is_kw("for") {
            let comp = self.comp_clauses()?;
            self.expect_op("}", "to close the dict comprehension")?;
            return Ok(Self::expr(
                ExprKind::DictComp(Box::new(k), Box::new(v), comp),
                start.to(self.prev_span()),
            ));
        }
        let mut items = vec![(k, v)];
        while self.eat_op(",") {
            if self.is_op("}") {
                break;
            }
            let k = self.test()?;
            self.expect_op(":", "after dict key")?;
            let v = self.test()?;
            items.push((k, v));
        }
        self.expect_op("}", "to close the dict")?;
        Ok(Self::expr(
            ExprKind::Dict(items),
            start.to(self.prev_span()),
        ))
    }

    #[inline(never)]
    fn atom_str(&mut self, start: Span, s: Rc<str>) -> PResult<Expr> {
        self.advance();
        if !matches!(self.peek(), Tok::Str(_)) {
            return Ok(Self::expr(ExprKind::Str(s), start));
        }
        let mut buf = s.to_string();
        while let Tok::Str(more) = self.peek().clone() {
            self.advance();
            buf.push_str(&more);
        }
        Ok(Self::expr(
            ExprKind::Str(Rc::from(buf)),
            start.to(self.prev_span()),
        ))
    }
}

/// Adds `op rhs` to `lhs`, extending `lhs` if it is a chain of the same
/// level built by the same loop (`extend`).
#[inline(never)]
fn combine(lhs: Expr, op: Infix, rhs: Expr, extend: bool) -> Expr {
    let span = lhs.span;
    let kind = match (op, lhs.kind) {
        (Infix::Or, ExprKind::Or(mut items)) if extend => {
            items.push(rhs);
            ExprKind::Or(items)
        }
        (Infix::And, ExprKind::And(mut items)) if extend => {
            items.push(rhs);
            ExprKind::And(items)
        }
        (Infix::Cmp(c), ExprKind::Compare(first, mut rest)) if extend => {
            rest.push((c, rhs));
            ExprKind::Compare(first, rest)
        }
        (Infix::Bin(b), ExprKind::Binary(first, mut rest)) if extend => {
            rest.push((b, rhs));
            ExprKind::Binary(first, rest)
        }
        (op, kind) => {
            let l = Expr { kind, span };
            match op {
                Infix::Or => ExprKind::Or(vec![l, rhs]),
                Infix::And => ExprKind::And(vec![l, rhs]),
                Infix::Cmp(c) => ExprKind::Compare(Box::new(l), vec![(c, rhs)]),
                Infix::Bin(b) => ExprKind::Binary(Box::new(l), vec![(b, rhs)]),
            }
        }
    };
    Expr { kind, span }
}

fn describe_expr(e: &Expr) -> &'static str {
    match &e.kind {
        ExprKind::None => "None",
        ExprKind::True => "True",
        ExprKind::False => "False",
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::Ellipsis => "literal",
        ExprKind::Call { .. } => "function call",
        ExprKind::Compare(..) => "comparison",
        ExprKind::ListComp(..) | ExprKind::DictComp(..) => "comprehension",
        ExprKind::Dict(_) => "dict literal",
        ExprKind::IfExp { .. } => "conditional expression",
        ExprKind::And(_) | ExprKind::Or(_) | ExprKind::Not(_) => "expression",
        ExprKind::Tuple(_) => "tuple",
        ExprKind::List(_) => "list",
        _ => "expression",
    }
}

/// Checks that `e` may appear on the left of `=` (or after `for`/`del`).
fn check_target(e: &Expr, verb: &str) -> PResult<()> {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Subscript(..) | ExprKind::Attr(..) => Ok(()),
        ExprKind::Tuple(items) | ExprKind::List(items) if verb != "delete" || !items.is_empty() => {
            for i in items {
                check_target(i, verb)?;
            }
            Ok(())
        }
        _ => Err(LangError::new(
            ErrorKind::Syntax,
            format!("cannot {verb} {}", describe_expr(e)),
            e.span,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokenize;

    fn parse_expr(src: &str) -> Expr {
        let toks = tokenize(src).unwrap();
        let parsed = parse_tokens(toks, 64).unwrap_or_else(|e| panic!("{e}"));
        match parsed.body.into_iter().next().map(|s| s.kind) {
            Some(StmtKind::Expr(e)) => e,
            other => panic!("not an expression statement: {other:?}"),
        }
    }

    /// Renders the tree as an s-expression to check precedence.
    fn sexp(e: &Expr) -> String {
        let list = |items: &[Expr]| items.iter().map(sexp).collect::<Vec<_>>().join(" ");
        match &e.kind {
            ExprKind::Int(i) => i.to_string(),
            ExprKind::Float(f) => f.to_string(),
            ExprKind::Name(n) => n.text.to_string(),
            ExprKind::Str(s) => format!("'{s}'"),
            ExprKind::None => "None".into(),
            ExprKind::True => "True".into(),
            ExprKind::False => "False".into(),
            ExprKind::Ellipsis => "...".into(),
            ExprKind::Binary(first, rest) => {
                let mut s = format!("({}", sexp(first));
                for (op, r) in rest {
                    s.push_str(&format!(" {} {}", op.symbol(), sexp(r)));
                }
                s + ")"
            }
            ExprKind::Compare(first, rest) => {
                let mut s = format!("(cmp {}", sexp(first));
                for (op, r) in rest {
                    s.push_str(&format!(" {} {}", op.symbol(), sexp(r)));
                }
                s + ")"
            }
            ExprKind::Power(a, b) => format!("(** {} {})", sexp(a), sexp(b)),
            ExprKind::Unary(op, x) => format!("({op:?} {})", sexp(x)),
            ExprKind::Not(x) => format!("(not {})", sexp(x)),
            ExprKind::And(items) => format!("(and {})", list(items)),
            ExprKind::Or(items) => format!("(or {})", list(items)),
            ExprKind::IfExp { cond, then, orelse } => {
                format!("(if {} {} {})", sexp(cond), sexp(then), sexp(orelse))
            }
            ExprKind::Tuple(items) => format!("(tuple {})", list(items)),
            ExprKind::List(items) => format!("[{}]", list(items)),
            ExprKind::Dict(pairs) => format!("{{{} pairs}}", pairs.len()),
            ExprKind::Call { func, args, kwargs } => {
                let kw: Vec<String> = kwargs
                    .iter()
                    .map(|(k, v)| format!("{k}={}", sexp(v)))
                    .collect();
                format!("(call {} {} {})", sexp(func), list(args), kw.join(" "))
            }
            ExprKind::Attr(x, n) => format!("(. {} {n})", sexp(x)),
            ExprKind::Subscript(x, i) => format!("(idx {} {})", sexp(x), sexp(i)),
            ExprKind::Slice(a, b, c) => {
                let f = |x: &Option<Box<Expr>>| x.as_ref().map_or("_".to_string(), |e| sexp(e));
                format!("(slice {} {} {})", f(a), f(b), f(c))
            }
            ExprKind::ListComp(elt, clauses) => format!("(comp {} {})", sexp(elt), clauses.len()),
            ExprKind::DictComp(_, _, clauses) => format!("(dcomp {})", clauses.len()),
        }
    }

    fn check(src: &str, expected: &str) {
        assert_eq!(sexp(&parse_expr(src)), expected, "{src}");
    }

    #[test]
    fn precedence() {
        check("1 + 2 * 3", "(1 + (2 * 3))");
        check("1 * 2 + 3 - 4", "((1 * 2) + 3 - 4)");
        check("a - b - c", "(a - b - c)");
        check("a - (b - c)", "(a - (b - c))");
        check("-2 ** 2", "(Neg (** 2 2))");
        check("2 ** -1", "(** 2 -1)");
        check("2 ** 3 ** 2", "(** 2 (** 3 2))");
        check("-x", "(Neg x)");
        check("not a == b", "(not (cmp a == b))");
        check("a and b or c and d", "(or (and a b) (and c d))");
        check("a or b or c", "(or a b c)");
        check("not a and b", "(and (not a) b)");
        check("a < b < c", "(cmp a < b < c)");
        check("(a < b) < c", "(cmp (cmp a < b) < c)");
        check(
            "x in y and z not in w",
            "(and (cmp x in y) (cmp z not in w))",
        );
        check("a is not None", "(cmp a is not None)");
        check("a | b ^ c & d << 1 + 2", "(a | (b ^ (c & (d << (1 + 2)))))");
        check("m > 0.5 & n", "(cmp m > (0.5 & n))");
        check("a if b else c if d else e", "(if b a (if d c e))");
        check("x + 1 if y else 2", "(if y (x + 1) 2)");
        check("f(x)(y).z[0]", "(idx (. (call (call f x ) y ) z) 0)");
        check("m[x, y, z]", "(idx m (tuple x y z))");
        check(
            "m[:, ::2, 1:]",
            "(idx m (tuple (slice _ _ _) (slice _ _ 2) (slice 1 _ _)))",
        );
        check("m[...]", "(idx m ...)");
        check("np.mean(a, axis=0)", "(call (. np mean) a axis=0)");
        check("[x for x in y if x]", "(comp x 1)");
        check("sum(x for x in y)", "(call sum (comp x 1) )");
        check("(1,)", "(tuple 1)");
        check("()", "(tuple )");
        check("'a' 'b'", "'ab'");
        check("- - 1", "1");
        check("-(a)", "(Neg a)");
        check("~x + 1", "((Invert x) + 1)");
    }

    #[test]
    fn spans() {
        let src = "x = 1\nfoo = (a +\n       b) * c[2]\n";
        let toks = tokenize(src).unwrap();
        let parsed = parse_tokens(toks, 64).unwrap();
        let s = &parsed.body[1];
        assert_eq!(
            (s.span.line, s.span.col, s.span.end_line, s.span.end_col),
            (2, 1, 3, 17)
        );
        let StmtKind::Assign { targets, value } = &s.kind else {
            panic!()
        };
        assert_eq!(targets[0].span.text(src), Some("foo"));
        assert_eq!(value.span.text(src), Some("(a +\n       b) * c[2]"));
        assert_eq!((value.span.line, value.span.col), (2, 7));
        let ExprKind::Binary(first, rest) = &value.kind else {
            panic!()
        };
        assert_eq!(first.span.text(src), Some("(a +\n       b)"));
        assert_eq!(rest[0].1.span.text(src), Some("c[2]"));
        assert_eq!(
            (
                rest[0].1.span.line,
                rest[0].1.span.col,
                rest[0].1.span.end_col
            ),
            (3, 13, 17)
        );
    }

    #[test]
    fn statements() {
        let src = "import numpy as np\nfrom math import pi as PI, sqrt\nx, y = 1, 2\na = b = 3\na += 1\nif a:\n    pass\nelif b:\n    pass\nelse:\n    pass\nfor i in range(3):\n    break\nelse:\n    pass\nwhile False:\n    continue\nassert a, 'msg'\ndel x\n";
        let parsed = parse_tokens(tokenize(src).unwrap(), 64).unwrap();
        let kinds: Vec<&str> = parsed
            .body
            .iter()
            .map(|s| match &s.kind {
                StmtKind::Import(_) => "import",
                StmtKind::FromImport { .. } => "from",
                StmtKind::Assign { targets, .. } if targets.len() == 2 => "chain",
                StmtKind::Assign { .. } => "assign",
                StmtKind::AugAssign { .. } => "aug",
                StmtKind::If { branches, orelse } if branches.len() == 2 && orelse.len() == 1 => {
                    "if"
                }
                StmtKind::For { orelse, .. } if orelse.len() == 1 => "for",
                StmtKind::While { .. } => "while",
                StmtKind::Assert { msg: Some(_), .. } => "assert",
                StmtKind::Del(_) => "del",
                _ => "?",
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "import", "from", "assign", "chain", "aug", "if", "for", "while", "assert", "del"
            ]
        );
    }

    #[test]
    fn nesting_is_measured_on_the_tree() {
        let parsed = parse_tokens(tokenize("x = [[[1]]]\n").unwrap(), 64).unwrap();
        assert_eq!(parsed.max_nesting, 5);
        let deep = format!("x = f(){}\n", "()".repeat(70));
        assert!(parse_tokens(tokenize(&deep).unwrap(), 64).is_err());
    }
}
