//! The arguments of `#[bulkhead(...)]` (parsed as [`NamedArgs`]), and its `type`.

use syn::parse::ParseStream;
use syn::{Ident, LitStr};

use super::named::Kind;
#[cfg(test)]
use super::named::NamedArgs;
use super::str_value;
use crate::suggest::nearest;

/// The keys of `#[bulkhead]`, in the order of the documentation.
pub(crate) const BULKHEAD_KEYS: &[&str] = &[
    "name",
    "fallback",
    "fallback_args",
    "type",
    "registry",
    "order",
    "crate",
];

/// `#[bulkhead]`.
pub(crate) static BULKHEAD: Kind = Kind {
    attr: "bulkhead",
    noun: "bulkhead",
    keys: BULKHEAD_KEYS,
    aliases: &[("fallbackmethod", "fallback")],
    config_keys: &[
        "max_concurrent_calls",
        "max_wait_duration",
        "fair_call_handling",
        "fair_call_handling_enabled",
        "event_consumer_buffer_size",
        "writable_stack_trace_enabled",
    ],
    section: "bulkhead",
    config: ("BulkheadConfig", "bulkhead_with_config"),
};

/// The bulkhead type Resilience4j's `@Bulkhead(type = ...)` names, of which fusebox provides
/// the semaphore one.
const SEMAPHORE: &str = "SEMAPHORE";
const THREADPOOL: &str = "THREADPOOL";

/// Parses `type = "SEMAPHORE"` (Resilience4j's default, the only bulkhead fusebox provides):
/// `"THREADPOOL"` is an error saying why it is not provided, anything else an error naming the
/// nearest type.
pub(crate) fn type_value(input: ParseStream<'_>, key: &Ident) -> syn::Result<LitStr> {
    let lit = str_value(input, key, "\"SEMAPHORE\"")?;
    let value = lit.value();
    if value == SEMAPHORE {
        return Ok(lit);
    }
    let message = if value == THREADPOOL {
        "`type = \"THREADPOOL\"`: Resilience4j's thread-pool bulkhead is not provided. It runs \
         blocking calls on a bounded pool of threads; an async call holds no thread while it \
         waits, so the semaphore bulkhead already bounds what runs at once (remove `type`, or \
         write `type = \"SEMAPHORE\"`; see `fusebox::bulkhead`)"
            .to_owned()
    } else {
        // `nearest` compares normalized (lowercase) words.
        match nearest(&value, &["semaphore", "threadpool"], &[]).map(str::to_uppercase) {
            Some(best) => format!(
                "invalid bulkhead `type` \"{value}\"; did you mean \"{best}\"? (fusebox provides \
                 \"SEMAPHORE\", the default)"
            ),
            None => format!(
                "invalid bulkhead `type` \"{value}\"; fusebox provides \"SEMAPHORE\", the default"
            ),
        }
    };
    Err(syn::Error::new(lit.span(), message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<NamedArgs> {
        NamedArgs::parse_at(&BULKHEAD, tokens, None)
    }

    #[test]
    fn semaphore_only() {
        assert!(parse(quote!(name = "a", type = "SEMAPHORE")).is_ok());
        let err = parse(quote!(name = "a", type = "THREADPOOL"))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("thread-pool bulkhead is not provided"),
            "{err}"
        );
        let err = parse(quote!(name = "a", type = "SEMAPHOR")).err().unwrap();
        assert!(
            err.to_string().contains("did you mean \"SEMAPHORE\""),
            "{err}"
        );
        let err = parse(quote!(name = "a", type = SEMAPHORE)).err().unwrap();
        assert!(
            err.to_string().contains("expected a string literal"),
            "{err}"
        );
    }

    #[test]
    fn config_properties_and_misspellings() {
        let err = parse(quote!(name = "a", max_concurrent_calls = 5))
            .err()
            .unwrap();
        assert!(err.to_string().contains(
            "`max_concurrent_calls` is a property of the bulkhead's config, not an option of `#[bulkhead]`: set it in `[bulkhead.instances.<name>]`"
        ));
        let err = parse(quote!(name = "a", fallbak = "f")).err().unwrap();
        assert!(err.to_string().contains("did you mean `fallback`"), "{err}");
        let err = parse(quote!(name = "a", permits = 2)).err().unwrap();
        assert!(
            err.to_string()
                .contains("unknown `#[bulkhead]` option `permits`"),
            "{err}"
        );
        let err = parse(quote!(fallback = "f")).err().unwrap();
        assert!(err.to_string().contains("every bulkhead is named"));
    }
}
