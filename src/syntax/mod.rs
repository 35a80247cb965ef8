//! Model source → spanned AST. Knows nothing of the IR's semantics.

pub mod ast;
mod parser;

pub use parser::{
    MAX_DEPTH, MAX_LITERAL_BITS, MAX_SOURCE_LEN, Parsed, decode_source, parse, parse_recovering,
};
