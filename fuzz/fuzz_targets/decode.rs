//! Arbitrary status, headers and body through each vendor's decoding and the facade's mapping.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = disconnect::fuzzing::decode(data);
});
