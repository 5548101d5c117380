//! Helpers shared by the property-test files (each `tests/*.rs` is its own crate, so shared code
//! lives in this module and is included with `mod common;`).

use proptest::prelude::*;

/// Reports glued from up to 40 pieces: the given fragments (which exercise a recogniser),
/// arbitrary Unicode, and short runs matching `filler` (a proptest regex).
pub fn fragment_soup(
    fragments: &'static [&'static str],
    filler: &'static str,
) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![prop::sample::select(fragments).prop_map(str::to_string), any::<String>(), filler,],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}
