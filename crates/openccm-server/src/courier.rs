//! Carries expiry notices (`openccm_app::notify`): e-mail through the
//! configured SMTP server (lettre: STARTTLS or TLS with rustls, AUTH), and
//! webhooks as an HTTPS or HTTP POST (reqwest, rustls).

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use openccm_app::notify::{Courier, Notice};
use zeroize::Zeroizing;

/// Time allowed to a webhook receiver or an SMTP exchange.
const TIMEOUT: Duration = Duration::from_secs(15);

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// STARTTLS, required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// None: a relay on loopback or a trusted network only.
    Plain,
}

/// The SMTP server notices go out through.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<(String, Zeroizing<String>)>,
    pub from: String,
    /// A CA certificate (PEM) to trust besides the public roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// SMTP and HTTP delivery.
pub struct NetCourier {
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, lettre::message::Mailbox)>,
    http: reqwest::Client,
}

impl NetCourier {
    /// A courier for `smtp` (none: e-mail notices wait, and say why).
    pub fn new(smtp: Option<&SmtpSettings>) -> Result<Self, String> {
        let smtp = match smtp {
            Some(settings) => Some((
                transport(settings)?,
                settings
                    .from
                    .parse()
                    .map_err(|e| format!("smtp_from {:?} is not an address: {e}", settings.from))?,
            )),
            None => None,
        };
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A receiver answers; it does not send the event elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("OpenCCM/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the webhook client: {e}"))?;
        Ok(Self { smtp, http })
    }
}

fn transport(s: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let tls = |s: &SmtpSettings| -> Result<TlsParameters, String> {
        let mut builder = TlsParameters::builder(s.host.clone());
        if let Some(pem) = &s.ca_pem {
            builder = builder.add_root_certificate(
                Certificate::from_pem(pem).map_err(|e| format!("smtp_ca_file: {e}"))?,
            );
        }
        builder.build_rustls().map_err(|e| format!("SMTP TLS: {e}"))
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
        .port(s.port)
        .timeout(Some(TIMEOUT));
    builder = match s.security {
        SmtpSecurity::StartTls => builder.tls(Tls::Required(tls(s)?)),
        SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls(s)?)),
        SmtpSecurity::Plain => builder.tls(Tls::None),
    };
    if let Some((user, password)) = &s.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.to_string()));
    }
    Ok(builder.build())
}

#[async_trait::async_trait]
impl Courier for NetCourier {
    async fn email(&self, to: &[String], notice: &Notice) -> Result<(), String> {
        let Some((transport, from)) = &self.smtp else {
            return Err("no SMTP server is configured (smtp_server)".to_owned());
        };
        let mut message = Message::builder()
            .from(from.clone())
            .subject(notice.subject())
            .header(ContentType::TEXT_PLAIN);
        for address in to {
            message = message.to(address
                .parse()
                .map_err(|e| format!("{address:?} is not an address: {e}"))?);
        }
        let mut message = message
            .body(notice.text())
            .map_err(|e| format!("cannot build the message: {e}"))?;
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-OpenCCM-Event-Id"),
            notice.entry.event_id.clone(),
        ));
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }

    async fn webhook(&self, url: &str, notice: &Notice, signature: &str) -> Result<(), String> {
        let answer = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("x-openccm-event-id", &notice.entry.event_id)
            .header("x-openccm-signature", signature)
            .body(notice.json.clone())
            .send()
            .await
            // The URL may carry a token: errors (logged, stored) omit it.
            .map_err(|e| format!("webhook: {}", e.without_url()))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("webhook answered {}", answer.status()))
        }
    }
}
