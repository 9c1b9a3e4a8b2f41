//! TOML scenario bytes → parse → validate → compile → cohort run (and, for
//! inputs of even length, a 50-child microsimulation).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    lifecost_fuzz::exercise(data, lifecost_fuzz::Format::Toml);
});
