#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fielddb_fuzz::check_keycode_decoder(data));
