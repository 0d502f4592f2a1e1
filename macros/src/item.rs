//! Reading the annotated function's syntax: `async fn`, or the body `#[async_trait]` left behind;
//! its return type; its parameters; its other attributes.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, Block, Expr, ExprAsync, FnArg, Ident, ItemFn, Local, Pat, ReturnType, Stmt, Type,
};

/// Parses the annotated item, with a helpful error for a trait method without a body.
pub(crate) fn parse(item: TokenStream, attr: &str) -> syn::Result<ItemFn> {
    match syn::parse2::<ItemFn>(item.clone()) {
        Ok(item) => Ok(item),
        Err(error) => match syn::parse2::<syn::TraitItemFn>(item) {
            Ok(method) if method.default.is_none() => Err(syn::Error::new_spanned(
                &method.sig.ident,
                format!(
                    "`#[{attr}]` needs a function body: put it on the method in the `impl` block, \
                     or give this trait method a default body"
                ),
            )),
            _ => Err(syn::Error::new(
                error.span(),
                format!("`#[{attr}]` applies to an `async fn`: {error}"),
            )),
        },
    }
}

/// How the function's future is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A native `async fn` (free function, inherent or trait method).
    Async,
    /// A method already rewritten by `#[async_trait]`: a plain `fn` whose body ends in
    /// `Box::pin(async move { ... let __ret: Ret = { <body> }; __ret })`.
    AsyncTrait,
}

/// Recognises the function's shape, or `None` for a plain synchronous function.
pub(crate) fn shape(item: &ItemFn) -> Option<Shape> {
    if item.sig.asyncness.is_some() {
        return Some(Shape::Async);
    }
    let future = async_trait_future(&item.block)?;
    // async-trait >= 0.1.44 always writes `let __ret: Ret = { body };` for a named return type
    // (and `let _: () = { body };` for none); without it there is nothing we can wrap.
    async_trait_ret(future).map(|_| Shape::AsyncTrait)
}

/// The `async move { ... }` passed to `Box::pin` in the last expression of an `#[async_trait]`
/// body (the same detection as tracing-attributes' `AsyncInfo::from_fn`).
fn async_trait_future(block: &Block) -> Option<&ExprAsync> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = block.stmts.last() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = func
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) || call.args.len() != 1 {
        return None;
    }
    match &call.args[0] {
        Expr::Async(future) => Some(future),
        _ => None,
    }
}

/// Mutable access to the same `async move { ... }` block.
pub(crate) fn async_trait_future_mut(block: &mut Block) -> Option<&mut Expr> {
    let Some(Stmt::Expr(Expr::Call(call), None)) = block.stmts.last_mut() else {
        return None;
    };
    call.args.first_mut()
}

/// The type of `let __ret: Ret = <init>;`, the binding async-trait puts in its future.
fn ret_binding(local: &Local) -> Option<&Type> {
    let Pat::Type(pat) = &local.pat else {
        return None;
    };
    let Pat::Ident(ident) = &*pat.pat else {
        return None;
    };
    (ident.ident == "__ret" && local.init.is_some()).then_some(&*pat.ty)
}

/// Finds async-trait's `let __ret: Ret = <init>;` and returns `Ret`.
fn async_trait_ret(future: &ExprAsync) -> Option<&Type> {
    future.block.stmts.iter().find_map(|stmt| match stmt {
        Stmt::Local(local) => ret_binding(local),
        _ => None,
    })
}

/// Mutable access to `<init>` in `let __ret: Ret = <init>;`.
pub(crate) fn async_trait_ret_mut(block: &mut Block) -> Option<&mut Expr> {
    let Some(Expr::Async(future)) = async_trait_future_mut(block) else {
        return None;
    };
    future.block.stmts.iter_mut().find_map(|stmt| match stmt {
        Stmt::Local(local) if ret_binding(local).is_some() => {
            local.init.as_mut().map(|init| &mut *init.expr)
        }
        _ => None,
    })
}

/// The return type the body produces: the declared one, or async-trait's `Ret`. `None` for `()`.
pub(crate) fn return_type(item: &ItemFn, shape: Shape) -> Option<Type> {
    match shape {
        Shape::Async => match &item.sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) => Some((**ty).clone()),
        },
        Shape::AsyncTrait => {
            let ty = async_trait_ret(async_trait_future(&item.block)?)?;
            match ty {
                Type::Tuple(t) if t.elems.is_empty() => None,
                ty => Some(ty.clone()),
            }
        }
    }
}

/// Why a return type is certainly not a `Result`, for types whose syntax already says so.
/// (A path type may be a `Result` alias; the compiler checks those, see `private::BreakerReturn`.)
pub(crate) fn certainly_not_result(ty: &Type) -> Option<&'static str> {
    match ty {
        Type::Path(path) => {
            let last = path.path.segments.last()?.ident.to_string();
            const NOT: &[&str] = &[
                "Option", "Vec", "String", "Box", "bool", "char", "str", "u8", "u16", "u32", "u64",
                "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32", "f64",
                "HashMap", "BTreeMap",
            ];
            NOT.contains(&last.as_str()).then_some("a `Result<T, E>`")
        }
        Type::ImplTrait(_) => Some("a `Result<T, E>` (not `impl Trait`)"),
        Type::Paren(p) => certainly_not_result(&p.elem),
        Type::Group(g) => certainly_not_result(&g.elem),
        Type::Macro(_) | Type::Infer(_) | Type::Verbatim(_) => None,
        _ => Some("a `Result<T, E>`"),
    }
}

/// Replaces `impl Trait` with `_` so that a type can be written inside the body (tracing does the
/// same for its fake return edge).
pub(crate) fn erase_impl_trait(ty: &Type) -> Type {
    struct Eraser;
    impl VisitMut for Eraser {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(it) = ty {
                let span = syn::spanned::Spanned::span(&it.impl_token);
                *ty = syn::parse_quote_spanned!(span=> _);
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = ty.clone();
    Eraser.visit_type_mut(&mut ty);
    ty
}

/// A parameter as the fallback receives it.
pub(crate) enum Param {
    /// `self`, `&self`, `&mut self`, `self: Box<Self>`...
    Receiver,
    /// A parameter bound to a plain name (`user_id: &str`, `mut n: u32`).
    Named(Ident),
    /// A destructuring pattern or `_`: it has no name to pass on.
    Pattern(TokenStream),
}

/// The function's parameters.
pub(crate) fn params(item: &ItemFn) -> Vec<Param> {
    item.sig
        .inputs
        .iter()
        .map(|arg| match arg {
            FnArg::Receiver(_) => Param::Receiver,
            FnArg::Typed(pat) => match &*pat.pat {
                Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => {
                    if p.ident == "self" {
                        Param::Receiver
                    } else {
                        Param::Named(p.ident.clone())
                    }
                }
                other => Param::Pattern(other.to_token_stream()),
            },
        })
        .collect()
}

/// A span for the whole return type (or the function name when there is none).
pub(crate) fn return_span(item: &ItemFn) -> Span {
    match &item.sig.output {
        ReturnType::Type(_, ty) => syn::spanned::Spanned::span(ty),
        ReturnType::Default => item.sig.ident.span(),
    }
}

/// Whether `attr` is `#[<last>]`/`#[<last>(...)]` under any path (`traced`, `fusebox::traced`, a
/// re-export...). A renamed import (`use fusebox::traced as span;`) is not recognised.
pub(crate) fn is_attr(attr: &Attribute, last: &str) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == last)
}
