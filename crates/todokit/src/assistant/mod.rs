pub mod agent;
pub mod llm;
