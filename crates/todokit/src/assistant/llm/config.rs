//! Which model to talk to, and how patiently: flags / environment variables
//! ([`LlmArgs`]) resolved into an [`LlmConfig`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use clap::Args;
use reqwest::Url;

/// Gemini's OpenAI-compatible endpoint, the default provider.
pub const GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta/openai/";
pub const GEMINI_DEFAULT_MODEL: &str = "gemini-2.5-flash";
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
pub const OPENAI_DEFAULT_MODEL: &str = "gpt-4.1-mini";

const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
const DEFAULT_FIRST_TOKEN_TIMEOUT_SECS: u64 = 30;
const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 30;
const DEFAULT_RUN_TIMEOUT_SECS: u64 = 120;
const DEFAULT_MAX_RETRIES: u32 = 2;
const DEFAULT_MAX_RETRY_WAIT_SECS: u64 = 20;
const DEFAULT_MAX_STEPS: u32 = 8;
/// Fits most hosted models with room to spare and keeps a long thread's requests cheap;
/// a smaller local model's server says when it is too much, and the run retries shorter.
const DEFAULT_CONTEXT_TOKENS: u64 = 16_000;
/// The smallest budget accepted: the instructions and tools alone take about 3,000 tokens.
const MIN_CONTEXT_TOKENS: u64 = 1_000;

/// An API key. Its `Debug` and `Display` never show the value, so it cannot
/// end up in logs by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The secret itself; only for the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl FromStr for ApiKey {
    type Err = std::convert::Infallible;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Self(value.trim().to_owned()))
    }
}

/// Model settings as flags and environment variables (flattened into
/// [`crate::Config`]).
///
/// Provider selection, first match wins:
/// 1. `TODOKIT_LLM_BASE_URL`: any OpenAI-compatible server (Ollama, vLLM, a
///    proxy, …). Key: `TODOKIT_LLM_API_KEY` (optional); `GEMINI_API_KEY` /
///    `OPENAI_API_KEY` are only used when the URL is Google's / OpenAI's.
/// 2. `TODOKIT_LLM_API_KEY` alone: Gemini.
/// 3. `GEMINI_API_KEY`: Gemini (`gemini-2.5-flash`).
/// 4. `OPENAI_API_KEY`: OpenAI (`gpt-4.1-mini`).
/// 5. Nothing: no model; the offline assistant answers.
///
/// `TODOKIT_LLM_MODEL` overrides the model in every case.
#[derive(Clone, Args)]
pub struct LlmArgs {
    /// Base URL of an OpenAI-compatible Chat Completions API (…/v1).
    #[arg(long = "llm-base-url", env = "TODOKIT_LLM_BASE_URL")]
    pub base_url: Option<String>,

    /// API key for the model provider.
    #[arg(long = "llm-api-key", env = "TODOKIT_LLM_API_KEY", hide_env_values = true)]
    pub api_key: Option<ApiKey>,

    /// Model name (default: gemini-2.5-flash for Gemini, gpt-4.1-mini for OpenAI).
    #[arg(long = "llm-model", env = "TODOKIT_LLM_MODEL")]
    pub model: Option<String>,

    /// Gemini API key; alone, it selects Gemini's OpenAI-compatible endpoint.
    #[arg(long = "gemini-api-key", env = "GEMINI_API_KEY", hide_env_values = true)]
    pub gemini_api_key: Option<ApiKey>,

    /// OpenAI API key; alone, it selects OpenAI.
    #[arg(long = "openai-api-key", env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<ApiKey>,

    /// Seconds allowed to open a connection to the provider.
    #[arg(long = "llm-connect-timeout", env = "TODOKIT_LLM_CONNECT_TIMEOUT_SECS", default_value_t = DEFAULT_CONNECT_TIMEOUT_SECS)]
    pub connect_timeout_secs: u64,

    /// Seconds allowed from sending a request to the first streamed chunk.
    #[arg(long = "llm-first-token-timeout", env = "TODOKIT_LLM_FIRST_TOKEN_TIMEOUT_SECS", default_value_t = DEFAULT_FIRST_TOKEN_TIMEOUT_SECS)]
    pub first_token_timeout_secs: u64,

    /// Seconds allowed between two streamed chunks.
    #[arg(long = "llm-idle-timeout", env = "TODOKIT_LLM_IDLE_TIMEOUT_SECS", default_value_t = DEFAULT_IDLE_TIMEOUT_SECS)]
    pub idle_timeout_secs: u64,

    /// Seconds a whole assistant run (all model calls and tools) may take.
    #[arg(long = "llm-run-timeout", env = "TODOKIT_LLM_RUN_TIMEOUT_SECS", default_value_t = DEFAULT_RUN_TIMEOUT_SECS)]
    pub run_timeout_secs: u64,

    /// Retries of a model request that failed before its first chunk
    /// (HTTP 429, 5xx, connection errors).
    #[arg(long = "llm-max-retries", env = "TODOKIT_LLM_MAX_RETRIES", default_value_t = DEFAULT_MAX_RETRIES)]
    pub max_retries: u32,

    /// Longest wait before a retry, in seconds; a longer `Retry-After` ends the run instead.
    #[arg(long = "llm-max-retry-wait", env = "TODOKIT_LLM_MAX_RETRY_WAIT_SECS", default_value_t = DEFAULT_MAX_RETRY_WAIT_SECS)]
    pub max_retry_wait_secs: u64,

    /// Model calls allowed in one run before the assistant stops with a message.
    #[arg(long = "llm-max-steps", env = "TODOKIT_LLM_MAX_STEPS", default_value_t = DEFAULT_MAX_STEPS, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_steps: u32,

    /// Context budget of one model request, in estimated tokens: instructions, tools,
    /// history and room for the answer. The oldest turns are left out to fit.
    #[arg(long = "llm-context-tokens", env = "TODOKIT_LLM_CONTEXT_TOKENS", default_value_t = DEFAULT_CONTEXT_TOKENS, value_parser = clap::value_parser!(u64).range(MIN_CONTEXT_TOKENS..))]
    pub context_tokens: u64,
}

impl Default for LlmArgs {
    /// No model configured; the documented default limits.
    fn default() -> Self {
        Self {
            base_url: None,
            api_key: None,
            model: None,
            gemini_api_key: None,
            openai_api_key: None,
            connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
            first_token_timeout_secs: DEFAULT_FIRST_TOKEN_TIMEOUT_SECS,
            idle_timeout_secs: DEFAULT_IDLE_TIMEOUT_SECS,
            run_timeout_secs: DEFAULT_RUN_TIMEOUT_SECS,
            max_retries: DEFAULT_MAX_RETRIES,
            max_retry_wait_secs: DEFAULT_MAX_RETRY_WAIT_SECS,
            max_steps: DEFAULT_MAX_STEPS,
            context_tokens: DEFAULT_CONTEXT_TOKENS,
        }
    }
}

impl fmt::Debug for LlmArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are `ApiKey`s, which redact themselves.
        f.debug_struct("LlmArgs")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("model", &self.model)
            .field("gemini_api_key", &self.gemini_api_key)
            .field("openai_api_key", &self.openai_api_key)
            .field("run_timeout_secs", &self.run_timeout_secs)
            .finish_non_exhaustive()
    }
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum LlmConfigError {
    #[error("TODOKIT_LLM_BASE_URL is not a valid http(s) URL: {0}")]
    InvalidBaseUrl(String),
    #[error("TODOKIT_LLM_MODEL is required with a custom TODOKIT_LLM_BASE_URL")]
    MissingModel,
}

/// Which kind of server we talk to; decides small wire differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Gemini,
    OpenAi,
    /// Ollama, vLLM, LiteLLM, … (anything else OpenAI-compatible).
    Compatible,
}

impl Provider {
    fn of(url: &Url) -> Self {
        match url.host_str() {
            Some("generativelanguage.googleapis.com") => Provider::Gemini,
            Some(host) if host.ends_with("aiplatform.googleapis.com") => Provider::Gemini,
            Some("api.openai.com") => Provider::OpenAi,
            _ => Provider::Compatible,
        }
    }
}

/// A resolved model configuration.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    pub provider: Provider,
    /// Base URL without a trailing slash; requests go to `{base_url}/chat/completions`.
    pub base_url: Url,
    pub api_key: Option<ApiKey>,
    pub model: String,
    pub connect_timeout: Duration,
    pub first_token_timeout: Duration,
    pub idle_timeout: Duration,
    pub run_timeout: Duration,
    pub max_retries: u32,
    /// First backoff delay; doubles per retry (with jitter).
    pub retry_base_delay: Duration,
    /// Longest wait before a retry (also the bound on `Retry-After`).
    pub max_retry_wait: Duration,
    pub max_steps: usize,
    /// Context budget of one request, in estimated tokens (see [`crate::assistant::agent`]).
    pub context_tokens: usize,
}

impl LlmConfig {
    /// A configuration for `base_url` and `model` with the default limits.
    pub fn new(
        base_url: &str,
        api_key: Option<ApiKey>,
        model: impl Into<String>,
    ) -> Result<Self, LlmConfigError> {
        let args = LlmArgs::default();
        let base_url = parse_base_url(base_url)?;
        Ok(Self {
            provider: Provider::of(&base_url),
            base_url,
            api_key,
            model: model.into(),
            connect_timeout: Duration::from_secs(args.connect_timeout_secs),
            first_token_timeout: Duration::from_secs(args.first_token_timeout_secs),
            idle_timeout: Duration::from_secs(args.idle_timeout_secs),
            run_timeout: Duration::from_secs(args.run_timeout_secs),
            max_retries: args.max_retries,
            retry_base_delay: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(args.max_retry_wait_secs),
            max_steps: args.max_steps as usize,
            context_tokens: args.context_tokens as usize,
        })
    }

    /// The chat completions endpoint.
    pub fn chat_url(&self) -> Url {
        let mut url = self.base_url.clone();
        let path = format!("{}/chat/completions", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }
}

impl LlmArgs {
    /// The configured model, or `None` when no provider is configured (the
    /// offline assistant is used then).
    pub fn resolve(&self) -> Result<Option<LlmConfig>, LlmConfigError> {
        let base_url = non_empty(self.base_url.as_deref());
        let api_key = non_empty_key(&self.api_key);
        let gemini_key = non_empty_key(&self.gemini_api_key);
        let openai_key = non_empty_key(&self.openai_api_key);
        let model = non_empty(self.model.as_deref()).map(str::to_owned);

        let (url, key, default_model) = if let Some(base_url) = base_url {
            let url = parse_base_url(base_url)?;
            // A provider-specific key only goes to that provider's own host.
            let key = api_key.or(match Provider::of(&url) {
                Provider::Gemini => gemini_key,
                Provider::OpenAi => openai_key,
                Provider::Compatible => None,
            });
            let default_model = match Provider::of(&url) {
                Provider::Gemini => Some(GEMINI_DEFAULT_MODEL),
                Provider::OpenAi => Some(OPENAI_DEFAULT_MODEL),
                Provider::Compatible => None,
            };
            (url, key, default_model)
        } else if let Some(key) = api_key.or(gemini_key) {
            (parse_base_url(GEMINI_BASE_URL)?, Some(key), Some(GEMINI_DEFAULT_MODEL))
        } else if let Some(key) = openai_key {
            (parse_base_url(OPENAI_BASE_URL)?, Some(key), Some(OPENAI_DEFAULT_MODEL))
        } else {
            return Ok(None);
        };
        let model = model.or(default_model.map(str::to_owned)).ok_or(LlmConfigError::MissingModel)?;
        let mut config = LlmConfig::new(url.as_str(), key, model)?;
        config.connect_timeout = Duration::from_secs(self.connect_timeout_secs);
        config.first_token_timeout = Duration::from_secs(self.first_token_timeout_secs);
        config.idle_timeout = Duration::from_secs(self.idle_timeout_secs);
        config.run_timeout = Duration::from_secs(self.run_timeout_secs);
        config.max_retries = self.max_retries;
        config.max_retry_wait = Duration::from_secs(self.max_retry_wait_secs);
        config.max_steps = self.max_steps.max(1) as usize;
        config.context_tokens = self.context_tokens.max(MIN_CONTEXT_TOKENS) as usize;
        Ok(Some(config))
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

fn non_empty_key(key: &Option<ApiKey>) -> Option<ApiKey> {
    key.clone().filter(|key| !key.expose().is_empty())
}

fn parse_base_url(raw: &str) -> Result<Url, LlmConfigError> {
    let url = Url::parse(raw.trim()).map_err(|error| LlmConfigError::InvalidBaseUrl(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(LlmConfigError::InvalidBaseUrl(format!("{raw:?} must be an http(s) URL")));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(value: &str) -> Option<ApiKey> {
        Some(ApiKey::new(value))
    }

    #[test]
    fn the_flags_fit_into_the_app_config() {
        use clap::{CommandFactory, Parser};
        crate::Config::command().debug_assert();
        let config = crate::Config::try_parse_from([
            "todokit",
            "--llm-base-url",
            "http://localhost:11434/v1",
            "--llm-model",
            "llama3.2",
            "--llm-run-timeout",
            "60",
            "--llm-context-tokens",
            "8000",
        ])
        .unwrap();
        let llm = config.llm.resolve().unwrap().unwrap();
        assert_eq!((llm.model.as_str(), llm.run_timeout), ("llama3.2", Duration::from_secs(60)));
        assert_eq!(llm.context_tokens, 8000);
        let too_small = crate::Config::try_parse_from(["todokit", "--llm-context-tokens", "10"]);
        assert!(too_small.is_err(), "a budget smaller than the instructions is refused");
    }

    #[test]
    fn nothing_configured_means_no_model() {
        assert!(LlmArgs::default().resolve().unwrap().is_none());
        let blank = LlmArgs { api_key: key(""), base_url: Some("  ".into()), ..LlmArgs::default() };
        assert!(blank.resolve().unwrap().is_none());
    }

    #[test]
    fn gemini_key_alone_selects_gemini() {
        let config = LlmArgs { gemini_api_key: key("g"), ..LlmArgs::default() }.resolve().unwrap().unwrap();
        assert_eq!(config.provider, Provider::Gemini);
        assert_eq!(config.model, "gemini-2.5-flash");
        assert_eq!(
            config.chat_url().as_str(),
            "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions"
        );
        assert_eq!(config.api_key, key("g"));
        assert_eq!(config.run_timeout, Duration::from_secs(120));
    }

    #[test]
    fn openai_key_alone_selects_openai() {
        let config = LlmArgs { openai_api_key: key("o"), ..LlmArgs::default() }.resolve().unwrap().unwrap();
        assert_eq!(config.provider, Provider::OpenAi);
        assert_eq!(config.chat_url().as_str(), "https://api.openai.com/v1/chat/completions");
        assert_eq!(config.model, OPENAI_DEFAULT_MODEL);
    }

    #[test]
    fn gemini_wins_when_both_provider_keys_are_set() {
        let args = LlmArgs { openai_api_key: key("o"), gemini_api_key: key("g"), ..LlmArgs::default() };
        assert_eq!(args.resolve().unwrap().unwrap().provider, Provider::Gemini);
    }

    #[test]
    fn custom_base_url_needs_a_model_and_never_gets_provider_keys() {
        let args = LlmArgs {
            base_url: Some("http://localhost:11434/v1/".into()),
            openai_api_key: key("o"),
            gemini_api_key: key("g"),
            ..LlmArgs::default()
        };
        assert!(matches!(args.resolve(), Err(LlmConfigError::MissingModel)));
        let args = LlmArgs { model: Some("llama3.2".into()), ..args };
        let config = args.resolve().unwrap().unwrap();
        assert_eq!(config.provider, Provider::Compatible);
        assert_eq!(config.api_key, None);
        assert_eq!(config.model, "llama3.2");
        assert_eq!(config.chat_url().as_str(), "http://localhost:11434/v1/chat/completions");
    }

    #[test]
    fn explicit_settings_override_the_defaults() {
        let args = LlmArgs {
            base_url: Some("https://api.openai.com/v1".into()),
            openai_api_key: key("o"),
            model: Some("gpt-5".into()),
            run_timeout_secs: 30,
            ..LlmArgs::default()
        };
        let config = args.resolve().unwrap().unwrap();
        assert_eq!((config.provider, config.model.as_str()), (Provider::OpenAi, "gpt-5"));
        assert_eq!(config.api_key, key("o"));
        assert_eq!(config.run_timeout, Duration::from_secs(30));
    }

    #[test]
    fn bad_base_url_is_a_clear_error() {
        let args = LlmArgs {
            base_url: Some("localhost:8080".into()),
            model: Some("m".into()),
            ..LlmArgs::default()
        };
        assert!(matches!(args.resolve(), Err(LlmConfigError::InvalidBaseUrl(_))));
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let args = LlmArgs {
            api_key: key("sk-secret-value"),
            gemini_api_key: key("AIza-secret"),
            ..LlmArgs::default()
        };
        let shown = format!("{args:?} {:?}", args.resolve().unwrap());
        assert!(!shown.contains("secret"), "{shown}");
    }
}
