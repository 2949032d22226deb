//! Recursive-descent parser producing the [`crate::ast`] tree.
//!
//! Recursion is bounded: every nested expression, unary operator, `**`
//! exponent, postfix trailer (call, subscript, attribute) and indented block
//! counts one nesting level, and exceeding the limit is a `SyntaxError`.

use std::rc::Rc;

use crate::ast::{BinOp, CmpOp, CompFor, Expr, ExprKind, ImportName, Stmt, StmtKind, UnaryOp};
use crate::error::{ErrorKind, LangError, Span};
use crate::lexer::{Tok, Token};

pub(crate) struct Parsed {
    pub body: Vec<Stmt>,
    pub max_nesting: usize,
    pub deepest: Span,
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
    };
    let mut body = Vec::new();
    while !p.at_eof() {
        if matches!(p.peek(), Tok::Newline) {
            p.advance();
            continue;
        }
        body.extend(p.statement()?);
    }
    Ok(Parsed {
        body,
        max_nesting: p.max_seen,
        deepest: p.deepest,
    })
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    max_depth: usize,
    max_seen: usize,
    deepest: Span,
    loop_depth: usize,
}

type PResult<T> = Result<T, LangError>;
type Kwargs = Vec<(Rc<str>, Expr)>;

const UNSUPPORTED_STMT: &[(&str, &str)] = &[
    ("def", "function definitions ('def') are not supported in map programs"),
    ("class", "class definitions ('class') are not supported in map programs"),
    ("try", "'try' statements are not supported in map programs"),
    ("with", "'with' statements are not supported in map programs"),
    ("global", "'global' statements are not supported in map programs"),
    ("nonlocal", "'nonlocal' statements are not supported in map programs"),
    ("async", "'async' is not supported in map programs"),
    ("await", "'await' is not supported in map programs"),
    ("raise", "'raise' statements are not supported in map programs"),
    ("lambda", "'lambda' expressions are not supported in map programs"),
    ("except", "'except' without 'try' is not supported in map programs"),
    ("finally", "'finally' without 'try' is not supported in map programs"),
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
            _ => self.err(format!("invalid syntax: unexpected {}", describe(tok)), self.span()),
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
            Tok::Kw("else") => Err(self.err("'else' without a matching 'if', 'for' or 'while'", span)),
            Tok::Op("@") => Err(self.err("decorators are not supported in map programs", span)),
            Tok::Indent => Err(self.err("unexpected indent", span)),
            Tok::Dedent => Err(self.err("unindent does not match any outer indentation level", span)),
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
                let msg = if self.eat_op(",") { Some(self.test()?) } else { None };
                StmtKind::Assert { test, msg }
            }
            Tok::Kw("del") => {
                self.advance();
                let mut targets = vec![self.binary(0)?];
                while self.eat_op(",") {
                    if matches!(self.peek(), Tok::Newline | Tok::Eof) || self.is_op(";") {
                        break;
                    }
                    targets.push(self.binary(0)?);
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
            return Err(self.err("relative imports are not supported in map programs", self.span()));
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
            let alias = if self.eat_kw("as") {
                Some(self.expect_name("after 'as'")?.0)
            } else {
                None
            };
            names.push(ImportName {
                module,
                alias,
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
            names.push((Rc::from("*"), None, s));
            return Ok(StmtKind::FromImport {
                module,
                module_span,
                names,
            });
        }
        let paren = self.eat_op("(");
        loop {
            let (name, span) = self.expect_name("to import")?;
            let alias = if self.eat_kw("as") {
                Some(self.expect_name("after 'as'")?.0)
            } else {
                None
            };
            names.push((name, alias, span));
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
                if !matches!(first.kind, ExprKind::Name(_) | ExprKind::Subscript(..) | ExprKind::Attr(..)) {
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
                    format!("expected an indented block after {what} on line {}", header.line),
                    self.span(),
                ));
            }
            return self.simple_stmts();
        }
        self.advance();
        if !matches!(self.peek(), Tok::Indent) {
            return Err(self.err(
                format!("expected an indented block after {what} on line {}", header.line),
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
                format!("expected 'in' after for-loop variable, found {}", describe(self.peek())),
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
        let first = self.binary(0)?;
        let target = if self.is_op(",") {
            let mut items = vec![first];
            while self.eat_op(",") {
                if self.is_kw("in") {
                    break;
                }
                items.push(self.binary(0)?);
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
            Tok::Kw(k) => matches!(*k, "None" | "True" | "False" | "not" | "lambda" | "await" | "yield"),
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
        Ok(Self::expr(ExprKind::Tuple(items), start.to(self.prev_span())))
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
            // Don't treat a comprehension's `if` as a conditional: the
            // conditional requires an `else`, comprehension ifs are parsed by
            // the caller before reaching here (they use or_test).
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
            return Ok(Self::expr(
                ExprKind::IfExp {
                    cond: Box::new(cond),
                    then: Box::new(e),
                    orelse: Box::new(orelse),
                },
                span,
            ));
        }
        Ok(e)
    }

    fn or_test(&mut self) -> PResult<Expr> {
        let start = self.span();
        let first = self.and_test()?;
        if !self.is_kw("or") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_kw("or") {
            items.push(self.and_test()?);
        }
        Ok(Self::expr(ExprKind::Or(items), start.to(self.prev_span())))
    }

    fn and_test(&mut self) -> PResult<Expr> {
        let start = self.span();
        let first = self.not_test()?;
        if !self.is_kw("and") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_kw("and") {
            items.push(self.not_test()?);
        }
        Ok(Self::expr(ExprKind::And(items), start.to(self.prev_span())))
    }

    fn not_test(&mut self) -> PResult<Expr> {
        if self.is_kw("not") {
            let start = self.advance().span;
            self.enter()?;
            let inner = self.not_test();
            self.leave();
            let inner = inner?;
            let span = start.to(self.prev_span());
            return Ok(Self::expr(ExprKind::Not(Box::new(inner)), span));
        }
        self.comparison()
    }

    fn cmp_op(&self) -> Option<(CmpOp, usize)> {
        match self.peek() {
            Tok::Op("==") => Some((CmpOp::Eq, 1)),
            Tok::Op("!=") => Some((CmpOp::Ne, 1)),
            Tok::Op("<") => Some((CmpOp::Lt, 1)),
            Tok::Op("<=") => Some((CmpOp::Le, 1)),
            Tok::Op(">") => Some((CmpOp::Gt, 1)),
            Tok::Op(">=") => Some((CmpOp::Ge, 1)),
            Tok::Kw("in") => Some((CmpOp::In, 1)),
            Tok::Kw("not") if matches!(self.peek2(), Tok::Kw("in")) => Some((CmpOp::NotIn, 2)),
            Tok::Kw("is") if matches!(self.peek2(), Tok::Kw("not")) => Some((CmpOp::IsNot, 2)),
            Tok::Kw("is") => Some((CmpOp::Is, 1)),
            _ => None,
        }
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let start = self.span();
        let first = self.binary(0)?;
        let mut rest = Vec::new();
        while let Some((op, n)) = self.cmp_op() {
            for _ in 0..n {
                self.advance();
            }
            rest.push((op, self.binary(0)?));
        }
        if rest.is_empty() {
            return Ok(first);
        }
        Ok(Self::expr(
            ExprKind::Compare(Box::new(first), rest),
            start.to(self.prev_span()),
        ))
    }

    fn binop_at(&self, level: u8) -> Option<BinOp> {
        let Tok::Op(o) = self.peek() else { return None };
        match (level, *o) {
            (0, "|") => Some(BinOp::BitOr),
            (1, "^") => Some(BinOp::BitXor),
            (2, "&") => Some(BinOp::BitAnd),
            (3, "<<") => Some(BinOp::LShift),
            (3, ">>") => Some(BinOp::RShift),
            (4, "+") => Some(BinOp::Add),
            (4, "-") => Some(BinOp::Sub),
            (5, "*") => Some(BinOp::Mul),
            (5, "/") => Some(BinOp::Div),
            (5, "//") => Some(BinOp::FloorDiv),
            (5, "%") => Some(BinOp::Mod),
            (5, "@") => Some(BinOp::MatMul),
            _ => None,
        }
    }

    /// Binary operators by precedence level (0 = `|` ... 5 = `*`).
    fn binary(&mut self, level: u8) -> PResult<Expr> {
        if level > 5 {
            return self.unary();
        }
        let start = self.span();
        let first = self.binary(level + 1)?;
        let mut rest = Vec::new();
        while let Some(op) = self.binop_at(level) {
            self.advance();
            rest.push((op, self.binary(level + 1)?));
        }
        if rest.is_empty() {
            return Ok(first);
        }
        Ok(Self::expr(
            ExprKind::Binary(Box::new(first), rest),
            start.to(self.prev_span()),
        ))
    }

    fn unary(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            Tok::Op("-") => Some(UnaryOp::Neg),
            Tok::Op("+") => Some(UnaryOp::Pos),
            Tok::Op("~") => Some(UnaryOp::Invert),
            _ => None,
        };
        if let Some(op) = op {
            let start = self.advance().span;
            self.enter()?;
            let inner = self.unary();
            self.leave();
            let inner = inner?;
            // Fold negative literals so `-5` is a constant.
            let span = start.to(self.prev_span());
            if op == UnaryOp::Neg {
                match inner.kind {
                    ExprKind::Int(v) if v != i64::MIN => {
                        return Ok(Self::expr(ExprKind::Int(-v), span));
                    }
                    ExprKind::Float(v) => return Ok(Self::expr(ExprKind::Float(-v), span)),
                    _ => {}
                }
            }
            return Ok(Self::expr(ExprKind::Unary(op, Box::new(inner)), span));
        }
        self.power()
    }

    fn power(&mut self) -> PResult<Expr> {
        let start = self.span();
        let base = self.postfix()?;
        if self.is_op("**") {
            self.advance();
            self.enter()?;
            let exp = self.unary();
            self.leave();
            let exp = exp?;
            return Ok(Self::expr(
                ExprKind::Power(Box::new(base), Box::new(exp)),
                start.to(self.prev_span()),
            ));
        }
        Ok(base)
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
            if self.eat_op("(") {
                let (args, kwargs) = self.call_args()?;
                let span = start.to(self.prev_span());
                e = Self::expr(
                    ExprKind::Call {
                        func: Box::new(e),
                        args,
                        kwargs,
                    },
                    span,
                );
            } else if self.eat_op("[") {
                let idx = self.subscript_list()?;
                self.expect_op("]", "to close the subscript")?;
                let span = start.to(self.prev_span());
                e = Self::expr(ExprKind::Subscript(Box::new(e), Box::new(idx)), span);
            } else {
                self.advance();
                let (name, _) = self.expect_name("after '.'")?;
                let span = start.to(self.prev_span());
                e = Self::expr(ExprKind::Attr(Box::new(e), name), span);
            }
        }
        Ok(e)
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
                        return Err(self.err(
                            "generator expression must be parenthesized",
                            span,
                        ));
                    }
                    args.push(g);
                } else {
                    if !kwargs.is_empty() {
                        return Err(self.err("positional argument follows keyword argument", v.span));
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
        Ok(Self::expr(ExprKind::Tuple(items), start.to(self.prev_span())))
    }

    fn slice_part_ends(&self) -> bool {
        self.is_op(":") || self.is_op("]") || self.is_op(",")
    }

    fn subscript_item(&mut self) -> PResult<Expr> {
        let start = self.span();
        let lower = if self.is_op(":") { None } else { Some(self.test()?) };
        if !self.is_op(":") {
            return match lower {
                Some(e) => Ok(e),
                None => Err(self.unexpected()),
            };
        }
        self.advance();
        let upper = if self.slice_part_ends() { None } else { Some(self.test()?) };
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
                    format!("too many nested 'for' clauses in comprehension (limit {})", self.max_depth),
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
                Ok(Self::expr(ExprKind::Name(n), start))
            }
            Tok::Int(v) => {
                self.advance();
                Ok(Self::expr(ExprKind::Int(v), start))
            }
            Tok::Float(v) => {
                self.advance();
                Ok(Self::expr(ExprKind::Float(v), start))
            }
            Tok::Str(s) => {
                self.advance();
                if !matches!(self.peek(), Tok::Str(_)) {
                    return Ok(Self::expr(ExprKind::Str(s), start));
                }
                let mut buf = s.to_string();
                while let Tok::Str(more) = self.peek().clone() {
                    self.advance();
                    buf.push_str(&more);
                }
                Ok(Self::expr(ExprKind::Str(Rc::from(buf)), start.to(self.prev_span())))
            }
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
            Tok::Op("(") => {
                self.advance();
                if self.eat_op(")") {
                    return Ok(Self::expr(ExprKind::Tuple(Vec::new()), start.to(self.prev_span())));
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
                Ok(Self::expr(ExprKind::Tuple(items), start.to(self.prev_span())))
            }
            Tok::Op("[") => {
                self.advance();
                if self.eat_op("]") {
                    return Ok(Self::expr(ExprKind::List(Vec::new()), start.to(self.prev_span())));
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
                Ok(Self::expr(ExprKind::List(items), start.to(self.prev_span())))
            }
            Tok::Op("{") => {
                self.advance();
                if self.eat_op("}") {
                    return Ok(Self::expr(ExprKind::Dict(Vec::new()), start.to(self.prev_span())));
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
                Ok(Self::expr(ExprKind::Dict(items), start.to(self.prev_span())))
            }
            Tok::Newline | Tok::Eof => Err(self.err(
                "invalid syntax: expected an expression, found end of line",
                self.span(),
            )),
            _ => Err(self.unexpected()),
        }
    }
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
