//! Arbitrary bytes into `Encoding::MsgPack.decode_frame`: no panic, and every frame that
//! decodes survives `encode_frame` and a second decode unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    volley_fuzz::roundtrip::check(volley::Encoding::MsgPack, data);
});
