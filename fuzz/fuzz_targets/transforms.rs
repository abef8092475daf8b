//! Arbitrary YAML/JSON documents through the xtask's spec transforms and the OpenAPI parser.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    xtask::fuzz_transforms(data);
});
