//! ChatKit request parsing: any body is either a request or a `RequestParseError`, never a
//! panic; and a parsed request survives a serialize → parse round trip unchanged.
#![no_main]

use chatkit::Request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let Ok(request) = Request::from_slice(body) else { return };
    let reencoded = serde_json::to_vec(&request).expect("a parsed request serializes");
    let reparsed = Request::from_slice(&reencoded).expect("a serialized request parses");
    assert_eq!(request, reparsed, "round trip changed the request");
});
