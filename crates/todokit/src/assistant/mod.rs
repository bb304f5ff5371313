pub mod offline;
pub mod widgets;
