//! Attribute arguments: tokens -> typed arguments with spans.
//!
//! Hand-written `Parse` code over an explicit key table (no darling): every key is known, an
//! unknown key is an error naming the nearest valid key, a duplicate key is an error on its second
//! occurrence, and parsing goes on after an error (up to the next top-level comma) so that the user
//! sees every mistake of one attribute at once.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprPath, Ident, LitStr, Path, Token};

/// Collects errors so that all of them are reported together.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn push_spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// `fallback_args = "all" | "cause"`: which arguments the fallback takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FallbackArgs {
    /// The function's own arguments (the receiver first, for methods), then the cause.
    All,
    /// Only the cause (after the receiver, for methods).
    Cause,
}

/// `fallback = "path"`.
pub(crate) struct Fallback {
    /// The literal as written; errors about the fallback are spanned on it.
    pub(crate) lit: LitStr,
    pub(crate) path: ExprPath,
    pub(crate) args: FallbackArgs,
}

/// The arguments of `#[circuit_breaker(...)]`.
pub(crate) struct BreakerArgs {
    pub(crate) name: LitStr,
    pub(crate) fallback: Option<Fallback>,
    pub(crate) record: Option<Expr>,
    pub(crate) ignore: Option<Expr>,
    pub(crate) record_result: Option<Expr>,
    pub(crate) registry: Option<Expr>,
    pub(crate) krate: Option<Path>,
}

/// The keys of `#[circuit_breaker]`, in the order of the documentation.
pub(crate) const BREAKER_KEYS: &[&str] = &[
    "name",
    "fallback",
    "fallback_args",
    "record",
    "ignore",
    "record_result",
    "registry",
    "crate",
];

/// `kind = "..."` values, which tracing-opentelemetry maps to the OpenTelemetry span kind.
pub(crate) const KINDS: &[&str] = &["client", "server", "producer", "consumer", "internal"];

/// `level = "..."` values.
pub(crate) const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error"];

/// The keys of `#[traced]` (the hidden `__breaker` is not listed: users never write it).
pub(crate) const TRACED_KEYS: &[&str] = &[
    "name",
    "kind",
    "remote_service",
    "fields",
    "skip",
    "skip_all",
    "err",
    "level",
    "target",
    "crate",
];

/// One `fields(...)` entry, passed through to `tracing::span!` as written:
/// `key`, `%key`, `?key`, `key = expr`, `key = %expr`, `key = ?expr`, with dotted or string keys.
pub(crate) struct Field {
    pub(crate) tokens: TokenStream,
}

/// The arguments of `#[traced(...)]`.
pub(crate) struct TracedArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) kind: Option<LitStr>,
    pub(crate) remote_service: Option<LitStr>,
    pub(crate) fields: Vec<Field>,
    pub(crate) skip: Vec<Ident>,
    pub(crate) skip_all: bool,
    pub(crate) err: bool,
    pub(crate) level: Option<LitStr>,
    pub(crate) target: Option<LitStr>,
    pub(crate) krate: Option<Path>,
    /// Hidden: set by `#[circuit_breaker]` when it finds `#[traced]` on the same function, so that
    /// the span declares the breaker's fields.
    pub(crate) breaker: Option<LitStr>,
}

/// Tracks keys already seen, for the duplicate-key error.
struct Seen(Vec<String>);

impl Seen {
    fn check(&mut self, key: &Ident, errors: &mut Errors) -> bool {
        let name = key.unraw().to_string();
        if self.0.contains(&name) {
            errors.push_spanned(
                key,
                format!("`{name}` is set more than once; remove one of them"),
            );
            false
        } else {
            self.0.push(name);
            true
        }
    }
}

/// Skips the rest of a malformed argument, up to the next top-level comma.
fn skip_to_comma(input: ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

/// Parses `= "literal"`.
fn str_value(input: ParseStream<'_>, key: &Ident, example: &str) -> syn::Result<LitStr> {
    eq(input, key, example)?;
    if input.peek(LitStr) {
        return input.parse();
    }
    let found: TokenStream = input
        .fork()
        .parse::<TokenTree>()
        .map(Into::into)
        .unwrap_or_default();
    let span = if found.is_empty() {
        key.span()
    } else {
        found.span()
    };
    Err(syn::Error::new(
        span,
        format!("expected a string literal for `{key}`, as in `{key} = {example}`"),
    ))
}

/// Parses the `=` after a key.
fn eq(input: ParseStream<'_>, key: &Ident, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(syn::Error::new(
            key.span(),
            format!("expected `{key} = {example}`"),
        ))
    }
}

/// Parses `= <expression>`.
fn expr_value(input: ParseStream<'_>, key: &Ident, example: &str) -> syn::Result<Expr> {
    eq(input, key, example)?;
    if input.is_empty() || input.peek(Token![,]) {
        return Err(syn::Error::new(
            key.span(),
            format!("expected an expression, as in `{key} = {example}`"),
        ));
    }
    let expr: Expr = input.parse()?;
    if let Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(s),
        ..
    }) = &expr
    {
        // `record = "is_transient"`: accept the string form too, as serde does for paths.
        return s.parse::<ExprPath>().map(Expr::Path);
    }
    Ok(expr)
}

fn unknown_key(key: &Ident, valid: &[&str], what: &str) -> syn::Error {
    let name = key.unraw().to_string();
    let list = valid
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match nearest(&name, valid) {
        Some(best) => format!(
            "unknown {what} option `{name}`; did you mean `{best}`? (expected one of: {list})"
        ),
        None => format!("unknown {what} option `{name}`; expected one of: {list}"),
    };
    syn::Error::new(key.span(), message)
}

/// The valid word closest to `word` by edit distance, if it is close enough to be a typo.
pub(crate) fn nearest<'a>(word: &str, valid: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    valid
        .iter()
        .map(|v| (distance(&word, v), *v))
        .filter(|(d, v)| {
            *d <= (v.len().max(word.len()) / 3).max(1)
                || v.starts_with(&word)
                || word.starts_with(*v)
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

/// Edit distance counting a swap of two adjacent characters as one edit (optimal string
/// alignment), so that `nmae` is one edit away from `name`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Checks that a string literal is one of `valid`, with a suggestion otherwise.
fn one_of(lit: &LitStr, valid: &[&str], key: &str, errors: &mut Errors) {
    let value = lit.value();
    if valid.contains(&value.as_str()) {
        return;
    }
    let list = valid
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match nearest(&value, valid) {
        Some(best) => format!(
            "invalid `{key}` \"{value}\"; did you mean \"{best}\"? (expected one of: {list})"
        ),
        None => format!("invalid `{key}` \"{value}\"; expected one of: {list}"),
    };
    errors.push_spanned(lit, message);
}

fn parse_crate_path(lit: &LitStr) -> syn::Result<Path> {
    lit.parse_with(Path::parse_mod_style).map_err(|_| {
        syn::Error::new(
            lit.span(),
            "expected a path to the fusebox crate, as in `crate = \"::fusebox\"`",
        )
    })
}

/// Runs `one` for each comma-separated `key ...` argument, collecting errors.
fn parse_list(
    input: ParseStream<'_>,
    errors: &mut Errors,
    mut one: impl FnMut(ParseStream<'_>, Ident, &mut Errors) -> syn::Result<()>,
) -> syn::Result<()> {
    while !input.is_empty() {
        let key = match input.call(Ident::parse_any) {
            Ok(key) => key,
            Err(_) => {
                let tt: TokenTree = input.parse()?;
                errors.push_spanned(&tt, "expected an option name, as in `name = \"orders\"`");
                skip_to_comma(input)?;
                let _ = input.parse::<Option<Token![,]>>()?;
                continue;
            }
        };
        if let Err(error) = one(input, key, errors) {
            errors.push(error);
            skip_to_comma(input)?;
        } else if !input.is_empty() && !input.peek(Token![,]) {
            let tt: TokenTree = input.fork().parse()?;
            errors.push_spanned(&tt, "expected `,` between options");
            skip_to_comma(input)?;
        }
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(())
}

impl BreakerArgs {
    /// Parses and validates `#[circuit_breaker(...)]`'s arguments.
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let mut seen = Seen(Vec::new());
        let mut name: Option<LitStr> = None;
        let mut fallback: Option<(LitStr, ExprPath)> = None;
        let mut fallback_args: Option<(LitStr, FallbackArgs)> = None;
        let (mut record, mut ignore, mut record_result, mut registry) = (None, None, None, None);
        let mut krate = None;
        let mut name_given = false;

        let parser = |input: ParseStream<'_>| {
            parse_list(input, &mut errors, |input, key, errors| {
                let key_name = key.unraw().to_string();
                if !BREAKER_KEYS.contains(&key_name.as_str()) {
                    return Err(unknown_key(&key, BREAKER_KEYS, "`#[circuit_breaker]`"));
                }
                let fresh = seen.check(&key, errors);
                match key_name.as_str() {
                    "name" => {
                        name_given = true;
                        let lit = str_value(input, &key, "\"orders\"")?;
                        if lit.value().trim().is_empty() {
                            errors.push_spanned(
                                &lit,
                                "the breaker name must not be empty, as in `name = \"orders\"`",
                            );
                        }
                        if fresh {
                            name = Some(lit);
                        }
                    }
                    "fallback" => {
                        let lit = str_value(input, &key, "\"empty_orders\"")?;
                        match lit.parse::<ExprPath>() {
                            Ok(path) if fresh => fallback = Some((lit, path)),
                            Ok(_) => {}
                            Err(_) => errors.push_spanned(
                                &lit,
                                "expected the name of a function or method, as in `fallback = \"empty_orders\"`",
                            ),
                        }
                    }
                    "fallback_args" => {
                        let lit = str_value(input, &key, "\"cause\"")?;
                        let value = match lit.value().as_str() {
                            "all" => FallbackArgs::All,
                            "cause" => FallbackArgs::Cause,
                            _ => {
                                one_of(&lit, &["all", "cause"], "fallback_args", errors);
                                FallbackArgs::All
                            }
                        };
                        if fresh {
                            fallback_args = Some((lit, value));
                        }
                    }
                    "record" | "ignore" | "record_result" => {
                        let example = match key_name.as_str() {
                            "record" => "is_transient",
                            "ignore" => "is_not_found",
                            _ => "is_server_error",
                        };
                        let value = expr_value(input, &key, example)?;
                        if fresh {
                            match key_name.as_str() {
                                "record" => record = Some(value),
                                "ignore" => ignore = Some(value),
                                _ => record_result = Some(value),
                            }
                        }
                    }
                    "registry" => {
                        let value = expr_value(input, &key, "MY_REGISTRY")?;
                        if fresh {
                            registry = Some(value);
                        }
                    }
                    _ => {
                        // "crate"
                        let lit = str_value(input, &key, "\"::fusebox\"")?;
                        let path = parse_crate_path(&lit)?;
                        if fresh {
                            krate = Some(path);
                        }
                    }
                }
                Ok(())
            })
        };
        if let Err(error) = parser.parse2(tokens) {
            errors.push(error);
        }

        if !name_given {
            errors.push(syn::Error::new(
                Span::call_site(),
                "missing `name`: every circuit breaker is named, as in `#[circuit_breaker(name = \"orders\")]`",
            ));
        }
        if let (Some((lit, _)), None) = (&fallback_args, &fallback) {
            errors.push_spanned(
                lit,
                "`fallback_args` needs a `fallback`, as in `fallback = \"empty_orders\"`",
            );
        }
        errors.finish()?;
        let fallback = fallback.map(|(lit, path)| Fallback {
            lit,
            path,
            args: fallback_args.map_or(FallbackArgs::All, |(_, a)| a),
        });
        Ok(BreakerArgs {
            // Checked above.
            name: name.unwrap_or_else(|| LitStr::new("", Span::call_site())),
            fallback,
            record,
            ignore,
            record_result,
            registry,
            krate,
        })
    }
}

/// Parses one `fields(...)` entry.
fn parse_field(input: ParseStream<'_>) -> syn::Result<Field> {
    let mut tokens = TokenStream::new();
    let sigil = |input: ParseStream<'_>, tokens: &mut TokenStream| -> syn::Result<bool> {
        if input.peek(Token![%]) {
            input.parse::<Token![%]>()?.to_tokens(tokens);
            Ok(true)
        } else if input.peek(Token![?]) {
            input.parse::<Token![?]>()?.to_tokens(tokens);
            Ok(true)
        } else {
            Ok(false)
        }
    };
    let leading_sigil = sigil(input, &mut tokens)?;
    if input.peek(LitStr) {
        input.parse::<LitStr>()?.to_tokens(&mut tokens);
    } else {
        let first = input.call(Ident::parse_any).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a field name, as in `fields(user.id = %user_id)`",
            )
        })?;
        first.to_tokens(&mut tokens);
        while input.peek(Token![.]) {
            input.parse::<Token![.]>()?.to_tokens(&mut tokens);
            input.call(Ident::parse_any)?.to_tokens(&mut tokens);
        }
    }
    if input.peek(Token![=]) {
        if leading_sigil {
            return Err(input.error("a field is either `%name` or `name = %value`, not both"));
        }
        input.parse::<Token![=]>()?.to_tokens(&mut tokens);
        sigil(input, &mut tokens)?;
        input.parse::<Expr>()?.to_tokens(&mut tokens);
    }
    Ok(Field { tokens })
}

impl TracedArgs {
    /// Parses and validates `#[traced(...)]`'s arguments.
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let mut seen = Seen(Vec::new());
        let mut args = TracedArgs {
            name: None,
            kind: None,
            remote_service: None,
            fields: Vec::new(),
            skip: Vec::new(),
            skip_all: false,
            err: false,
            level: None,
            target: None,
            krate: None,
            breaker: None,
        };
        let parser = |input: ParseStream<'_>| {
            parse_list(input, &mut errors, |input, key, errors| {
                let key_name = key.unraw().to_string();
                if key_name != "__breaker" && !TRACED_KEYS.contains(&key_name.as_str()) {
                    return Err(unknown_key(&key, TRACED_KEYS, "`#[traced]`"));
                }
                let fresh = seen.check(&key, errors);
                match key_name.as_str() {
                    "name" => {
                        let lit = str_value(input, &key, "\"get-orders\"")?;
                        if lit.value().trim().is_empty() {
                            errors.push_spanned(
                                &lit,
                                "the span name must not be empty, as in `name = \"get-orders\"`",
                            );
                        }
                        if fresh {
                            args.name = Some(lit);
                        }
                    }
                    "kind" => {
                        let lit = str_value(input, &key, "\"client\"")?;
                        one_of(&lit, KINDS, "kind", errors);
                        if fresh {
                            args.kind = Some(lit);
                        }
                    }
                    "level" => {
                        let lit = str_value(input, &key, "\"debug\"")?;
                        one_of(&lit, LEVELS, "level", errors);
                        if fresh {
                            args.level = Some(lit);
                        }
                    }
                    "remote_service" | "target" | "__breaker" => {
                        let example = if key_name == "target" {
                            "\"my_app::orders\""
                        } else {
                            "\"order-service\""
                        };
                        let lit = str_value(input, &key, example)?;
                        if lit.value().trim().is_empty() {
                            errors.push_spanned(&lit, format!("`{key_name}` must not be empty"));
                        }
                        if fresh {
                            match key_name.as_str() {
                                "remote_service" => args.remote_service = Some(lit),
                                "target" => args.target = Some(lit),
                                _ => args.breaker = Some(lit),
                            }
                        }
                    }
                    "fields" | "skip" => {
                        if !input.peek(syn::token::Paren) {
                            let example = if key_name == "fields" {
                                "fields(user.id = %user_id)"
                            } else {
                                "skip(password)"
                            };
                            return Err(syn::Error::new(
                                key.span(),
                                format!("expected a list, as in `{example}`"),
                            ));
                        }
                        let content;
                        syn::parenthesized!(content in input);
                        if key_name == "fields" {
                            let fields = Punctuated::<Field, Token![,]>::parse_terminated_with(
                                &content,
                                parse_field,
                            )?;
                            if fresh {
                                args.fields = fields.into_iter().collect();
                            }
                        } else {
                            let skip = Punctuated::<Ident, Token![,]>::parse_terminated_with(
                                &content,
                                Ident::parse_any,
                            )?;
                            if fresh {
                                args.skip = skip.into_iter().collect();
                            }
                        }
                    }
                    "skip_all" | "err" => {
                        if input.peek(Token![=]) || input.peek(syn::token::Paren) {
                            return Err(syn::Error::new(
                                key.span(),
                                format!(
                                    "`{key_name}` is a flag and takes no value: write `{key_name}`"
                                ),
                            ));
                        }
                        if key_name == "err" {
                            args.err = true;
                        } else {
                            args.skip_all = true;
                        }
                    }
                    _ => {
                        // "crate"
                        let lit = str_value(input, &key, "\"::fusebox\"")?;
                        let path = parse_crate_path(&lit)?;
                        if fresh {
                            args.krate = Some(path);
                        }
                    }
                }
                Ok(())
            })
        };
        if let Err(error) = parser.parse2(tokens) {
            errors.push(error);
        }
        errors.finish()?;
        Ok(args)
    }
}

/// The path through which generated code reaches the runtime: `::fusebox` unless `crate = "..."`.
pub(crate) fn crate_path(krate: Option<&Path>) -> TokenStream {
    match krate {
        Some(path) => {
            let path = path.clone();
            quote!(#path)
        }
        None => quote!(::fusebox),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_suggests_typos_only() {
        assert_eq!(nearest("fallbak", BREAKER_KEYS), Some("fallback"));
        assert_eq!(nearest("nmae", BREAKER_KEYS), Some("name"));
        assert_eq!(nearest("fallback_method", BREAKER_KEYS), Some("fallback"));
        assert_eq!(nearest("clinet", KINDS), Some("client"));
        assert_eq!(nearest("zzzzzzzz", BREAKER_KEYS), None);
    }

    #[test]
    fn all_errors_are_reported_together() {
        let err = BreakerArgs::parse(quote!(nmae = "x", fallback = 3, fallback = "a"))
            .err()
            .unwrap();
        let messages: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(messages[0].contains("did you mean `name`"));
        assert!(messages[1].contains("expected a string literal for `fallback`"));
        assert!(messages[2].contains("`fallback` is set more than once"));
        assert!(messages[3].contains("missing `name`"));
    }

    #[test]
    fn traced_fields_pass_through() {
        let args = TracedArgs::parse(
            quote!(fields(user.id = %user_id, ?order, "http.method" = "GET", count), err),
        )
        .unwrap();
        let fields: Vec<String> = args.fields.iter().map(|f| f.tokens.to_string()).collect();
        assert_eq!(
            fields,
            [
                "user . id = % user_id",
                "? order",
                "\"http.method\" = \"GET\"",
                "count"
            ]
        );
        assert!(args.err);
    }
}
