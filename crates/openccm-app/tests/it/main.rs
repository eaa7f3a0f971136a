//! Integration tests of the application layer.

mod sdk_vectors;
