//! Expansion snapshots: the macros run on `proc_macro2` input and the output, pretty-printed by
//! `prettyplease`, is compared with insta snapshots in `src/snapshots/`.
//!
//! [`expand_attrs`] plays rustc's part: it expands the outermost fusebox attribute, re-parses the
//! result, and repeats, so stacked attributes expand in the order the compiler uses.

use proc_macro2::TokenStream;
use quote::quote;

use crate::{
    bulkhead_tokens, circuit_breaker_tokens, rate_limiter_tokens, retry_tokens,
    time_limiter_tokens, traced_tokens,
};

/// Expands every `#[circuit_breaker]` / `#[retry]` / `#[traced]` on `item`, outermost first, as
/// rustc does.
fn expand_attrs(item: TokenStream) -> String {
    let mut tokens = item;
    for _ in 0..8 {
        let mut func: syn::ItemFn = syn::parse2(tokens.clone()).expect("an fn item");
        let Some(index) = func.attrs.iter().position(|a| {
            let last = a.path().segments.last().map(|s| s.ident.to_string());
            matches!(
                last.as_deref(),
                Some(
                    "circuit_breaker"
                        | "retry"
                        | "rate_limiter"
                        | "time_limiter"
                        | "bulkhead"
                        | "traced"
                )
            )
        }) else {
            break;
        };
        let attr = func.attrs.remove(index);
        let last = attr
            .path()
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let args = match attr.meta {
            syn::Meta::List(list) => list.tokens,
            _ => TokenStream::new(),
        };
        let item = quote!(#func);
        tokens = match last.as_str() {
            "circuit_breaker" => circuit_breaker_tokens(args, item),
            "retry" => retry_tokens(args, item),
            "rate_limiter" => rate_limiter_tokens(args, item),
            "time_limiter" => time_limiter_tokens(args, item),
            "bulkhead" => bulkhead_tokens(args, item),
            _ => traced_tokens(args, item),
        };
    }
    let file: syn::File = syn::parse2(tokens).expect("valid output");
    prettyplease::unparse(&file)
}

#[test]
fn course_example_traced_then_breaker() {
    let out = expand_attrs(quote! {
        /// Orders of a user, empty while order-service is down.
        #[traced(kind = "client", remote_service = "order-service")]
        #[circuit_breaker(name = "orders", fallback = "empty_orders")]
        async fn get_orders(&self, user_id: &str) -> Result<Vec<Order>, ClientError> {
            self.client.orders(user_id).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn either_order_expands_the_same() {
    let traced_first = expand_attrs(quote! {
        #[traced(kind = "client", remote_service = "order-service")]
        #[circuit_breaker(name = "orders", fallback = "empty_orders")]
        async fn get_orders(&self, user_id: &str) -> Result<Vec<Order>, ClientError> {
            self.client.orders(user_id).await
        }
    });
    let breaker_first = expand_attrs(quote! {
        #[circuit_breaker(name = "orders", fallback = "empty_orders")]
        #[traced(kind = "client", remote_service = "order-service")]
        async fn get_orders(&self, user_id: &str) -> Result<Vec<Order>, ClientError> {
            self.client.orders(user_id).await
        }
    });
    assert_eq!(traced_first, breaker_first);
}

#[test]
fn breaker_without_fallback() {
    let out = expand_attrs(quote! {
        #[circuit_breaker(name = "orders", record = is_transient, ignore = |e: &ClientError| e.is_not_found())]
        pub(crate) async fn get_orders(user_id: &str) -> Result<Vec<Order>, ClientError> {
            fetch(user_id).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn cause_only_fallback_registry_and_crate_path() {
    let out = expand_attrs(quote! {
        #[circuit_breaker(
            name = "orders",
            fallback = "no_orders",
            fallback_args = "cause",
            registry = REGISTRY,
            crate = "my_platform::fusebox",
        )]
        async fn get_orders(self: Arc<Self>, user_id: String) -> io::Result<Vec<Order>> {
            self.fetch(&user_id).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn traced_alone_with_fields_and_err() {
    let out = expand_attrs(quote! {
        #[traced(name = "load-user", level = "debug", fields(user.id = %user_id), err)]
        async fn load_user(user_id: u64, password: &str) -> Result<User, Error> {
            db::load(user_id, password).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn traced_alone_describes_errors() {
    let out = expand_attrs(quote! {
        #[traced(kind = "client")]
        async fn load_user(user_id: u64) -> Result<User, Error> {
            db::load(user_id).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn async_trait_body() {
    // What `#[async_trait]` leaves for the method attributes to expand (async-trait 0.1.9x).
    let out = expand_attrs(quote! {
        #[traced]
        #[circuit_breaker(name = "orders", fallback = "empty_orders")]
        fn get_orders<'life0, 'life1, 'async_trait>(
            &'life0 self,
            user_id: &'life1 str,
        ) -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = Result<Vec<Order>, ClientError>> + ::core::marker::Send + 'async_trait>>
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move {
                if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<Vec<Order>, ClientError>> {
                    #[allow(unreachable_code)]
                    return __ret;
                }
                let __self = self;
                let __ret: Result<Vec<Order>, ClientError> = {
                    __self.client.orders(user_id).await
                };
                #[allow(unreachable_code)]
                __ret
            })
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn async_trait_body_traced_alone() {
    let out = expand_attrs(quote! {
        #[traced]
        fn lookup<'life0, 'life1, 'async_trait>(
            &'life0 self,
            key: &'life1 str,
        ) -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = Result<String, ClientError>> + ::core::marker::Send + 'async_trait>>
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move {
                if let ::core::option::Option::Some(__ret) = ::core::option::Option::None::<Result<String, ClientError>> {
                    #[allow(unreachable_code)]
                    return __ret;
                }
                let __self = self;
                let __ret: Result<String, ClientError> = {
                    __self.client.lookup(key).await
                };
                #[allow(unreachable_code)]
                __ret
            })
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn retry_alone() {
    let out = expand_attrs(quote! {
        #[retry(name = "orders", fallback = "cached_orders")]
        async fn get_orders(client: &Client, user_id: &str) -> Result<Vec<Order>, ClientError> {
            client.orders(user_id).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn traced_retry_around_breaker() {
    let out = expand_attrs(quote! {
        #[traced(kind = "client", remote_service = "order-service")]
        #[circuit_breaker(name = "orders", fallback = "empty_orders")]
        #[retry(name = "orders", fallback = "cached_orders")]
        async fn get_orders(&self, user_id: &str) -> Result<Vec<Order>, ClientError> {
            self.client.orders(user_id).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn breaker_ordered_around_retry() {
    let out = expand_attrs(quote! {
        #[retry(name = "orders")]
        #[circuit_breaker(name = "orders", order = 1)]
        async fn get_orders(user_id: &str) -> Result<Vec<Order>, ClientError> {
            fetch(user_id).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn any_source_order_nests_retry_outside_the_breaker() {
    let stacks = [
        quote! {
            #[traced]
            #[retry(name = "r", fallback = "f")]
            #[circuit_breaker(name = "b")]
            async fn get(user_id: &str) -> Result<u32, E> { fetch(user_id).await }
        },
        quote! {
            #[circuit_breaker(name = "b")]
            #[traced]
            #[retry(name = "r", fallback = "f")]
            async fn get(user_id: &str) -> Result<u32, E> { fetch(user_id).await }
        },
        quote! {
            #[retry(name = "r", fallback = "f")]
            #[circuit_breaker(name = "b")]
            #[traced]
            async fn get(user_id: &str) -> Result<u32, E> { fetch(user_id).await }
        },
    ];
    let expanded: Vec<String> = stacks
        .into_iter()
        .map(|stack| without_taken_uses(&expand_attrs(stack)))
        .collect();
    assert_eq!(expanded[0], expanded[1]);
    assert_eq!(expanded[0], expanded[2]);
    let retry_at = expanded[0].find("RetrySite::new").unwrap();
    let breaker_at = expanded[0].find("BreakerSite::new").unwrap();
    assert!(retry_at < breaker_at, "the retry is the outer layer");
}

#[test]
fn errors_keep_the_item() {
    let out = circuit_breaker_tokens(
        quote!(nmae = "orders"),
        quote!(
            async fn f() -> Result<(), E> {
                Ok(())
            }
        ),
    )
    .to_string();
    assert!(out.starts_with("async fn f"), "{out}");
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("did you mean `name`"), "{out}");
}

#[test]
fn rate_limiter_alone() {
    let out = expand_attrs(quote! {
        #[rate_limiter(name = "orders", fallback = "busy", permits = 2)]
        async fn get_orders(client: &Client, user_id: &str) -> Result<Vec<Order>, ClientError> {
            client.orders(user_id).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn time_limiter_alone_without_fallback() {
    let out = expand_attrs(quote! {
        #[time_limiter(name = "orders")]
        async fn get_orders(client: &Client, user_id: &str) -> Result<Vec<Order>, ClientError> {
            client.orders(user_id).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn traced_all_four_layers() {
    let out = expand_attrs(quote! {
        #[traced]
        #[time_limiter(name = "tl", fallback = "late")]
        #[rate_limiter(name = "rl")]
        #[circuit_breaker(name = "cb")]
        #[retry(name = "r", fallback = "cached")]
        async fn get_orders(user_id: &str) -> Result<Vec<Order>, ClientError> {
            fetch(user_id).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn any_source_order_nests_the_four_in_resilience4j_order() {
    let attrs = [
        quote!(#[retry(name = "r")]),
        quote!(#[circuit_breaker(name = "b")]),
        quote!(#[rate_limiter(name = "rl")]),
        quote!(#[time_limiter(name = "tl")]),
    ];
    let mut expanded = Vec::new();
    // Every rotation and the reverse of each.
    for start in 0..4 {
        for reverse in [false, true] {
            let mut order: Vec<_> = (0..4).map(|i| attrs[(start + i) % 4].clone()).collect();
            if reverse {
                order.reverse();
            }
            expanded.push(without_taken_uses(&expand_attrs(quote! {
                #(#order)*
                async fn get(user_id: &str) -> Result<u32, E> { fetch(user_id).await }
            })));
        }
    }
    assert!(expanded.iter().all(|e| *e == expanded[0]));
    let at = |site: &str| expanded[0].find(site).unwrap();
    assert!(at("RetrySite::new") < at("BreakerSite::new"));
    assert!(at("BreakerSite::new") < at("RateLimiterSite::new"));
    assert!(at("RateLimiterSite::new") < at("TimeLimiterSite::new"));
}

#[test]
fn bulkhead_alone() {
    let out = expand_attrs(quote! {
        #[bulkhead(name = "inventory", fallback = "busy", type = "SEMAPHORE")]
        async fn stock(client: &Client, sku: &str) -> Result<u32, ClientError> {
            client.stock(sku).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn traced_bulkhead_inside_a_retry() {
    let out = expand_attrs(quote! {
        #[traced]
        #[bulkhead(name = "bh")]
        #[retry(name = "r", fallback = "cached")]
        async fn stock(sku: &str) -> Result<u32, ClientError> {
            fetch(sku).await
        }
    });
    insta::assert_snapshot!(out);
}

#[test]
fn any_source_order_nests_the_five_in_resilience4j_order() {
    let attrs = [
        quote!(#[retry(name = "r")]),
        quote!(#[circuit_breaker(name = "b")]),
        quote!(#[rate_limiter(name = "rl")]),
        quote!(#[time_limiter(name = "tl")]),
        quote!(#[bulkhead(name = "bh")]),
    ];
    let mut expanded = Vec::new();
    // Every rotation and the reverse of each.
    for start in 0..5 {
        for reverse in [false, true] {
            let mut order: Vec<_> = (0..5).map(|i| attrs[(start + i) % 5].clone()).collect();
            if reverse {
                order.reverse();
            }
            expanded.push(without_taken_uses(&expand_attrs(quote! {
                #(#order)*
                async fn get(user_id: &str) -> Result<u32, E> { fetch(user_id).await }
            })));
        }
    }
    assert!(expanded.iter().all(|e| *e == expanded[0]));
    let at = |site: &str| expanded[0].find(site).unwrap();
    assert!(at("RetrySite::new") < at("BreakerSite::new"));
    assert!(at("BreakerSite::new") < at("RateLimiterSite::new"));
    assert!(at("RateLimiterSite::new") < at("TimeLimiterSite::new"));
    assert!(at("TimeLimiterSite::new") < at("BulkheadSite::new"));
}

/// `out` without the `use <attribute path> as _;` of the attributes the first one took off the
/// function (which ones those are depends on the source order; the rest does not).
fn without_taken_uses(out: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    let mut kept = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index].trim();
        if line == "#[allow(unused_imports)]"
            && let Some(next) = lines.get(index + 1).map(|l| l.trim())
            && next.starts_with("use ")
            && next.ends_with(" as _;")
            && !next.contains("__private")
        {
            index += 2;
            continue;
        }
        kept.push(lines[index]);
        index += 1;
    }
    kept.join("\n")
}

#[test]
fn attributes_taken_off_the_function_are_used_by_path() {
    let out = expand_attrs(quote! {
        #[bulkhead(name = "bh")]
        #[fusebox::retry(name = "r")]
        #[circuit_breaker(name = "b")]
        async fn get(user_id: &str) -> Result<u32, E> { fetch(user_id).await }
    });
    assert!(out.contains("use fusebox::retry as _;"), "{out}");
    assert!(out.contains("use circuit_breaker as _;"), "{out}");
    // The attribute being expanded is resolved by rustc already.
    assert!(!out.contains("use bulkhead as _;"), "{out}");
    assert_ne!(without_taken_uses(&out), out);
}
