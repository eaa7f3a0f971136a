//! The OCSP responder: a request parsed, answered from the store (or the
//! cache of answers to nonce-less single requests), signed by the CA.

use super::{
    CaId, OcspAnswer, Pca, Refusal, Result, SerialStatus, Status, MAX_CACHED_OCSP,
    MAX_CACHED_REQUEST,
};
use crate::metrics::OcspAnswerKind;
use openccm_pki::ocsp;

impl Pca {
    /// The OCSP responder of a CA (`POST /pca/ocsp/{ca_id}`, and GET with
    /// the request in the path). Never fails: every failure is an OCSP
    /// refusal (malformedRequest, unauthorized, internalError).
    ///
    /// `ca_id` is `None` when the path names no CA id at all: such a request
    /// is answered as for an unknown CA.
    pub async fn ocsp(&self, ca_id: Option<&CaId>, request: &[u8]) -> OcspAnswer {
        let answer = match self.answer_ocsp(ca_id, request).await {
            Ok(answer) => answer,
            Err(err) => {
                tracing::error!(error = %err, ca_id = ?ca_id.map(CaId::as_str), "OCSP answer failed");
                OcspAnswer::refused(Refusal::Internal)
            }
        };
        // Cached and signed answers are counted where they are made.
        if answer.validity.is_none() {
            crate::metrics::ocsp_answer(OcspAnswerKind::Refused);
        }
        answer
    }

    async fn answer_ocsp(&self, ca_id: Option<&CaId>, request: &[u8]) -> Result<OcspAnswer> {
        let Some(id) = ca_id else {
            return Ok(match ocsp::parse_request(request) {
                Ok(_) => OcspAnswer::refused(Refusal::Unauthorized),
                Err(refusal) => OcspAnswer::refused(refusal),
            });
        };
        let now = self.now();
        let validity = self.settings.revocation.ocsp_validity_ms;
        // A request seen before, byte for byte: its answer stands until the
        // CA changes (which empties the slot) or half its validity passes.
        let cached = self.revocation.peek(id, |slot| {
            let slot = slot?;
            let issuer = slot.issuer.as_ref()?;
            if issuer.is_gone(now) || !issuer.record.ocsp_enabled {
                return None;
            }
            slot.ocsp.get(request).cloned()
        });
        if let Some(answer) = cached.filter(|a| {
            a.validity
                .is_some_and(|(this_update, _)| now < this_update + validity / 2)
        }) {
            crate::metrics::ocsp_answer(OcspAnswerKind::Cached);
            return Ok(answer);
        }
        let parsed = match ocsp::parse_request(request) {
            Ok(parsed) => parsed,
            Err(refusal) => return Ok(OcspAnswer::refused(refusal)),
        };
        let stamp = self.revocation.stamp(id);
        let Some(issuer) = self.issuer(id).await? else {
            return Ok(OcspAnswer::refused(Refusal::Unauthorized));
        };
        if !issuer.record.ocsp_enabled
            || !parsed
                .questions
                .iter()
                .all(|q| issuer.hashes.asks_about_me(q))
        {
            return Ok(OcspAnswer::refused(Refusal::Unauthorized));
        }
        let mut statuses = Vec::with_capacity(parsed.questions.len());
        for question in &parsed.questions {
            statuses.push(
                match self.store.serial_status(id, &question.serial_hex()).await? {
                    SerialStatus::Good => Status::Good,
                    SerialStatus::Unknown => Status::Unknown,
                    SerialStatus::Revoked { revoked_at, reason } => Status::Revoked {
                        at: revoked_at,
                        reason: reason.crl_code(),
                    },
                },
            );
        }
        let shared = parsed.questions.len() == 1 && parsed.nonce.is_none();
        // Anyone may ask about any serial: `unknown` answers are not kept.
        let keep =
            shared && request.len() <= MAX_CACHED_REQUEST && !statuses.contains(&Status::Unknown);
        let this_update = openccm_pki::time::truncate_to_seconds(now);
        let next_update = this_update + validity;
        let signing = issuer.clone();
        let der = self
            .pools
            .signing
            .run(move || {
                let answers: Vec<ocsp::Answer<'_>> = parsed
                    .questions
                    .iter()
                    .zip(statuses)
                    .map(|(q, status)| ocsp::Answer {
                        cert_id: &q.cert_id,
                        status,
                    })
                    .collect();
                ocsp::sign_response(
                    &ocsp::Responder {
                        key_algorithm: signing.key_algorithm,
                        hash: signing.hash,
                        key_hash: &signing.key_hash,
                    },
                    &answers,
                    this_update,
                    next_update,
                    parsed.nonce.as_ref(),
                    signing.signer.as_ref(),
                )
            })
            .await??;
        let answer = OcspAnswer::new(der, Some((this_update, next_update)), shared);
        crate::metrics::ocsp_answer(OcspAnswerKind::Signed);
        if keep {
            let entries = &self.revocation.ocsp_entries;
            self.revocation.store_if(id, stamp, |slot| {
                use std::sync::atomic::Ordering;
                if entries.load(Ordering::SeqCst) < MAX_CACHED_OCSP
                    && slot.ocsp.insert(request.to_vec(), answer.clone()).is_none()
                {
                    entries.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        Ok(answer)
    }
}
