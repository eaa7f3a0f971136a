//! PEM, bounded: untrusted input is size-checked before it is decoded.

use der::pem::LineEnding;

use crate::{PkiError, PkiResult};

/// Line endings of PEM text the API returns.
pub use der::pem::LineEnding as Eol;

/// The largest PEM document OpenCCM decodes (a certificate chain of 2 MiB,
/// the largest documented field).
pub const MAX_PEM_BYTES: usize = 2 * 1024 * 1024;

/// One decoded PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The label (`CERTIFICATE`, `CERTIFICATE REQUEST`, ...).
    pub label: String,
    /// The DER bytes.
    pub der: Vec<u8>,
}

/// Splits `text` into PEM blocks. Text outside blocks is refused, except
/// whitespace, so that garbage never passes for a certificate.
pub fn decode_all(text: &str) -> PkiResult<Vec<Block>> {
    if text.len() > MAX_PEM_BYTES {
        return Err(PkiError::Certificate(format!(
            "PEM input is larger than {MAX_PEM_BYTES} bytes"
        )));
    }
    let normalized = text.replace("\r\n", "\n");
    let mut blocks = Vec::new();
    let mut rest = normalized.trim();
    while !rest.is_empty() {
        let Some(begin) = rest.strip_prefix("-----BEGIN ") else {
            return Err(PkiError::Certificate("text outside a PEM block".to_owned()));
        };
        let (label, _) = begin
            .split_once("-----")
            .ok_or_else(|| PkiError::Certificate("malformed PEM header".to_owned()))?;
        let end_marker = format!("-----END {label}-----");
        let end = rest
            .find(&end_marker)
            .ok_or_else(|| PkiError::Certificate(format!("PEM block {label} has no END line")))?;
        let block = &rest[..end + end_marker.len()];
        let (decoded_label, der) = der::pem::decode_vec(block.as_bytes())
            .map_err(|e| PkiError::Certificate(format!("malformed PEM block {label}: {e}")))?;
        blocks.push(Block {
            label: decoded_label.to_owned(),
            der,
        });
        rest = rest[end + end_marker.len()..].trim_start();
    }
    Ok(blocks)
}

/// Encodes DER as PEM with `label` and the given line endings.
pub fn encode(label: &str, der: &[u8], eol: LineEnding) -> PkiResult<String> {
    der::pem::encode_string(label, eol, der).map_err(crate::encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_and_garbage_is_refused() {
        let pem = encode(
            "CERTIFICATE",
            &[0x30, 0x03, 0x02, 0x01, 0x01],
            LineEnding::CRLF,
        )
        .unwrap();
        assert!(pem.contains("\r\n"));
        let two = format!("{pem}\n{pem}");
        let blocks = decode_all(&two).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "CERTIFICATE");
        assert!(decode_all("garbage").is_err());
        assert!(decode_all(&format!("junk{pem}")).is_err());
        assert!(decode_all("-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
        assert!(decode_all(&"A".repeat(MAX_PEM_BYTES + 1)).is_err());
        assert!(decode_all("").unwrap().is_empty());
    }
}
