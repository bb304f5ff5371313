//! Provider-looking random ids, without pulling in a random-number crate.

use std::sync::atomic::{AtomicU64, Ordering};

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A lock-free SplitMix64 sequence; ids only need to be unique-looking, not unpredictable.
#[derive(Debug)]
pub(crate) struct IdSource {
    state: AtomicU64,
}

impl IdSource {
    pub(crate) fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        IdSource { state: AtomicU64::new(seed) }
    }

    fn next(&self) -> u64 {
        let mut value = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        value ^ (value >> 31)
    }

    fn string(&self, alphabet: &[u8], length: usize) -> String {
        let mut out = String::with_capacity(length);
        let mut bits = self.next();
        for position in 0..length {
            if position % 8 == 7 {
                bits = self.next();
            }
            out.push(char::from(alphabet[(bits % alphabet.len() as u64) as usize]));
            bits >>= 8;
        }
        out
    }

    /// `chatcmpl-` plus 29 characters, like OpenAI's completion ids.
    pub(crate) fn openai_completion_id(&self) -> String {
        format!("chatcmpl-{}", self.string(ALPHANUMERIC, 29))
    }

    /// `call_` plus 24 characters, like OpenAI's tool-call ids.
    pub(crate) fn openai_tool_call_id(&self) -> String {
        format!("call_{}", self.string(ALPHANUMERIC, 24))
    }

    /// A 22-character URL-safe id, like Gemini's `responseId`.
    pub(crate) fn gemini_response_id(&self) -> String {
        self.string(BASE64_URL, 22)
    }

    /// An 8-character lowercase id, as captured from Gemini's OpenAI-compatible endpoint.
    pub(crate) fn gemini_tool_call_id(&self) -> String {
        self.string(LOWER_ALPHANUMERIC, 8)
    }

    /// `cmpl-` plus a UUID-shaped id, as llama-cpp-python names its completions (its chat
    /// chunks put `chat` in front).
    pub(crate) fn llamacpp_completion_id(&self) -> String {
        let hex = self.string(b"0123456789abcdef", 32);
        format!("cmpl-{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
    }

    /// An opaque base64-looking thought signature.
    pub(crate) fn thought_signature(&self) -> String {
        format!("Cq{}==", self.string(BASE64, 62))
    }
}
